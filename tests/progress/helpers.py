"""Helpers of the progress, goals and notification tests: matches played by the real
engine and stored by the real storage path, and a school (two teachers, their classes,
students, an admin)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace

import asyncpg

from server.game import Match, MatchFinished, SeatSpec
from server.game.replay import seat_edits
from server.storage.matches import save_outcome
from server.types import MatchId, PlayerId
from tests.classes.helpers import admin_token, new_class, new_student, ok, register, student_sign_in
from tests.conftest import Node
from tests.game.helpers import Driver, config

WORD = "lantern "


async def play(
    pool: asyncpg.Pool,
    words: dict[str, int],
    *,
    at: float | None = None,
    minutes: float = 1.0,
) -> str:
    """A ranked match of the given writers (user id → words written; the offline fake
    scores 1 + words/10 on every trait) and bots to make four seats, played by the engine
    and stored with save_outcome.  Each writer writes in two edits ``minutes`` apart."""
    humans = [PlayerId(u) for u in words]
    bots = [PlayerId(f"bot:{i}") for i in range(max(0, 4 - len(humans)))]
    seats = (
        *(SeatSpec(p, is_bot=False) for p in humans),
        *(SeatSpec(b, is_bot=True) for b in bots),
    )
    cfg = replace(config(len(seats)), match_id=MatchId(str(uuid.uuid4())), seats=seats)
    now = time.time() if at is None else at
    match, effects = Match.create(cfg, now)
    d = Driver(match, now=now)
    d.effects.extend(effects)
    d.lobby()
    for p in humans:
        half = words[p] // 2
        d.write(p, WORD * half)
    d.advance(60 * minutes)
    for p in humans:
        d.write(p, WORD * (words[p] - words[p] // 2))
    d.advance(243 - 60 * minutes)  # to the end of the write phase (4 minutes)
    d.review_all()
    d.advance(5)
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    assert await save_outcome(
        pool, finished.outcome, node_id="n1", mode="ranked", edits=seat_edits(d.match.log)
    )
    return str(cfg.match_id)


@dataclass
class Person:
    id: str
    token: str


@dataclass
class School:
    teacher: Person  # teaches class_id, where student and classmate are
    other_teacher: Person  # has a class of their own, without them
    student: Person
    classmate: Person
    admin: Person
    class_id: str


async def person(node: Node, role: str = "player") -> Person:
    body = await register(node, role)
    return Person(body["user"]["id"], body["access_token"])


async def guest(node: Node) -> Person:
    body = await ok(await node.post("/api/v1/auth/guest"), 201)
    return Person(body["user"]["id"], body["access_token"])


async def school(node: Node) -> School:
    teacher, other = await person(node, "teacher"), await person(node, "teacher")
    klass = await new_class(node, teacher.token)
    await new_class(node, other.token, name="8C English")
    students = []
    for name in ("Ann Lee", "Bo Chan"):
        made = await new_student(node, teacher.token, klass["id"], name)
        signed = await ok(await student_sign_in(node, made["student"]["username"], made["code"]))
        students.append(Person(made["student"]["id"], signed["access_token"]))
    admin_id, admin = await admin_token(node)
    return School(teacher, other, students[0], students[1], Person(admin_id, admin), klass["id"])

"""Finished matches with known texts, stored as the runner stores them, and classes.

A match is played on the engine with a fake clock (tests/game/helpers.py): each writer
writes the text given, each reviewer writes a strength and a suggestion naming them, so
a test can look for one person's words in any answer."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import asyncpg

from server.game import SeatSpec, SubmitReview
from server.types import MatchId, PlayerId
from tests.classes.helpers import call, ok, register
from tests.conftest import Node
from tests.game.helpers import Driver, config
from tests.replays.test_api import store


class Person:
    """A registered account and its token."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.id: str = body["user"]["id"]
        self.token: str = body["access_token"]
        self.handle: str = body["user"]["handle"]
        self.name: str = body["user"]["display_name"]


async def person(node: Node, role: str = "player") -> Person:
    return Person(await register(node, role))


def strength_of(p: str) -> str:
    return f"Strength from {p[:8]}"


def suggestion_of(p: str) -> str:
    return f"Suggestion from {p[:8]}"


def play_texts(
    texts: Mapping[str, str], *, ranked: bool = True, bots: int = 1, rating: int = 4
) -> Driver:
    """Play a whole match: each writer (user id) writes ``texts[writer]``; bots fill."""
    seat_ids = [PlayerId(p) for p in texts] + [PlayerId(f"bot:{i}") for i in range(bots)]
    specs = tuple(SeatSpec(p, is_bot=p.startswith("bot:")) for p in seat_ids)
    cfg = replace(
        config(len(seat_ids)),
        match_id=MatchId(str(uuid.uuid4())),
        seats=specs,
        ranked=ranked,
    )
    d = Driver.start(cfg)
    d.lobby()
    for p, text in texts.items():
        d.write(PlayerId(p), text)
    d.advance(243)
    for a in list(d.match.state.assignments):
        if a.submitted or not d.match.seats[a.reviewer].active:
            continue
        d.handle(
            SubmitReview(
                a.reviewer,
                a.assignment_id,
                strength_of(a.reviewer),
                suggestion_of(a.reviewer),
                rating,
            )
        )
    d.advance(40)
    return d


async def match_of(
    database: str, people: Sequence[Person], texts: Sequence[str] | None = None, **kw: Any
) -> str:
    """A finished, stored match of these people (and a bot)."""
    texts = texts or [f"The lamp of {p.handle} burns over the grey sea." for p in people]
    return await store(
        database, play_texts(dict(zip([p.id for p in people], texts, strict=True)), **kw)
    )


async def sql(database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def class_of(node: Node, database: str, teacher: Person, students: Sequence[Person]) -> str:
    """A class of ``teacher`` holding these (self-registered) accounts as members."""
    klass = await ok(
        await call(
            node, "POST", "/api/v1/classes", teacher.token, {"name": "8A", "grade_level": 8}
        ),
        201,
    )
    for s in students:
        await sql(
            database,
            "INSERT INTO class_members (class_id, user_id) VALUES ($1, $2)",
            uuid.UUID(klass["id"]),
            uuid.UUID(s.id),
        )
    return str(klass["id"])


async def seat_alias(database: str, match_id: str, user_id: str) -> str:
    (row,) = await sql(
        database,
        "SELECT alias FROM seats WHERE match_id = $1 AND user_id = $2",
        uuid.UUID(match_id),
        uuid.UUID(user_id),
    )
    return str(row["alias"])


async def review_to(database: str, match_id: str, writer: str, reviewer: str) -> str | None:
    """The public id of the review ``reviewer`` wrote on ``writer``'s piece, if any."""
    rows = await sql(
        database,
        "SELECT review_id FROM reviews WHERE match_id = $1 AND writer_id = $2 AND reviewer_id = $3",
        uuid.UUID(match_id),
        writer,
        reviewer,
    )
    return f"{match_id}/{rows[0]['review_id']}" if rows else None


async def walk(
    node: Node,
    values: Mapping[str, Sequence[str]],
    viewers: Mapping[str, str],
    words: Sequence[str],
) -> int:
    """Call every GET route of the OpenAPI document under ``/api/v1`` as each viewer
    (name → token), path parameters filled from ``values`` (a random uuid for any other),
    and check that no answer holds any of ``words`` and none is a 5xx; how many calls."""
    doc = await ok(await node.get("/api/v1/openapi.json"))
    checked = 0
    for path, ops in sorted(doc["paths"].items()):
        if "get" not in ops or not path.startswith("/api/v1/"):
            continue
        names = [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "path"]
        choices = [values.get(n, [str(uuid.uuid4())]) for n in names]
        for combo in itertools.product(*choices):
            url = path
            for n, v in zip(names, combo, strict=True):
                url = url.replace("{" + n + "}", v)
            for who, token in viewers.items():
                resp = await call(node, "GET", url, token)
                assert resp.status < 500, (url, who, await resp.text())
                text = (await resp.read()).decode("utf-8", "replace")
                for w in words:
                    assert w not in text, (url, who, w)
                checked += 1
    return checked

"""Helpers of the tutor tests: a class with students, pieces with scores, asking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server.http.state import PG
from tests.classes.helpers import (
    call,
    new_class,
    new_student,
    ok,
    register,
    student_sign_in,
)
from tests.conftest import Node

PIECE = (
    "The storm came at night. Old Tom climbed the stairs to check the lamp.\n\n"
    "Far out on the water, a small boat was drifting toward the rocks. Tom swung the beam "
    'toward it and waved his lantern until the boat turned away. "turn back" he shouted.'
)


@dataclass
class Person:
    id: str
    token: str
    name: str


@dataclass
class Classroom:
    teacher: Person
    class_id: str
    students: list[Person]


async def classroom(node: Node, students: int = 2, name: str = "7B English") -> Classroom:
    """A teacher (signed up over REST), their class and students signed in with codes."""
    t = await register(node, "teacher")
    teacher = Person(t["user"]["id"], t["access_token"], t["user"]["display_name"])
    klass = await new_class(node, teacher.token, name)
    people = []
    for i in range(students):
        made = await new_student(node, teacher.token, klass["id"], f"Student {chr(65 + i)}")
        resp = await student_sign_in(node, made["student"]["username"], made["code"])
        body = await ok(resp)
        people.append(Person(body["user"]["id"], body["access_token"], made["student"]["name"]))
    return Classroom(teacher, klass["id"], people)


async def player(node: Node) -> Person:
    """A player with an account of their own, in no class."""
    p = await register(node)
    return Person(p["user"]["id"], p["access_token"], p["user"]["display_name"])


async def add_piece(
    node: Node,
    user_id: str,
    text: str = PIECE,
    traits: dict[str, int] | None = None,
    focus: str = "organization",
    days_ago: int = 1,
) -> str:
    """A finished match in which ``user_id`` wrote ``text``, scored ``traits``."""
    traits = traits or {
        "ideas": 4,
        "organization": 2,
        "voice": 4,
        "word_choice": 4,
        "sentence_fluency": 3,
        "conventions": 4,
        "presentation": 4,
    }
    mid = uuid.uuid4()
    pid = user_id
    at = datetime.now(UTC) - timedelta(days=days_ago)
    async with node.app[PG].acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, finished_at) "
            "VALUES ($1, 'n', 'ranked', true, 'lighthouse-storm', $2, $3)",
            mid,
            focus,
            at,
        )
        await conn.execute(
            "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, "
            "writing, review) VALUES ($1, $2, $3, 'Amber Otter', false, 1, 3.5, 3.5, 3.5)",
            mid,
            pid,
            uuid.UUID(user_id),
        )
        await conn.execute(
            "INSERT INTO submissions (match_id, player_id, text, words, empty, withheld, "
            "edit_log) VALUES ($1, $2, $3, $4, false, false, ''::bytea)",
            mid,
            pid,
            text,
            len(text.split()),
        )
        await conn.execute(
            "INSERT INTO piece_scores (match_id, player_id, overall, rationale, suggestions, "
            "engine, provisional) VALUES ($1, $2, 3.5, 'ok', '[]'::jsonb, 'offline', false)",
            mid,
            pid,
        )
        for trait, value in traits.items():
            await conn.execute(
                "INSERT INTO scores (match_id, player_id, trait, value, engine, provisional) "
                "VALUES ($1, $2, $3, $4, 'offline', false)",
                mid,
                pid,
                trait,
                value,
            )
    return str(mid)


async def ask(node: Node, token: str, question: str, **extra: Any) -> Any:
    """A new thread with ``question``; the answer body (201 expected)."""
    resp = await call(node, "POST", "/api/v1/tutor/threads", token, {"question": question, **extra})
    return await ok(resp, 201)


async def follow_up(node: Node, token: str, thread_id: str, text: str) -> Any:
    resp = await call(
        node, "POST", f"/api/v1/tutor/threads/{thread_id}/messages", token, {"text": text}
    )
    return await ok(resp, 201)


def answer_of(body: Any) -> Any:
    """The tutor's message of an ask's answer."""
    question, answer = body["messages"]
    assert question["author"] == "student" and answer["author"] == "tutor"
    return answer


LOW_QUESTION = "What grade will my teacher give me for this?"
"""A question the offline tutor answers with low confidence (it cannot know)."""

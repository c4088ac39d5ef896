"""Privacy rules (docs/privacy.md) on a real node: a class student's name reaches only
their class and teacher; younger students exist only as class accounts a teacher made;
the per-account REST limit exists (tested on the portfolio: tests/portfolio)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from server.config import Settings
from tests.classes.helpers import call, error_of, new_student, ok, student_sign_in
from tests.conftest import UNTHROTTLED, Node, start_node, unique_handle
from tests.reports.helpers import Person, class_of, match_of, person, sql, walk

STUDENT_NAME = "Octavia Brightwater"
EVENINGS = [{"day": 1, "start": 18 * 60, "minutes": 120}]


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    runner, n = await start_node(settings.replace(limits=UNTHROTTLED), database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


async def class_student(node: Node, teacher: Person, name: str) -> tuple[str, Person, str]:
    """A class of ``teacher`` and a student account made in it; (class id, student,
    username)."""
    klass = await ok(
        await call(
            node, "POST", "/api/v1/classes", teacher.token, {"name": "5C", "grade_level": 5}
        ),
        201,
    )
    made = await new_student(node, teacher.token, klass["id"], name)
    tokens = await ok(await student_sign_in(node, made["student"]["username"], made["code"]))
    return klass["id"], Person(tokens), made["student"]["username"]


async def test_a_students_name_reaches_only_their_class_and_teacher(
    node: Node, database: str
) -> None:
    teacher, other_teacher = await person(node, "teacher"), await person(node, "teacher")
    class_id, student, username = await class_student(node, teacher, STUDENT_NAME)
    stranger, other_player = await person(node), await person(node)
    match_id = await match_of(
        database, [student, stranger, other_player], texts=["A gull.", "A boat.", "A rope."]
    )
    other_class = await class_of(node, database, other_teacher, [other_player])
    seen = await ok(await call(node, "GET", f"/api/v1/classes/{class_id}/students", teacher.token))
    assert STUDENT_NAME in str(seen)  # the teacher sees it (so the search means something)
    checked = await walk(
        node,
        {
            "match_id": [match_id],
            "user_id": [student.id],
            "student_id": [student.id],
            "player_id": [student.id],
            "class_id": [class_id, other_class],
        },
        {"stranger": stranger.token, "other_teacher": other_teacher.token},
        [STUDENT_NAME, username],
    )
    assert checked > 50


async def test_younger_students_are_class_accounts_a_teacher_made(
    node: Node, database: str
) -> None:
    teacher = await person(node, "teacher")
    _, student, _ = await class_student(node, teacher, "Timmy Young")
    (row,) = await sql(
        database,
        "SELECT s.created_by, u.password_hash IS NULL AS no_password, u.role "
        "FROM students s JOIN users u ON u.id = s.user_id WHERE s.user_id = $1",
        uuid.UUID(student.id),
    )
    assert str(row["created_by"]) == teacher.id and row["no_password"] and row["role"] == "player"
    # Nobody signs up as a student, and a sign-up has no class, grade or age to give.
    for extra in ({"role": "student"}, {"class_code": "K7MQXP"}, {"grade_level": 3}):
        resp = await node.post(
            "/api/v1/auth/register",
            {"handle": unique_handle("k"), "password": "correct horse battery", **extra},
        )
        assert (await error_of(resp))[:2] == (422, "validation_failed"), extra


async def test_a_students_name_is_not_shown_to_their_pod(node: Node) -> None:
    teacher = await person(node, "teacher")
    _, student, _ = await class_student(node, teacher, STUDENT_NAME)
    others = [await person(node) for _ in range(2)]
    for p in (student, *others):
        body = {"time_zone": "Europe/Paris", "windows": EVENINGS}
        await ok(await call(node, "PUT", "/api/v1/pods/me/profile", p.token, body))
        await ok(await call(node, "POST", "/api/v1/pods/waitlist", p.token))
    pod = await ok(await call(node, "GET", "/api/v1/pods/me", others[0].token))
    assert pod["pod"] is not None
    assert STUDENT_NAME not in str(pod)
    names = [m["display_name"] for m in pod["pod"]["members"]]
    assert len(names) == 3 and sum(n.startswith("Writer ") for n in names) == 1
    board = await ok(
        await call(node, "GET", f"/api/v1/leaderboards/pods/{pod['pod']['id']}", others[0].token)
    )
    assert STUDENT_NAME not in str(board)
    mine = await ok(await call(node, "GET", "/api/v1/pods/me", student.token))
    assert STUDENT_NAME not in str(mine)  # the same pseudonym for everyone in the pod

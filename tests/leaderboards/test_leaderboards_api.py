"""Leaderboards over REST on real PostgreSQL: who is on each board, order, pages, the
caller's own place, and who may see a class's or a pod's board."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import asyncpg

from tests.classes.helpers import admin_token, call, error_of, new_class, new_student, ok, register
from tests.conftest import Node


async def rate(
    database: str, user_id: str, mu: float, sigma: float = 2.0, matches: int = 5
) -> None:
    """A rating as a finished match would leave it (ratings are written by matches)."""
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "INSERT INTO ratings (user_id, mu, sigma, matches) VALUES ($1, $2, $3, $4)",
            uuid.UUID(user_id),
            mu,
            sigma,
            matches,
        )
    finally:
        await conn.close()


async def board(node: Node, token: str, path: str = "global", **query: Any) -> Any:
    return await ok(await call(node, "GET", f"/api/v1/leaderboards/{path}", token, params=query))


async def test_the_global_board_ranks_by_conservative_rating_and_pages(
    node: Node, database: str
) -> None:
    people = [await register(node) for _ in range(5)]
    # mu - 3 sigma: 30-6=24, 28-3=25, 40-24=16, 25-6=19, 28-3=25 (tie: by id)
    for p, (mu, sigma) in zip(people, [(30, 2), (28, 1), (40, 8), (25, 2), (28, 1)], strict=True):
        await rate(database, p["user"]["id"], mu, sigma)
    guest = await ok(await call(node, "POST", "/api/v1/auth/guest", json={}), 201)
    await rate(database, guest["user"]["id"], 50, 1)  # guests are not on a board
    token = people[3]["access_token"]
    first = await board(node, token, limit="2")
    tied = sorted([people[1]["user"]["id"], people[4]["user"]["id"]])
    assert [i["user_id"] for i in first["items"]] == tied
    assert [i["rank"] for i in first["items"]] == [1, 2] and first["items"][0]["rating"] == 25.0
    second = await board(node, token, limit="2", cursor=first["next_cursor"])
    assert [i["user_id"] for i in second["items"]] == [
        people[0]["user"]["id"],
        people[3]["user"]["id"],
    ]
    third = await board(node, token, limit="2", cursor=second["next_cursor"])
    assert [i["rank"] for i in third["items"]] == [5] and third["next_cursor"] is None
    assert first["me"]["rank"] == 4 and first["me"]["user_id"] == people[3]["user"]["id"]
    assert (await board(node, guest["access_token"]))["me"] is None
    huge = base64.urlsafe_b64encode(b"9" * 30).decode()
    for query in ({"limit": "0"}, {"limit": "x"}, {"cursor": "garbage!"}, {"cursor": huge}):
        status, code, _ = await error_of(
            await call(node, "GET", "/api/v1/leaderboards/global", token, params=query)
        )
        assert (status, code) == (422, "validation_failed"), query


async def test_students_are_only_on_their_class_board(node: Node, database: str) -> None:
    teacher = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, teacher)
    made = await new_student(node, teacher, klass["id"], "Ana Ruiz")
    student_id = made["student"]["id"]
    await rate(database, student_id, 45, 1)
    adult = await register(node)
    await rate(database, adult["user"]["id"], 20, 1)
    ranked = await board(node, adult["access_token"])
    assert [i["user_id"] for i in ranked["items"]] == [adult["user"]["id"]]  # no student
    signed = await ok(
        await call(
            node,
            "POST",
            "/api/v1/auth/student",
            json={"username": made["student"]["username"], "code": made["code"]},
        )
    )
    path = f"classes/{klass['id']}"
    for token in (teacher, signed["access_token"], (await admin_token(node))[1]):
        mine = await board(node, token, path)
        assert mine["board"] == "class" and [i["user_id"] for i in mine["items"]] == [student_id]
    assert (await board(node, signed["access_token"], path))["me"]["rank"] == 1
    stranger_teacher = (await register(node, "teacher"))["access_token"]
    for token in (adult["access_token"], stranger_teacher):
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/leaderboards/{path}", token)
        )
        assert (status, code) == (404, "class_not_found")
    for bad in ("nope", str(uuid.uuid4())):
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/leaderboards/classes/{bad}", teacher)
        )
        assert (status, code) == (404, "class_not_found")


async def test_a_pod_board_is_for_its_members(node: Node, database: str) -> None:
    windows = [{"day": 2, "start": 17 * 60, "minutes": 120}]
    tokens = []
    for mu in (20, 30, 25):
        account = await register(node)
        await rate(database, account["user"]["id"], mu, 1)
        token = account["access_token"]
        await ok(
            await call(
                node,
                "PUT",
                "/api/v1/pods/me/profile",
                token,
                {"time_zone": "UTC", "windows": windows},
            )
        )
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", token))
        tokens.append(token)
    pod = placed["pod"]
    mine = await board(node, tokens[0], f"pods/{pod['id']}")
    assert [i["rating"] for i in mine["items"]] == [27.0, 22.0, 17.0] and mine["me"]["rank"] == 3
    outsider = (await register(node))["access_token"]
    status, code, _ = await error_of(
        await call(node, "GET", f"/api/v1/leaderboards/pods/{pod['id']}", outsider)
    )
    assert (status, code) == (404, "pod_not_found")
    admin = (await admin_token(node))[1]
    assert len((await board(node, admin, f"pods/{pod['id']}"))["items"]) == 3
    assert (await call(node, "GET", "/api/v1/leaderboards/global")).status == 401

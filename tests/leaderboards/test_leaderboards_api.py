"""Leaderboards over REST on real PostgreSQL: who is on each board, order, pages, the
caller's own place, and who may see a class's or a pod's board."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from server.config import Settings
from tests.classes.helpers import admin_token, call, error_of, new_class, new_student, ok, register
from tests.conftest import Node, limited_node, start_node


async def rate(
    database: str,
    user_id: str,
    mu: float,
    sigma: float = 2.0,
    matches: int = 1,
    at: datetime | None = None,
) -> None:
    """A rating as finished matches leave it: the current rating and, for each of
    ``matches`` matches (at ``at``, default now), its row of rating history."""
    at = at or datetime.now(UTC)
    conn = await asyncpg.connect(database)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO ratings (user_id, mu, sigma, matches) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (user_id) DO UPDATE SET mu = $2, sigma = $3, "
                "matches = ratings.matches + $4",
                uuid.UUID(user_id),
                mu,
                sigma,
                matches,
            )
            for _ in range(matches):
                match_id = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, "
                    "finished_at) VALUES ($1, 'n', 'ranked', true, 'p', 'voice', $2)",
                    match_id,
                    at,
                )
                await conn.execute(
                    "INSERT INTO rating_history (match_id, player_id, user_id, is_bot, "
                    "mu_before, sigma_before, mu_after, sigma_after, created_at) "
                    "VALUES ($1, $2::text, $2::text::uuid, false, 25, 8.333, $3, $4, $5)",
                    match_id,
                    user_id,
                    mu,
                    sigma,
                    at,
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


async def test_seasons_reset_the_board_and_keep_each_past_season(
    settings: Settings, database: str, redis_url: str
) -> None:
    # Weekly seasons, the first three weeks ago: seasons 1-3 are over, 4 is this week's.
    today = datetime.now(UTC).date()
    first = today - timedelta(days=21)
    weekly = settings.replace(seasons={"first_start": first.isoformat(), "weeks": 1})
    runner, node = await start_node(weekly, database, redis_url)
    try:

        def day(n: int) -> datetime:
            return datetime.combine(first + timedelta(days=n), datetime.min.time(), UTC)

        a, b, c = [await register(node) for _ in range(3)]
        ida, idb, idc = (p["user"]["id"] for p in (a, b, c))
        await rate(database, ida, 30, 1, matches=2, at=day(1))  # season 1: a 27
        await rate(database, idb, 26, 1, at=day(2))  # season 1: b 23
        await rate(database, idb, 40, 1, at=day(8))  # season 2: b 37
        await rate(database, idc, 29, 1)  # now, season 4: c 26 (a and b played earlier)
        token = a["access_token"]
        now = await board(node, token)
        assert now["season"]["number"] == 4 and now["season"]["current"] is True
        assert [i["user_id"] for i in now["items"]] == [idc] and now["me"] is None
        one = await board(node, token, season="1")
        assert [(i["user_id"], i["rating"], i["matches"]) for i in one["items"]] == [
            (ida, 27.0, 2),
            (idb, 23.0, 1),
        ]
        assert one["season"]["current"] is False and one["me"]["rank"] == 1
        assert one["season"]["starts_at"] == day(0).isoformat()
        assert one["season"]["ends_at"] == day(7).isoformat()
        two = await board(node, token, season="2")
        assert [(i["user_id"], i["rating"]) for i in two["items"]] == [(idb, 37.0)]
        assert (await board(node, token, season="3"))["items"] == []
        ever = await board(node, token, season="all")
        assert ever["season"] is None
        assert [i["user_id"] for i in ever["items"]] == [idb, ida, idc]  # 37, 27, 26
        for bad in ("0", "5", "-1", "x", "1.5", ""):
            status, code, body = await error_of(
                await call(
                    node, "GET", "/api/v1/leaderboards/global", token, params={"season": bad}
                )
            )
            assert (status, code) == (422, "validation_failed") and "season" in str(body), bad
        listed = await ok(await call(node, "GET", "/api/v1/leaderboards/seasons", token))
        assert listed["enabled"] is True and listed["weeks"] == 1
        assert [(s["number"], s["current"]) for s in listed["items"]] == [
            (4, True),
            (3, False),
            (2, False),
            (1, False),
        ]
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_with_seasons_off_the_boards_are_all_time(
    settings: Settings, database: str, redis_url: str
) -> None:
    off = settings.replace(seasons={"weeks": 0})
    runner, node = await start_node(off, database, redis_url)
    try:
        old = await register(node)
        await rate(database, old["user"]["id"], 30, 1, at=datetime(2020, 1, 6, tzinfo=UTC))
        token = old["access_token"]
        got = await board(node, token)
        assert got["season"] is None and got["me"]["rating"] == 27.0
        listed = await ok(await call(node, "GET", "/api/v1/leaderboards/seasons", token))
        assert listed == {"enabled": False, "weeks": 0, "items": []}
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_the_boards_count_in_the_account_limit(
    settings: Settings, database: str, redis_url: str
) -> None:
    """limits.api_per_account_per_minute holds on every board; another account has its own."""
    async with limited_node(settings, database, redis_url, api_per_account_per_minute=4) as node:
        first = (await register(node))["access_token"]
        second = (await register(node))["access_token"]
        paths = [
            "/api/v1/leaderboards/global",
            "/api/v1/leaderboards/seasons",
            "/api/v1/leaderboards/global?season=all",
            "/api/v1/leaderboards/global?limit=5",
            "/api/v1/leaderboards/seasons",
        ]
        codes = [(await call(node, "GET", path, first)).status for path in paths]
        assert codes == [200, 200, 200, 200, 429]
        status, code, details = await error_of(await call(node, "GET", paths[0], first))
        assert (status, code, details["bucket"]) == (429, "rate_limited", "api.account")
        assert (await call(node, "GET", paths[0], second)).status == 200

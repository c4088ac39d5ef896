"""Solo practice over REST on real PostgreSQL and Redis, scored by the node's offline
engines: start, drafts, submit, the server's deadline, the piece stored as a practice
match (not rated), who may see what, validation and rate limits.  The pods' clock
(``server.pods.scheduler.CLOCK``) is held where the deadline matters."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server.config import Settings
from server.pods.scheduler import CLOCK
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.conftest import Node, start_node
from tests.lobbies.helpers import classroom

PIECE = (
    "The lighthouse keeper climbed the stairs as the storm rose. Waves slammed the rocks "
    "below, and the lamp flickered once, twice, then held. She wrote in the log: the ship "
    "is safe, the night is long, and I am not afraid."
)


async def start(node: Node, token: str, status: int = 201) -> Any:
    return await ok(await call(node, "POST", "/api/v1/practice", token), status)


async def test_a_round_from_start_to_score(node: Node, database: str) -> None:
    body = await register(node)
    token, user_id = body["access_token"], body["user"]["id"]
    r = await start(node, token)
    assert r["status"] == "writing" and r["result"] is None and r["seq"] == 0
    assert r["focus_from"] == "prompt" and r["level"] == "middle"  # nothing scored, no goal
    assert r["prompt"]["title"] and r["seconds"] == 240
    assert datetime.fromisoformat(r["deadline"]) - datetime.fromisoformat(
        r["started_at"]
    ) == timedelta(seconds=240)
    status, code, details = await error_of(await call(node, "POST", "/api/v1/practice", token))
    assert (status, code, details["id"]) == (409, "practice_in_progress", r["id"])
    path = f"/api/v1/practice/{r['id']}"
    saved = await ok(await call(node, "PUT", path + "/draft", token, {"text": "The", "seq": 1}))
    assert saved == {"seq": 1, "words": 1, "deadline": r["deadline"]}
    await ok(await call(node, "PUT", path + "/draft", token, {"text": PIECE, "seq": 3}))
    status, code, details = await error_of(
        await call(node, "PUT", path + "/draft", token, {"text": "old", "seq": 2})
    )
    assert (status, code, details["seq"]) == (409, "stale_seq", 3)
    again = await ok(await call(node, "GET", path, token))
    assert again["draft"] == PIECE and again["seq"] == 3
    done = await ok(await call(node, "POST", path + "/submit", token))
    assert done["status"] == "scored" and done["submitted_at"]
    result = done["result"]
    assert set(result["traits"]) == {
        "ideas",
        "organization",
        "voice",
        "word_choice",
        "sentence_fluency",
        "conventions",
        "presentation",
    }
    assert result["words"] == len(PIECE.split()) and result["engine"] == "offline"
    assert 1 <= result["overall"] <= 6 and result["match_id"] == r["id"]
    status, code, _ = await error_of(await call(node, "POST", path + "/submit", token))
    assert (status, code) == (409, "already_submitted")
    status, code, _ = await error_of(
        await call(node, "PUT", path + "/draft", token, {"text": "more", "seq": 9})
    )
    assert (status, code) == (409, "practice_over")
    conn = await asyncpg.connect(database)
    try:
        match = await conn.fetchrow("SELECT * FROM matches WHERE id = $1::uuid", r["id"])
        assert match["mode"] == "practice-solo" and match["ranked"] is False
        assert match["focus"] == r["focus"] and match["prompt_id"] == r["prompt"]["id"]
        seat = await conn.fetchrow("SELECT * FROM seats WHERE match_id = $1::uuid", r["id"])
        assert str(seat["user_id"]) == user_id and seat["rank"] == 1
        sub = await conn.fetchrow("SELECT * FROM submissions WHERE match_id = $1::uuid", r["id"])
        assert sub["text"] == PIECE and sub["edit_log"]
        assert (
            await conn.fetchval("SELECT count(*) FROM scores WHERE match_id = $1::uuid", r["id"])
            == 7
        )
        for table in ("rating_history", "ratings"):  # not rated
            assert (
                await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE user_id = $1::uuid", user_id
                )
                == 0
            )
    finally:
        await conn.close()
    # The piece is in the writer's history like any other (not rated, one seat).
    listed = await ok(await call(node, "GET", "/api/v1/me/matches", token))
    assert [m["match_id"] for m in listed["items"]] == [r["id"]]
    detail = await call(node, "GET", f"/api/v1/me/matches/{r['id']}", token)
    assert detail.status == 200, await detail.text()
    # The next round trains the weakest trait of what was scored.
    nxt = await start(node, token)
    assert nxt["focus_from"] == "weakest"
    weakest = min(result["traits"].items(), key=lambda kv: kv[1])[1]
    assert result["traits"][nxt["focus"]] == weakest


async def test_the_goal_sets_the_focus(node: Node, database: str) -> None:
    body = await register(node)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "INSERT INTO goals (id, user_id, trait, target) VALUES ($1, $2::uuid, 'voice', 4)",
            uuid.uuid4(),
            body["user"]["id"],
        )
    finally:
        await conn.close()
    token = body["access_token"]
    r = await start(node, token)
    assert (r["focus"], r["focus_from"]) == ("voice", "goal")
    # A practice piece can meet the goal (any score reaches a target of 1).
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "UPDATE goals SET target = 1 WHERE user_id = $1::uuid", body["user"]["id"]
        )
        path = f"/api/v1/practice/{r['id']}"
        await ok(await call(node, "POST", path + "/submit", token, {"text": PIECE, "seq": 1}))
        met = await conn.fetchval(
            "SELECT met_at FROM goals WHERE user_id = $1::uuid", body["user"]["id"]
        )
        assert met is not None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM notifications WHERE user_id = $1::uuid AND kind = 'goal_met'",
                body["user"]["id"],
            )
            == 1
        )
    finally:
        await conn.close()


async def test_the_deadline_submits_the_last_draft(node: Node) -> None:
    token = (await register(node))["access_token"]
    r = await start(node, token)
    path = f"/api/v1/practice/{r['id']}"
    await ok(await call(node, "PUT", path + "/draft", token, {"text": PIECE, "seq": 1}))
    deadline = datetime.fromisoformat(r["deadline"])
    node.app[CLOCK].fixed = deadline + timedelta(seconds=5)  # the grace: still taken
    await ok(await call(node, "PUT", path + "/draft", token, {"text": PIECE + " End.", "seq": 2}))
    node.app[CLOCK].fixed = deadline + timedelta(seconds=6)
    status, code, _ = await error_of(
        await call(node, "PUT", path + "/draft", token, {"text": "late", "seq": 3})
    )
    assert (status, code) == (409, "practice_over")
    got = await ok(await call(node, "GET", path, token))
    assert got["status"] == "scored" and got["draft"] == PIECE + " End."
    # A late submit with text keeps the last draft saved in time.
    r2 = await start(node, token)
    node.app[CLOCK].fixed = datetime.fromisoformat(r2["deadline"]) + timedelta(minutes=1)
    late = await ok(
        await call(
            node, "POST", f"/api/v1/practice/{r2['id']}/submit", token, {"text": "x", "seq": 1}
        )
    )
    assert late["draft"] == "" and late["result"]["flags"] == ["empty"]
    # A round left open past its deadline is submitted when the next one starts.
    r3 = await start(node, token)
    node.app[CLOCK].fixed = datetime.fromisoformat(r3["deadline"]) + timedelta(hours=1)
    r4 = await start(node, token)
    assert r4["id"] != r3["id"]
    assert (await ok(await call(node, "GET", f"/api/v1/practice/{r3['id']}", token)))[
        "status"
    ] == "scored"


async def test_who_may_see_a_round(node: Node) -> None:
    room = await classroom(node, 1)
    student = room.students[0]
    r = await start(node, student.token)
    path = f"/api/v1/practice/{r['id']}"
    other_teacher = (await register(node, "teacher"))["access_token"]
    classmate = (await register(node))["access_token"]
    _, admin = await admin_token(node)
    for token in (room.teacher.token, other_teacher, classmate):
        for method, sub, body in (
            ("GET", "", None),
            ("PUT", "/draft", {"text": "x", "seq": 1}),
            ("POST", "/submit", {}),
        ):
            status, code, _ = await error_of(await call(node, method, path + sub, token, body))
            assert (status, code) == (404, "practice_not_found"), (method, sub)
    assert (await ok(await call(node, "GET", path, admin)))["id"] == r["id"]  # admins read
    status, code, _ = await error_of(
        await call(node, "PUT", path + "/draft", admin, {"text": "x", "seq": 1})
    )
    assert (status, code) == (404, "practice_not_found")  # ...and never write
    for bad in ("nope", str(uuid.uuid4())):
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/practice/{bad}", student.token)
        )
        assert (status, code) == (404, "practice_not_found")
    assert (await call(node, "POST", "/api/v1/practice")).status == 401
    # a teacher and a guest may practise too
    assert (await start(node, room.teacher.token))["status"] == "writing"
    guest = await ok(await call(node, "POST", "/api/v1/auth/guest", json={}), 201)
    assert (await start(node, guest["access_token"]))["status"] == "writing"


async def test_bad_drafts_are_refused_by_field(
    settings: Settings, database: str, redis_url: str
) -> None:
    runner, node = await start_node(
        settings.replace(limits={"draft_chars": 100}), database, redis_url
    )
    try:
        token = (await register(node))["access_token"]
        r = await start(node, token)
        path = f"/api/v1/practice/{r['id']}/draft"
        for body, field in (
            ({"seq": 1}, "text"),
            ({"text": "x"}, "seq"),
            ({"text": "x", "seq": 0}, "seq"),
            ({"text": "x", "seq": True}, "seq"),
            ({"text": "x", "seq": "1"}, "seq"),
            ({"text": 5, "seq": 1}, "text"),
            ({"text": "x" * 101, "seq": 1}, "text"),
            ({"text": "a\u0000b", "seq": 1}, "text"),
            ({"text": "x", "seq": 1, "mood": 1}, "mood"),
        ):
            status, code, details = await error_of(await call(node, "PUT", path, token, body))
            assert (status, code) == (422, "validation_failed") and field in details["fields"], body
        resp = await call(
            node, "PUT", path, token, data=b"{", headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400
        resp = await call(node, "POST", f"/api/v1/practice/{r['id']}/submit", token, {"text": "x"})
        status, code, details = await error_of(resp)
        assert (status, code) == (422, "validation_failed") and "seq" in details["fields"]
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_rate_limits(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(
        practice={"starts_per_account_per_hour": 2, "writes_per_account_per_minute": 2}
    )
    runner, node = await start_node(limited, database, redis_url)
    try:
        token = (await register(node))["access_token"]
        r = await start(node, token)
        path = f"/api/v1/practice/{r['id']}"
        await ok(await call(node, "PUT", path + "/draft", token, {"text": "a", "seq": 1}))
        await ok(await call(node, "PUT", path + "/draft", token, {"text": "ab", "seq": 2}))
        status, code, details = await error_of(
            await call(node, "PUT", path + "/draft", token, {"text": "abc", "seq": 3})
        )
        assert (status, code, details["bucket"]) == (429, "rate_limited", "practice.write")
        assert (await call(node, "GET", path, token)).status == 200  # reads are not counted
        node.app[CLOCK].fixed = datetime.fromisoformat(r["deadline"]) + timedelta(minutes=1)
        await start(node, token)  # 2 (the first is submitted on the way)
        status, code, details = await error_of(await call(node, "POST", "/api/v1/practice", token))
        assert (status, code, details["bucket"]) == (429, "rate_limited", "practice.start")
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_deleting_the_account_deletes_its_rounds(node: Node, database: str) -> None:
    body = await register(node)
    token = body["access_token"]
    r = await start(node, token)
    await ok(
        await call(
            node, "PUT", f"/api/v1/practice/{r['id']}/draft", token, {"text": PIECE, "seq": 1}
        )
    )
    resp = await call(
        node, "DELETE", "/api/v1/auth/me", token, {"password": "correct horse battery"}
    )
    assert resp.status in (200, 204), await resp.text()
    conn = await asyncpg.connect(database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM practice_rounds") == 0
    finally:
        await conn.close()

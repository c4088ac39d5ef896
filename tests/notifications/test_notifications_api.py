"""GET /api/v1/notifications, marking read (some, all), on real PostgreSQL and Redis;
and a teacher's score override telling the student (``score_overridden``) over REST and
their socket, with the goals the new scores meet."""

from __future__ import annotations

import uuid

from server.config import Settings
from server.http.state import PG
from server.notifications import store as notes
from server.storage import overrides
from tests.classes.helpers import call, error_of, ok
from tests.conftest import Node, start_node
from tests.lobbies.helpers import classroom, join, lobby_settings, open_lobby, play_round, watch
from tests.progress.helpers import guest, person, school
from tests.realtime.helpers import running_node
from tests.realtime.players import gather

LIST = "/api/v1/notifications"


async def test_list_newest_first_paginated_and_unread(node: Node) -> None:
    me, other = await person(node), await person(node)
    made = [
        await notes.notify(node.app[PG], me.id, "teacher_message", {"text": f"note {i}"})
        for i in range(5)
    ]
    await notes.notify(node.app[PG], other.id, "teacher_message", {"text": "not yours"})
    page = await ok(await call(node, "GET", f"{LIST}?limit=2", me.token))
    assert [n["id"] for n in page["items"]] == [made[4].id, made[3].id] and page["unread"] == 5
    assert page["items"][0] == {
        "id": made[4].id,
        "kind": "teacher_message",
        "data": {"text": "note 4"},
        "created_at": page["items"][0]["created_at"],
        "read": False,
    }
    seen = [n["id"] for n in page["items"]]
    while page["next_cursor"]:
        page = await ok(
            await call(node, "GET", f"{LIST}?limit=2&cursor={page['next_cursor']}", me.token)
        )
        seen += [n["id"] for n in page["items"]]
    assert seen == [n.id for n in reversed(made)]

    marked = await ok(
        await call(node, "POST", f"{LIST}/read", me.token, {"ids": [made[0].id, made[1].id]})
    )
    assert marked == {"marked": 2, "unread": 3}
    again = await ok(await call(node, "POST", f"{LIST}/read", me.token, {"ids": [made[0].id]}))
    assert again == {"marked": 0, "unread": 3}  # already read
    unread = await ok(await call(node, "GET", f"{LIST}?unread=true", me.token))
    assert [n["id"] for n in unread["items"]] == [made[4].id, made[3].id, made[2].id]
    everything = await ok(await call(node, "GET", f"{LIST}?unread=false", me.token))
    assert len(everything["items"]) == 5 and everything["items"][-1]["read"] is True
    assert await ok(await call(node, "POST", f"{LIST}/read-all", me.token)) == {
        "marked": 3,
        "unread": 0,
    }
    assert (await ok(await call(node, "GET", f"{LIST}?unread=true", me.token)))["items"] == []


async def test_only_your_own(node: Node) -> None:
    s = await school(node)
    theirs = await notes.notify(node.app[PG], s.student.id, "teacher_message", {"text": "hi"})
    for viewer in (s.teacher, s.admin, s.classmate, s.other_teacher):
        # nobody else lists them, and marking them read does nothing: 0 marked
        assert (await ok(await call(node, "GET", LIST, viewer.token)))["items"] == []
        marked = await ok(
            await call(node, "POST", f"{LIST}/read", viewer.token, {"ids": [theirs.id]})
        )
        assert marked == {"marked": 0, "unread": 0}
        assert (await ok(await call(node, "POST", f"{LIST}/read-all", viewer.token)))["marked"] == 0
    page = await ok(await call(node, "GET", LIST, s.student.token))
    assert [n["id"] for n in page["items"]] == [theirs.id] and page["unread"] == 1
    g = await guest(node)
    assert (await ok(await call(node, "GET", LIST, g.token)))["items"] == []
    assert (await call(node, "GET", LIST)).status == 401


async def test_validation(node: Node) -> None:
    me = await person(node)
    for query, field in (
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("limit=ten", "limit"),
        ("cursor=nope", "cursor"),
        ("cursor=" + "a" * 40, "cursor"),
        ("unread=yes", "unread"),
    ):
        status, code, details = await error_of(await call(node, "GET", f"{LIST}?{query}", me.token))
        assert (status, code) == (422, "validation_failed") and field in details["fields"], query
    for body, field in (
        ({}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": "all"}, "ids"),
        ({"ids": [str(uuid.uuid4())] * 101}, "ids"),
        ({"ids": ["not-an-id"]}, "ids[0]"),
        ({"ids": [str(uuid.uuid4()), 5]}, "ids[1]"),
        ({"ids": [str(uuid.uuid4())], "all": True}, "all"),
    ):
        status, code, details = await error_of(
            await call(node, "POST", f"{LIST}/read", me.token, body)
        )
        assert (status, code) == (422, "validation_failed") and field in details["fields"], body


async def test_rate_limit(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(limits={"notification_writes_per_account_per_minute": 2})
    runner, node = await start_node(limited, database, redis_url)
    try:
        me = await person(node)
        await ok(await call(node, "POST", f"{LIST}/read-all", me.token))
        await ok(await call(node, "POST", f"{LIST}/read", me.token, {"ids": [str(uuid.uuid4())]}))
        status, code, details = await error_of(
            await call(node, "POST", f"{LIST}/read-all", me.token)
        )
        assert (status, code) == (429, "rate_limited") and details[
            "bucket"
        ] == "notifications.write"
        await ok(await call(node, "GET", LIST, me.token))  # reads are not
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_a_score_override_tells_the_student(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        lobby = await open_lobby(node, room.teacher.token, room.class_id, ranked=True)
        lid, token = lobby["id"], room.teacher.token
        t = await watch(node, token, lid)
        await gather(*(join(p, lobby["code"]) for p in room.students))
        await t.until(lambda: len(t.all("lobby.member")) >= 4)
        student = room.students[0]
        goal = {"trait": "voice", "target": 6}  # set by the teacher, before any score
        await ok(
            await call(node, "POST", f"/api/v1/goals/users/{student.user_id}", token, goal), 201
        )
        match_id = await play_round(t, room, [1, 2, 3, 4])
        path = f"/api/v1/lobbies/{lid}/matches/{match_id}/pieces/{student.user_id}/score"
        body = {
            "traits": dict.fromkeys(overrides.TRAIT_NAMES, 6),
            "overall": 6,
            "reason": "Private note for the audit log.",
        }
        await ok(await call(node, "PUT", path, token, body))
        kinds = {}
        await student.c.until(lambda: len(student.c.all("notification")) >= 2)
        for e in student.c.all("notification"):
            kinds[e["d"]["kind"]] = e["d"]["data"]
        assert kinds["score_overridden"] == {
            "match_id": match_id,
            "traits": dict.fromkeys(overrides.TRAIT_NAMES, 6),
            "overall": 6.0,
        }
        assert kinds["goal_met"]["trait"] == "voice" and kinds["goal_met"]["reached"] == 6.0
        page = await ok(await call(node, "GET", LIST, student.token))
        assert {n["kind"] for n in page["items"]} == {"score_overridden", "goal_met"}
        assert "audit" not in str(page)  # the teacher's reason stays with the teacher
        others = [p for p in room.students if p is not student]
        for p in others:
            assert (await ok(await call(node, "GET", LIST, p.token)))["items"] == []

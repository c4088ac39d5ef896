"""Goals over REST on real PostgreSQL and Redis: set, list, progress, met after stored
scores (check_goals) with a goal_met notification, delete, who may do what, validation
and the rate limit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from server.config import Settings
from server.goals import check_goals
from server.http.state import PG
from tests.classes.helpers import call, error_of, ok
from tests.conftest import Node, start_node
from tests.progress.helpers import Person, guest, person, play, school

TODAY = dt.datetime.now(dt.UTC).date()


async def goals(node: Node, who: Person, path: str = "/api/v1/goals/me") -> Any:
    return await ok(await call(node, "GET", path, who.token))


async def test_a_goal_is_set_shown_met_and_notified(node: Node) -> None:
    me, rival = await person(node), await person(node)
    await play(node.app[PG], {me.id: 20, rival.id: 20})  # 3 on every trait
    due = (TODAY + dt.timedelta(days=30)).isoformat()
    goal = await ok(
        await call(
            node, "POST", "/api/v1/goals/me", me.token, {"trait": "voice", "target": 4, "due": due}
        ),
        201,
    )
    assert goal["trait"] == "voice" and goal["target"] == 4.0 and goal["due"] == due
    assert goal["status"] == "open" and goal["baseline"] == 3.0 and goal["recent"] == 3.0
    assert goal["progress"] == 0.0 and goal["set_by"]["self"] is True and goal["met_at"] is None
    listed = await goals(node, me)
    assert [g["id"] for g in listed["items"]] == [goal["id"]] and listed["open"] == 1

    await play(node.app[PG], {me.id: 40, rival.id: 20})  # 5: the average is 4 now
    notes = await check_goals(node.app[PG], [me.id, rival.id, "bot:0"])
    assert [n.kind for n in notes] == ["goal_met"] and notes[0].user_id == me.id
    data = notes[0].data
    assert (data["goal_id"], data["trait"], data["target"], data["reached"]) == (
        goal["id"],
        "voice",
        4.0,
        4.0,
    )
    suggested = data["suggestions"]
    assert len(suggested) == 3 and suggested[0] == {
        "trait": "voice",
        "target": 4.5,
        "why": "step_up",
    }
    assert len({s["trait"] for s in suggested}) == 3
    assert await check_goals(node.app[PG], [me.id]) == []  # met once, notified once

    listed = await goals(node, me)
    met = listed["items"][0]
    assert met["status"] == "met" and met["progress"] == 1.0 and met["met_at"] is not None
    assert listed["open"] == 0
    page = await ok(await call(node, "GET", "/api/v1/notifications", me.token))
    assert [n["kind"] for n in page["items"]] == ["goal_met"] and page["unread"] == 1


async def test_a_goal_met_without_a_check_is_marked_when_listed(node: Node) -> None:
    me, rival = await person(node), await person(node)
    await ok(
        await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": "ideas", "target": 3}),
        201,
    )
    await play(node.app[PG], {me.id: 30, rival.id: 30})  # 4, stored with no check run
    listed = await goals(node, me)
    assert listed["items"][0]["status"] == "met"
    page = await ok(await call(node, "GET", "/api/v1/notifications", me.token))
    assert [n["kind"] for n in page["items"]] == ["goal_met"]


async def test_conflicts(node: Node) -> None:
    me, rival = await person(node), await person(node)
    await play(node.app[PG], {me.id: 30, rival.id: 30})  # 4 on every trait
    body = {"trait": "voice", "target": 5}
    await ok(await call(node, "POST", "/api/v1/goals/me", me.token, body), 201)
    status, code, _ = await error_of(await call(node, "POST", "/api/v1/goals/me", me.token, body))
    assert (status, code) == (409, "goal_exists")
    status, code, details = await error_of(
        await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": "ideas", "target": 4})
    )
    assert (status, code, details) == (409, "goal_already_met", {"recent": 4.0})
    for trait in ("ideas", "organization", "conventions", "presentation"):
        await ok(
            await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": trait, "target": 6}),
            201,
        )
    status, code, _ = await error_of(
        await call(
            node, "POST", "/api/v1/goals/me", me.token, {"trait": "word_choice", "target": 6}
        )
    )
    assert (status, code) == (409, "goal_limit")


async def test_validation(node: Node) -> None:
    me = await person(node)
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    far = (TODAY + dt.timedelta(days=800)).isoformat()
    cases: list[tuple[Any, str]] = [
        ({"target": 4}, "trait"),
        ({"trait": "spelling", "target": 4}, "trait"),
        ({"trait": 7, "target": 4}, "trait"),
        ({"trait": "voice"}, "target"),
        ({"trait": "voice", "target": "4"}, "target"),
        ({"trait": "voice", "target": True}, "target"),
        ({"trait": "voice", "target": 6.5}, "target"),
        ({"trait": "voice", "target": 0.5}, "target"),
        ({"trait": "voice", "target": 3.3}, "target"),
        ({"trait": "voice", "target": 4, "due": past}, "due"),
        ({"trait": "voice", "target": 4, "due": far}, "due"),
        ({"trait": "voice", "target": 4, "due": "June"}, "due"),
        ({"trait": "voice", "target": 4, "due": "20270601"}, "due"),
        ({"trait": "voice", "target": 4, "due": 20270601}, "due"),
        ({"trait": "voice", "target": 4, "owner": "x"}, "owner"),
    ]
    for body, field in cases:
        status, code, details = await error_of(
            await call(node, "POST", "/api/v1/goals/me", me.token, body)
        )
        assert (status, code) == (422, "validation_failed"), body
        assert field in details["fields"], (body, details)
    status, _, _ = await error_of(await call(node, "POST", "/api/v1/goals/me", me.token, [1]))
    assert status == 400
    # the due day itself is fine, and no due day at all
    today = {"trait": "voice", "target": 4, "due": TODAY.isoformat()}
    await ok(await call(node, "POST", "/api/v1/goals/me", me.token, today), 201)
    await ok(
        await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": "ideas", "target": 2}), 201
    )


async def test_who_may_see_set_and_delete_a_students_goals(node: Node) -> None:
    s = await school(node)
    path = f"/api/v1/goals/users/{s.student.id}"
    body = {"trait": "voice", "target": 4, "due": None}
    by_teacher = await ok(await call(node, "POST", path, s.teacher.token, body), 201)
    assert by_teacher["set_by"] == {
        "self": False,
        "display_name": by_teacher["set_by"]["display_name"],
    }
    assert by_teacher["set_by"]["display_name"]
    seen = await goals(node, s.student)  # on the student's own list
    assert [g["id"] for g in seen["items"]] == [by_teacher["id"]]
    for viewer in (s.student, s.teacher, s.admin):
        assert (await goals(node, viewer, path))["items"][0]["id"] == by_teacher["id"]
    for stranger in (s.classmate, s.other_teacher):
        for method, json in (("GET", None), ("POST", {"trait": "ideas", "target": 4})):
            status, code, _ = await error_of(await call(node, method, path, stranger.token, json))
            assert (status, code) == (404, "goals_not_found")
        status, code, _ = await error_of(
            await call(node, "DELETE", f"/api/v1/goals/{by_teacher['id']}", stranger.token)
        )
        assert (status, code) == (404, "goal_not_found")
    for unknown in (str(uuid.uuid4()), "me", "x"):
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/goals/users/{unknown}", s.admin.token)
        )
        assert (status, code) == (404, "goals_not_found")
        status, code, _ = await error_of(
            await call(node, "DELETE", f"/api/v1/goals/{unknown}", s.admin.token)
        )
        assert (status, code) == (404, "goal_not_found")
    by_admin = await ok(
        await call(node, "POST", path, s.admin.token, {"trait": "ideas", "target": 4}), 201
    )
    own = await ok(
        await call(node, "POST", path, s.student.token, {"trait": "conventions", "target": 4}), 201
    )
    assert own["set_by"]["self"] is True
    # the teacher, the admin and the student may delete
    for who, goal in ((s.teacher, by_teacher), (s.admin, by_admin), (s.student, own)):
        resp = await call(node, "DELETE", f"/api/v1/goals/{goal['id']}", who.token)
        assert resp.status == 204
    assert (await goals(node, s.student))["items"] == []


async def test_guests_may_set_goals(node: Node) -> None:
    g = await guest(node)
    await ok(
        await call(node, "POST", "/api/v1/goals/me", g.token, {"trait": "voice", "target": 3}), 201
    )
    assert len((await goals(node, g))["items"]) == 1
    assert (await call(node, "GET", "/api/v1/goals/me")).status == 401


async def test_rate_limit(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(limits={"goal_writes_per_account_per_minute": 2})
    runner, node = await start_node(limited, database, redis_url)
    try:
        me = await person(node)
        goal = await ok(
            await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": "voice", "target": 3}),
            201,
        )
        assert (await call(node, "DELETE", f"/api/v1/goals/{goal['id']}", me.token)).status == 204
        status, code, details = await error_of(
            await call(node, "POST", "/api/v1/goals/me", me.token, {"trait": "voice", "target": 3})
        )
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "goals.write"
        await ok(await call(node, "GET", "/api/v1/goals/me", me.token))  # reads are not
    finally:
        await node.http.close()
        await runner.cleanup()

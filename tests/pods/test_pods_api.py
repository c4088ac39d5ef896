"""Study pods over REST on real PostgreSQL and Redis: profile, suggestions, joining, the
waitlist forming pods, leaving with a rematch, who may do what, validation, rate limits,
and account deletion."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from server.config import Settings
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.conftest import Node, start_node

EVENINGS = [
    {"day": 1, "start": 18 * 60, "minutes": 120},
    {"day": 3, "start": 18 * 60, "minutes": 90},
]


async def writer(
    node: Node, zone: str = "Europe/Paris", windows: Any = None, goals: Any = ()
) -> str:
    token: str = (await register(node))["access_token"]
    body = {"time_zone": zone, "windows": windows or EVENINGS, "goals": list(goals)}
    await ok(await call(node, "PUT", "/api/v1/pods/me/profile", token, body))
    return token


async def me(node: Node, token: str) -> Any:
    return await ok(await call(node, "GET", "/api/v1/pods/me", token))


async def test_the_waitlist_forms_a_pod_and_others_join_it(node: Node) -> None:
    a, b = await writer(node, goals=["voice"]), await writer(node, goals=["voice"])
    for t in (a, b):
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
        assert placed == {"pod": None, "waitlisted": True}  # two are not a pod
    c = await writer(node, "Europe/Berlin")
    placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", c))
    pod = placed["pod"]
    assert placed["waitlisted"] is False and len(pod["members"]) == 3
    # Tuesday 18:00 in Paris, shown in Berlin's time: the same minute (both UTC+1 or +2).
    assert pod["session"]["day"] == 1 and pod["session"]["start"] == 18 * 60
    assert pod["session"]["time_zone"] == "Europe/Berlin" and pod["session"]["minutes"] == 45
    assert (await me(node, a))["pod"]["id"] == pod["id"]
    # A fourth writer is offered the pod and joins it.
    d = await writer(node, "Europe/Paris", goals=["voice"])
    offers = await ok(await call(node, "GET", "/api/v1/pods/suggestions", d))
    assert [o["pod_id"] for o in offers["items"]] == [pod["id"]] and not offers["waitlisted"]
    assert offers["items"][0]["members"] == 3 and offers["items"][0]["reasons"]
    assert "display_name" not in str(offers)  # suggestions never name the members
    joined = await ok(await call(node, "POST", f"/api/v1/pods/{pod['id']}/join", d))
    assert len(joined["members"]) == 4
    status, code, _ = await error_of(await call(node, "POST", f"/api/v1/pods/{pod['id']}/join", d))
    assert (status, code) == (409, "already_in_pod")


async def test_across_the_date_line(node: Node) -> None:
    tonga = [{"day": 0, "start": 8 * 60, "minutes": 120}]  # Monday morning in Tonga...
    samoa = [{"day": 6, "start": 8 * 60, "minutes": 120}]  # ...is Sunday morning in Samoa
    tokens = [
        await writer(node, "Pacific/Tongatapu", tonga),
        await writer(node, "Pacific/Pago_Pago", samoa),
        await writer(node, "Pacific/Tongatapu", tonga),
    ]
    for t in tokens:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    assert placed["pod"] is not None and len(placed["pod"]["members"]) == 3
    session = (await me(node, tokens[1]))["pod"]["session"]
    assert (session["time_zone"], session["day"], session["start"]) == (
        "Pacific/Pago_Pago",
        6,
        8 * 60,
    )


async def test_a_pod_that_shares_no_time_cannot_be_joined(node: Node) -> None:
    tokens = [await writer(node) for _ in range(3)]
    for t in tokens:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    pod_id = placed["pod"]["id"]
    mornings = await writer(node, windows=[{"day": 5, "start": 6 * 60, "minutes": 60}])
    assert (await ok(await call(node, "GET", "/api/v1/pods/suggestions", mornings)))["items"] == []
    status, code, _ = await error_of(
        await call(node, "POST", f"/api/v1/pods/{pod_id}/join", mornings)
    )
    assert (status, code) == (409, "pod_does_not_fit")


async def test_a_rematch_never_puts_the_leaver_back_with_the_same_members(node: Node) -> None:
    first = [await writer(node) for _ in range(3)]
    for t in first:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    old = placed["pod"]
    left = await ok(
        await call(
            node,
            "POST",
            "/api/v1/pods/me/leave",
            first[0],
            {"reason": "too late for me", "rematch": True},
        )
    )
    assert left == {"left": old["id"], "pod": None, "waitlisted": True}
    status, code, _ = await error_of(
        await call(node, "POST", f"/api/v1/pods/{old['id']}/join", first[0])
    )
    assert (status, code) == (409, "pod_does_not_fit")  # never back with them
    assert (await ok(await call(node, "GET", "/api/v1/pods/suggestions", first[0])))["items"] == []
    # Two newcomers make a new pod with the leaver.
    for t in [await writer(node), await writer(node)]:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    mine = (await me(node, first[0]))["pod"]
    assert mine is not None and mine["id"] != old["id"]
    old_ids = {m["user_id"] for m in old["members"]} - {m["user_id"] for m in mine["members"]}
    assert len(old_ids) == 2 and not old_ids & {m["user_id"] for m in mine["members"]}


async def test_leaving_without_a_rematch_and_errors(node: Node) -> None:
    token = await writer(node)
    status, code, _ = await error_of(
        await call(node, "POST", "/api/v1/pods/me/leave", token, {"reason": "x"})
    )
    assert (status, code) == (404, "not_in_pod")
    for body, field in (
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "ok", "rematch": "yes"}, "rematch"),
        ({"reason": "ok", "why": 1}, "why"),
    ):
        status, code, details = await error_of(
            await call(node, "POST", "/api/v1/pods/me/leave", token, body)
        )
        assert (status, code) == (422, "validation_failed") and field in details["fields"], body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"windows": EVENINGS}, "time_zone"),
        ({"time_zone": "Mars/Olympus", "windows": EVENINGS}, "time_zone"),
        ({"time_zone": "UTC"}, "windows"),
        ({"time_zone": "UTC", "windows": []}, "windows"),
        (
            {"time_zone": "UTC", "windows": [{"day": 7, "start": 0, "minutes": 60}]},
            "windows[0].day",
        ),
        (
            {"time_zone": "UTC", "windows": [{"day": 0, "start": 1440, "minutes": 60}]},
            "windows[0].start",
        ),
        (
            {"time_zone": "UTC", "windows": [{"day": 0, "start": 0, "minutes": 10}]},
            "windows[0].minutes",
        ),
        (
            {"time_zone": "UTC", "windows": [{"day": True, "start": 0, "minutes": 60}]},
            "windows[0].day",
        ),
        ({"time_zone": "UTC", "windows": [{"day": 0, "start": 0}]}, "windows[0]"),
        ({"time_zone": "UTC", "windows": EVENINGS, "goals": ["voice", "voice"]}, "goals"),
        ({"time_zone": "UTC", "windows": EVENINGS, "goals": ["charm"]}, "goals"),
        ({"time_zone": "UTC", "windows": EVENINGS, "extra": 1}, "extra"),
    ],
)
async def test_a_bad_profile_is_refused_by_field(node: Node, body: Any, field: str) -> None:
    token = (await register(node))["access_token"]
    status, code, details = await error_of(
        await call(node, "PUT", "/api/v1/pods/me/profile", token, body)
    )
    assert (status, code) == (422, "validation_failed") and field in details["fields"]


async def test_who_may_do_what(node: Node) -> None:
    guest = await ok(await call(node, "POST", "/api/v1/auth/guest", json={}), 201)
    for method, path in (
        ("GET", "/api/v1/pods/me/profile"),
        ("PUT", "/api/v1/pods/me/profile"),
        ("GET", "/api/v1/pods/suggestions"),
        ("POST", "/api/v1/pods/waitlist"),
        ("GET", "/api/v1/pods/me"),
    ):
        status, code, _ = await error_of(await call(node, method, path, guest["access_token"], {}))
        assert (status, code) == (403, "guest_account"), path
        assert (await call(node, method, path)).status == 401
    fresh = (await register(node))["access_token"]
    status, code, _ = await error_of(await call(node, "GET", "/api/v1/pods/me/profile", fresh))
    assert (status, code) == (404, "pod_profile_not_found")
    for method, path in (("GET", "/api/v1/pods/suggestions"), ("POST", "/api/v1/pods/waitlist")):
        status, code, _ = await error_of(await call(node, method, path, fresh))
        assert (status, code) == (409, "profile_required")
    assert await me(node, fresh) == {"pod": None, "waitlisted": False}
    _, admin = await admin_token(node)  # an admin may have a pod like anyone
    await ok(
        await call(
            node, "PUT", "/api/v1/pods/me/profile", admin, {"time_zone": "UTC", "windows": EVENINGS}
        )
    )
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        status, code, _ = await error_of(
            await call(node, "POST", f"/api/v1/pods/{bad}/join", admin)
        )
        assert (status, code) == (404, "pod_not_found")


async def test_rate_limits(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(limits={"pod_writes_per_account_per_minute": 2})
    runner, node = await start_node(limited, database, redis_url)
    try:
        token = await writer(node)  # 1
        await ok(await call(node, "POST", "/api/v1/pods/waitlist", token))  # 2
        resp = await call(
            node, "PUT", "/api/v1/pods/me/profile", token, {"time_zone": "UTC", "windows": EVENINGS}
        )
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "pods.write"
        assert (await call(node, "GET", "/api/v1/pods/me", token)).status == 200  # reads are not
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_a_deleted_account_leaves_no_trace_in_pods(node: Node, database: str) -> None:
    tokens = [await writer(node) for _ in range(3)]
    for t in tokens:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    gone = placed["pod"]["members"][0]
    ids = [(await ok(await call(node, "GET", "/api/v1/auth/me", t)))["id"] for t in tokens]
    owner = tokens[ids.index(gone["user_id"])]
    resp = await call(
        node, "DELETE", "/api/v1/auth/me", owner, {"password": "correct horse battery"}
    )
    assert resp.status in (200, 204), await resp.text()
    others = [t for t in tokens if t != owner]
    pod = (await me(node, others[0]))["pod"]
    assert gone["user_id"] not in str(pod) and len(pod["members"]) == 2
    conn = await asyncpg.connect(database)
    try:
        for table in ("pod_profiles", "pod_members", "pod_waitlist", "pod_departures"):
            assert (
                await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE user_id = $1::uuid", gone["user_id"]
                )
                == 0
            )
    finally:
        await conn.close()


async def test_check_ins_after_a_session_and_the_streak(node: Node, database: str) -> None:
    tokens = [await writer(node) for _ in range(3)]
    for t in tokens:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", t))
    pod = placed["pod"]
    body = {"attended": True, "win": "We all finished", "change": "Start on time"}
    status, code, details = await error_of(
        await call(node, "POST", "/api/v1/pods/me/checkins", tokens[0], body)
    )
    assert (status, code) == (409, "no_session_yet") and "first_session" in details
    before = await ok(await call(node, "GET", "/api/v1/pods/me/checkins", tokens[0]))
    assert before["latest_session"] is None and before["streak"] == 0 and before["items"] == []
    # Three weeks on: the pod has met (the clock is PostgreSQL's and the node's, so the
    # pod is made older instead).
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "UPDATE pods SET created_at = now() - interval '3 weeks' WHERE id = $1::uuid",
            pod["id"],
        )
    finally:
        await conn.close()
    made = await ok(await call(node, "POST", "/api/v1/pods/me/checkins", tokens[0], body), 201)
    assert made["attended"] is True and made["win"] == "We all finished"
    status, code, _ = await error_of(
        await call(node, "POST", "/api/v1/pods/me/checkins", tokens[0], body)
    )
    assert (status, code) == (409, "already_checked_in")
    listed = await ok(await call(node, "GET", "/api/v1/pods/me/checkins", tokens[1]))
    assert listed["streak"] == 0  # one of three is not half
    assert [c["win"] for c in listed["items"]] == ["We all finished"]
    await ok(
        await call(node, "POST", "/api/v1/pods/me/checkins", tokens[1], {"attended": True}), 201
    )
    listed = await ok(await call(node, "GET", "/api/v1/pods/me/checkins", tokens[2]))
    assert listed["streak"] == 1 and listed["latest_session"] == made["session_start"]
    assert listed["next_session"] > listed["latest_session"]
    for bad, field in (
        ({}, "attended"),
        ({"attended": "yes"}, "attended"),
        ({"attended": True, "win": "x" * 301}, "win"),
        ({"attended": True, "mood": 3}, "mood"),
    ):
        status, code, details = await error_of(
            await call(node, "POST", "/api/v1/pods/me/checkins", tokens[2], bad)
        )
        assert (status, code) == (422, "validation_failed") and field in details["fields"], bad
    loner = (await register(node))["access_token"]
    for method in ("GET", "POST"):
        status, code, _ = await error_of(
            await call(node, method, "/api/v1/pods/me/checkins", loner, {"attended": True})
        )
        assert (status, code) == (404, "not_in_pod")

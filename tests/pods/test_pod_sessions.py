"""A pod's weekly session on real PostgreSQL, Redis and WebSockets: the scheduler opens
the pod's lobby with an agenda and notifies the members (once, even with two nodes), only
members see and join it, the round starts on its own, the lobby closes after the session
and the members check in for it.  The scheduler is driven by calling ``tick(now)`` with
the time each step needs; nothing sleeps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from server.config import Settings
from server.http.state import REALTIME
from server.pods.agenda import pod_focus
from server.pods.scheduler import CLOCK, SCHEDULER
from server.pods.sessions import first_session
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.conftest import Node, limited_node, start_node
from tests.lobbies.helpers import join, lobby_settings, refused, teacher
from tests.realtime.players import Player

EVENINGS = [{"day": 1, "start": 18 * 60, "minutes": 120}]  # Tuesday evening in Paris


async def member(node: Node, goals: list[str] | None = None) -> Player:
    body = await register(node)
    token = body["access_token"]
    profile = {"time_zone": "Europe/Paris", "windows": EVENINGS, "goals": goals or ["voice"]}
    await ok(await call(node, "PUT", "/api/v1/pods/me/profile", token, profile))
    return Player(body["user"]["display_name"], body["user"]["id"], token, node.url)


async def pod_of(node: Node, size: int = 3) -> tuple[dict[str, Any], list[Player]]:
    people = [await member(node) for _ in range(size)]
    for p in people:
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", p.token))
    assert placed["pod"] is not None
    return placed["pod"], people


def start_of(pod: dict[str, Any]) -> datetime:
    return first_session(pod["session"]["utc_minute"], datetime.fromisoformat(pod["created_at"]))


async def session_now(node: Node, token: str) -> Any:
    return await ok(await call(node, "GET", "/api/v1/pods/me/session", token))


async def test_a_session_opens_starts_closes_and_is_checked_in(
    settings: Settings, database: str, redis_url: str
) -> None:
    runner, node = await start_node(
        lobby_settings(settings).replace(bots={"enabled": False}), database, redis_url
    )
    try:
        pod, people = await pod_of(node)
        start = start_of(pod)
        scheduler = node.app[SCHEDULER]
        assert (await session_now(node, people[0].token))["session"] is None
        # Eleven minutes early: nothing yet (the lead is ten).
        assert (await scheduler.tick(start - timedelta(minutes=11))).opened == []
        done = await scheduler.tick(start - timedelta(minutes=10))
        assert [p for p, _ in done.opened] == [pod["id"]]
        assert (await scheduler.tick(start - timedelta(minutes=9))).opened == []  # once
        found = (await session_now(node, people[1].token))["session"]
        assert found["starts_at"] == start.isoformat() and found["started"] is False
        # Nobody has scored yet: the members' shared goal is the focus.
        assert found["focus"] == "voice" and found["prompt"]["focus"] == "voice"
        conn = await asyncpg.connect(database)
        try:
            rows = await conn.fetch(
                "SELECT user_id::text, data FROM notifications WHERE kind = 'pod_session_soon'"
            )
        finally:
            await conn.close()
        assert sorted(r["user_id"] for r in rows) == sorted(p.user_id for p in people)
        assert all(found["lobby_code"] in r["data"] for r in rows)
        # Members join the lobby on their socket; nobody else may.
        state = await join(people[0], found["lobby_code"])
        assert state["you"] == "in" and state["teacher"] == "your pod"
        outsider = await member(node)
        await outsider.connect()
        await refused(outsider.c, "lobby.join", {"code": found["lobby_code"]}, "lobby_not_found")
        # The pod's first member holds the lobby's teacher column but cannot watch it.
        host = next(p for p in people if p.user_id == pod["members"][0]["user_id"])
        if host.client is None:
            await host.connect()
        await refused(host.c, "lobby.watch", {"lobby_id": found["lobby_id"]}, "forbidden")
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/lobbies/{found['lobby_id']}", people[1].token)
        )
        assert (status, code) == (403, "not_a_teacher") or (status, code) == (
            404,
            "lobby_not_found",
        )
        # Bots off and one member there: the round cannot start yet; it is tried again.
        assert (await scheduler.tick(start + timedelta(minutes=5))).started == []
        for p in people[1:]:
            await join(p, found["lobby_code"])
        more = await member(node)  # a fourth: party_min is 4 without bots
        await ok(await call(node, "POST", f"/api/v1/pods/{pod['id']}/join", more.token))
        await join(more, found["lobby_code"])
        marks = [len(p.c.events) for p in people]
        assert (await scheduler.tick(start + timedelta(minutes=6))).started == [(pod["id"], start)]
        for p, m in zip(people, marks, strict=True):
            await p.c.wait("lobby.seat", start=m)
        assert (await session_now(node, people[0].token))["session"]["started"] is True
        # After the session the lobby closes, and the members check in for it.
        done = await scheduler.tick(start + timedelta(minutes=45))
        assert done.closed == [(pod["id"], start)]
        assert (await session_now(node, people[0].token))["session"] is None
        node.app[CLOCK].fixed = start + timedelta(minutes=50)
        body = {"attended": True, "win": "Finished on time", "change": "More dialogue"}
        for p in people[:2]:
            made = await ok(
                await call(node, "POST", "/api/v1/pods/me/checkins", p.token, body), 201
            )
            assert made["session_start"] == start.isoformat()
        listed = await ok(await call(node, "GET", "/api/v1/pods/me/checkins", people[2].token))
        assert listed["streak"] == 1 and listed["latest_session"] == start.isoformat()
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_two_nodes_open_a_session_once(
    settings: Settings, database: str, redis_url: str
) -> None:
    runners = []
    try:
        r1, one = await start_node(
            settings.replace(server={"node_id": "node-a"}), database, redis_url
        )
        runners.append((r1, one))
        r2, two = await start_node(
            settings.replace(server={"node_id": "node-b"}), database, redis_url
        )
        runners.append((r2, two))
        pod, _ = await pod_of(one)
        at = start_of(pod) - timedelta(minutes=3)
        nodes = [one, two] * 3
        ticks = await asyncio.gather(*(n.app[SCHEDULER].tick(at) for n in nodes))
        assert sum(len(t.opened) for t in ticks) == 1
        conn = await asyncpg.connect(database)
        try:
            assert await conn.fetchval("SELECT count(*) FROM pod_sessions") == 1
            assert await conn.fetchval("SELECT count(*) FROM lobbies WHERE pod_id IS NOT NULL") == 1
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM notifications WHERE kind = 'pod_session_soon'"
                )
                == 3
            )
        finally:
            await conn.close()
        # Only the node that opened it starts and closes it.
        winner = next(n for n, t in zip(nodes, ticks, strict=True) if t.opened)
        other = two if winner is one else one
        assert (await other.app[SCHEDULER].tick(start_of(pod) + timedelta(minutes=46))).closed == []
        assert (await winner.app[SCHEDULER].tick(start_of(pod) + timedelta(minutes=46))).closed
    finally:
        for r, n in runners:
            await n.http.close()
            await r.cleanup()


async def test_who_sees_the_session(node: Node) -> None:
    pod, people = await pod_of(node)
    await node.app[SCHEDULER].tick(start_of(pod) - timedelta(minutes=1))
    assert (await session_now(node, people[2].token))["session"]["lobby_code"]
    stranger = (await register(node))["access_token"]
    t = await teacher(node)
    _, admin = await admin_token(node)
    for token in (stranger, t.token, admin):  # not in this pod: for them it has no session
        status, code, _ = await error_of(await call(node, "GET", "/api/v1/pods/me/session", token))
        assert (status, code) == (404, "not_in_pod")
    guest = await ok(await call(node, "POST", "/api/v1/auth/guest", json={}), 201)
    status, code, _ = await error_of(
        await call(node, "GET", "/api/v1/pods/me/session", guest["access_token"])
    )
    assert (status, code) == (403, "guest_account")
    assert (await call(node, "GET", "/api/v1/pods/me/session")).status == 401
    # The admin may read the pod's lobby over REST (as every lobby); its first member
    # may not manage it.
    found = (await session_now(node, people[0].token))["session"]
    assert (await call(node, "GET", f"/api/v1/lobbies/{found['lobby_id']}", admin)).status == 200
    for p in people:
        resp = await call(node, "POST", f"/api/v1/lobbies/{found['lobby_id']}/close", p.token)
        assert resp.status in (403, 404)


async def test_the_session_read_counts_in_the_account_limit(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with limited_node(settings, database, redis_url, api_per_account_per_minute=6) as node:
        token = (await register(node))["access_token"]
        codes = [
            (await call(node, "GET", "/api/v1/pods/me/session", token)).status for _ in range(8)
        ]
        assert codes[0] == 404 and codes[-1] == 429


async def test_the_agenda_follows_the_members_weakest_traits(node: Node) -> None:
    pod, people = await pod_of(node)
    averages = []
    for i, p in enumerate(people):  # each member's scores, from a practice piece
        r = await ok(await call(node, "POST", "/api/v1/practice", p.token), 201)
        text = " ".join(["The lamp turned slowly over the dark water."] * (i + 2))
        done = await ok(
            await call(
                node,
                "POST",
                f"/api/v1/practice/{r['id']}/submit",
                p.token,
                {"text": text, "seq": 1},
            )
        )
        averages.append({k: float(v) for k, v in done["result"]["traits"].items()})
    await node.app[SCHEDULER].tick(start_of(pod))
    found = (await session_now(node, people[0].token))["session"]
    assert found["focus"] == pod_focus(averages).value
    trained = {p.focus.value for p in node.app[REALTIME].prompts.values()}
    if found["focus"] in trained:  # a prompt that trains it, when the pack has one
        assert found["prompt"]["focus"] == found["focus"]


async def test_the_node_ticks_its_scheduler_with_its_clock(
    settings: Settings, database: str, redis_url: str
) -> None:
    """The background task: every ``pods.tick_seconds`` with the pods' clock (held here at
    a minute before the session), and the members hear of it on their socket."""
    runner, node = await start_node(
        settings.replace(pods={"tick_seconds": 0.05}), database, redis_url
    )
    try:
        pod, people = await pod_of(node)
        await people[0].connect()
        node.app[CLOCK].fixed = start_of(pod) - timedelta(minutes=1)
        note = await people[0].c.wait("notification", lambda d: d["kind"] == "pod_session_soon")
        assert note["d"]["data"]["pod_id"] == pod["id"]
        found = (await session_now(node, people[0].token))["session"]
        assert note["d"]["data"]["lobby_code"] == found["lobby_code"]
    finally:
        await node.http.close()
        await runner.cleanup()

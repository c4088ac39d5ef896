"""Live spectating on a real node (real PostgreSQL, Redis and WebSockets): the delay is
the server's, drafts grow, reviews come only with the results, the access rules hold,
and the live list shows what the caller may watch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.api.live import PUBLIC_PAGES
from server.config import Settings
from server.http.state import REALTIME
from server.protocol import Codec
from server.spectate.room import FANOUT_PER_TURN
from server.types import PlayerId
from tests.conftest import UNTHROTTLED, Node
from tests.realtime.client import Client
from tests.realtime.helpers import FAST, running_node
from tests.realtime.players import Player, start_writing
from tests.replays.test_api import klass, lobby_of, users

DELAY = 1.0


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(
        match={
            **FAST,
            "write_seconds": 4.0,
            "spectator_delay_seconds": DELAY,
            "spectator_tick_seconds": 0.05,
            "max_spectators": 3,
        },
        limits={"api_per_ip_per_minute": 100_000},
    )
    async with running_node(settings, database, redis_url) as n:
        yield n


def apply(text: str, event: dict[str, Any]) -> str:
    if event["snapshot"] is not None:
        return str(event["snapshot"])
    for pos, delete, insert in event["ops"]:
        text = text[:pos] + insert + text[pos + delete :]
    return text


async def spectator(node: Node, token: str, codec: Codec = Codec.JSON) -> Client:
    return await Client.session(node.url, token, codec)


async def match_of(
    node: Node, people: list[Any], *, ranked: bool = True
) -> tuple[str, list[Player], Any]:
    hub = node.app[REALTIME]
    created = await hub.create_match(
        [PlayerId(p.id) for p in people],
        ranked=ranked,
        names=[p.handle for p in people],
        prompt_id=None,
    )
    players = [Player(p.handle, p.id, p.token, node.url) for p in people]
    for p in players:
        await p.connect()
        await p.join(created.seats[PlayerId(p.user_id)])
    return str(created.match_id), players, created


async def refused(client: Client, match_id: str, code: str) -> None:
    ref = await client.send("spectate.join", {"match_id": match_id})
    error = await client.wait("error", lambda d: d["ref"] == ref)
    assert error["d"]["code"] == code


@pytest.mark.parametrize("codec", [Codec.JSON, Codec.MSGPACK])
async def test_a_spectator_sees_the_match_no_earlier_than_the_delay(
    node: Node, codec: Codec
) -> None:
    people = await users(node, 4)
    (stranger,) = await users(node, 1)
    match_id, players, _ = await match_of(node, people)
    watcher = await spectator(node, stranger.token, codec)
    await watcher.send("spectate.join", {"match_id": match_id})
    state = (await watcher.wait("spectate.state"))["d"]
    assert state["delay"] == DELAY and state["phase"] == "lobby" and state["ranked"]
    assert [s["name"] for s in state["seats"]] == [None] * 4  # aliases only, for anyone
    assert all(s["alias"] and s["text_shown"] and s["text"] == "" for s in state["seats"])

    for p in players:
        await p.ready()
    for p in players:
        await p.c.wait("match.phase", lambda d: d["phase"] == "write")
    for round_ in range(3):
        for p in players:
            await p.write(1, start=round_)
        seen = len(watcher.all("spectate.events"))
        await watcher.until(lambda s=seen: len(watcher.all("spectate.events")) > s)
    for p in players:
        await p.c.wait("match.phase", lambda d: d["phase"] == "feedback")
    given = 0
    for p in players:
        given += len(await p.review_all())
    for p in players:
        await p.results()
    left = await watcher.wait("spectate.left")
    assert left["d"] == {"match_id": match_id, "reason": "ended"}

    frames = watcher.all("spectate.events")
    events = [(f["ts"], e) for f in frames for e in f["d"]["events"]]
    assert events, "the spectator got the match's events"
    # The delay is the server's: no event reached the spectator before its time + delay.
    for ts, e in events:
        assert ts >= round((e["at"] + DELAY) * 1000), (ts, e)
    assert state["at"] <= (watcher.find("spectate.state") or {})["ts"] / 1000 - DELAY + 1e-3

    # The drafts grew edit by edit, to exactly what the players wrote.
    texts = [s["text"] for s in state["seats"]]
    lengths: list[list[int]] = [[] for _ in texts]
    for _, e in events:
        if e["k"] == "edit":
            texts[e["seat"]] = apply(texts[e["seat"]], e)
            lengths[e["seat"]].append(len(texts[e["seat"]]))
    assert texts == [p.text for p in players]
    assert all(len(ls) >= 3 and ls == sorted(ls) and ls[0] > 0 for ls in lengths)

    # Reviews came only with the results, after the feedback phase.
    kinds = [e["k"] for _, e in events]
    phases = [e["phase"] for _, e in events if e["k"] == "phase"]
    assert "feedback" in phases and kinds[-1] == "closed"
    results = next(e for _, e in events if e["k"] == "results")
    assert results["reviews"] and results["hide"] == []
    feedback_end = next(
        e["at"] for _, e in events if e["k"] == "phase" and e["phase"] in ("scoring", "results")
    )
    assert results["at"] >= feedback_end
    assert kinds.count("reviewed") == given > 0
    for p in players:
        await p.c.close()
    await watcher.close()


async def test_who_may_watch(node: Node, database: str) -> None:
    people = await users(node, 4)
    (stranger, classmate, other_student) = await users(node, 3)
    (teacher, other_teacher) = await users(node, 2, "teacher", database)
    (admin,) = await users(node, 1, "admin", database)

    # A private practice match: nobody but its players, and not them while it runs.
    practice_id, practice_players, _ = await match_of(node, people, ranked=False)
    for who in (stranger, teacher):
        c = await spectator(node, who.token)
        await refused(c, practice_id, "match_not_found")
        await c.close()
    await refused(practice_players[0].c, practice_id, "match_not_found")
    c = await spectator(node, admin.token)
    await c.send("spectate.join", {"match_id": practice_id})
    assert (await c.wait("spectate.state"))["d"]["delay"] == 0  # admins: live
    await c.close()
    await refused(practice_players[0].c, str(uuid.uuid4()), "match_not_found")
    ref = await practice_players[0].c.send("spectate.join", {"match_id": "not-a-uuid"})
    bad = await practice_players[0].c.wait("error", lambda d: d["ref"] == ref)
    assert bad["d"]["code"] == "bad_value"
    for p in practice_players:
        await p.c.close()

    # A lobby's match of a class that may watch, anonymous: the teacher live with names,
    # the class with the delay and aliases only, another class's student not at all.
    people2 = await users(node, 4)
    lobby_match, lobby_players, _ = await match_of(node, people2, ranked=True)
    class_id = await klass(database, teacher, [*people2, classmate])
    await klass(database, other_teacher, [other_student])
    await lobby_of(
        database, teacher, [lobby_match], people2, class_id=class_id, class_may_watch=True
    )
    t = await spectator(node, teacher.token)
    await t.send("spectate.join", {"match_id": lobby_match})
    seen = (await t.wait("spectate.state"))["d"]
    assert seen["delay"] == 0
    assert [s["name"] for s in seen["seats"]] == [p.handle for p in people2]
    m = await spectator(node, classmate.token)
    await m.send("spectate.join", {"match_id": lobby_match})
    seen = (await m.wait("spectate.state"))["d"]
    assert seen["delay"] == DELAY
    # the match showed the students' names (a lobby without anonymity): so does the class
    assert [s["name"] for s in seen["seats"]] == [p.handle for p in people2]
    for who in (other_student, stranger, other_teacher):
        c = await spectator(node, who.token)
        await refused(c, lobby_match, "match_not_found")
        await c.close()

    # The cap: three spectators (teacher, classmate, admin); the fourth is refused.
    a = await spectator(node, admin.token)
    await a.send("spectate.join", {"match_id": lobby_match})
    assert (await a.wait("spectate.state"))["d"]["spectators"] == 3
    another = await spectator(node, admin.token)
    await refused(another, lobby_match, "spectators_full")
    # Leaving frees a place.
    ref = await m.send("spectate.leave")
    assert (await m.wait("spectate.left"))["d"]["reason"] == "left"
    ref = await m.send("spectate.leave")
    assert (await m.wait("error", lambda d: d["ref"] == ref))["d"]["code"] == "not_watching"
    await another.send("spectate.join", {"match_id": lobby_match})
    await another.wait("spectate.state")
    for c in (t, m, a, another):
        await c.close()
    for p in lobby_players:
        await p.c.close()


async def test_anonymous_lobby_never_shows_a_name_to_a_spectator(node: Node, database: str) -> None:
    people = await users(node, 4)
    (classmate,) = await users(node, 1)
    (teacher,) = await users(node, 1, "teacher", database)
    hub = node.app[REALTIME]
    created = await hub.create_match(  # an anonymous lobby's match shows aliases only
        [PlayerId(p.id) for p in people], ranked=False, names=[], prompt_id=None
    )
    match_id = str(created.match_id)
    class_id = await klass(database, teacher, [*people, classmate])
    await lobby_of(database, teacher, [match_id], people, class_id=class_id, class_may_watch=True)
    m = await spectator(node, classmate.token)
    await m.send("spectate.join", {"match_id": match_id})
    frame = await m.wait("spectate.state")
    assert [s["name"] for s in frame["d"]["seats"]] == [None] * 4
    assert not any(p.handle in str(frame) for p in people)
    t = await spectator(node, teacher.token)
    await t.send("spectate.join", {"match_id": match_id})
    names = [s["name"] for s in (await t.wait("spectate.state"))["d"]["seats"]]
    assert names == [p.handle for p in people]  # the teacher: real names
    await m.close()
    await t.close()


async def test_the_live_list(node: Node, database: str) -> None:
    people = await users(node, 4)
    more = await users(node, 4)
    practice = await users(node, 4)
    (stranger,) = await users(node, 1)
    first, p1, _ = await match_of(node, people)
    second, p2, _ = await match_of(node, more)
    hidden, p3, _ = await match_of(node, practice, ranked=False)
    watcher = await spectator(node, stranger.token)
    await watcher.send("spectate.join", {"match_id": first})
    await watcher.wait("spectate.state")

    async def page(token: str, query: str = "") -> dict[str, Any]:
        async with node.http.get(
            f"{node.url}/api/v1/matches/live{query}",
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 200, await resp.text()
            body: dict[str, Any] = await resp.json()
            return body

    listed = await page(stranger.token)
    ids = [i["match_id"] for i in listed["items"]]
    assert ids == [second, first] and hidden not in ids and listed["next_cursor"] is None
    by_id = {i["match_id"]: i for i in listed["items"]}
    assert by_id[first]["spectators"] == 1 and by_id[second]["spectators"] == 0
    assert by_id[first]["seats"] == 4 and by_id[first]["delay"] == DELAY
    assert by_id[first]["phase"] == "lobby" and by_id[first]["prompt"]["title"]
    # a player is not offered their own running match
    mine = [i["match_id"] for i in (await page(people[0].token))["items"]]
    assert first not in mine and second in mine
    # pagination: one at a time, in the same order
    one = await page(stranger.token, "?limit=1")
    assert [i["match_id"] for i in one["items"]] == [second] and one["next_cursor"]
    two = await page(stranger.token, f"?limit=1&cursor={one['next_cursor']}")
    assert [i["match_id"] for i in two["items"]] == [first] and two["next_cursor"] is None
    for query in ("?limit=0", "?limit=x", "?cursor=%%%", "?cursor=bm9wZQ"):
        async with node.http.get(
            f"{node.url}/api/v1/matches/live{query}",
            headers={"Authorization": f"Bearer {stranger.token}"},
        ) as resp:
            assert resp.status == 422, query
            assert (await resp.json())["error"]["code"]
    async with node.http.get(f"{node.url}/api/v1/matches/live") as resp:
        assert resp.status == 401
    await watcher.close()
    for p in [*p1, *p2, *p3]:
        await p.c.close()


async def test_joining_mid_match_rejoining_and_switching(node: Node) -> None:
    people = await users(node, 4)
    others = await users(node, 4)
    (stranger,) = await users(node, 1)
    match_id, players, _ = await match_of(node, people)
    other_id, other_players, _ = await match_of(node, others)
    await start_writing(players)
    # Joined mid-match: the room reads the log so far; the state is the match `delay` ago.
    watcher = await spectator(node, stranger.token, Codec.MSGPACK)
    await watcher.send("spectate.join", {"match_id": match_id})
    first = await watcher.wait("spectate.state")
    state = first["d"]
    assert state["at"] == pytest.approx(first["ts"] / 1000 - DELAY, abs=0.002)

    def follow() -> list[str]:
        texts = [s["text"] for s in state["seats"]]
        for f in watcher.all("spectate.events"):
            for e in f["d"]["events"]:
                assert f["ts"] >= round((e["at"] + DELAY) * 1000)
                assert e["at"] > state["at"]  # nothing the state already showed
                if e["k"] == "edit":
                    texts[e["seat"]] = apply(texts[e["seat"]], e)
        return texts

    await watcher.until(lambda: follow() == [p.text for p in players])
    # The same match again: a fresh state, still one spectator.
    mark = len(watcher.events)
    await watcher.send("spectate.join", {"match_id": match_id})
    again = await watcher.wait("spectate.state", start=mark)
    assert again["d"]["spectators"] == 1
    assert [s["text"] for s in again["d"]["seats"]] == [p.text for p in players]
    # Another match: the first is left ("replaced").
    mark = len(watcher.events)
    await watcher.send("spectate.join", {"match_id": other_id})
    left = await watcher.wait("spectate.left", start=mark)
    assert left["d"] == {"match_id": match_id, "reason": "replaced"}
    assert (await watcher.wait("spectate.state", start=mark))["d"]["match_id"] == other_id
    hub = node.app[REALTIME]
    assert hub.spectators.count(match_id) == 0 and hub.spectators.count(other_id) == 1
    assert match_id not in hub.spectators.rooms  # an empty room is dropped
    await watcher.close()
    await watcher.until(lambda: hub.spectators.count(other_id) == 0)
    for p in [*players, *other_players]:
        await p.c.close()


async def test_the_live_list_looks_past_matches_the_caller_may_not_watch(node: Node) -> None:
    hub = node.app[REALTIME]
    people = await users(node, 20)
    (stranger,) = await users(node, 1)
    ids = [PlayerId(p.id) for p in people]
    ranked = await hub.create_match(ids[:4], ranked=True, names=[], prompt_id=None)
    for i in range(1, 5):  # newer, private: a page of one looks at three at a time
        await hub.create_match(ids[4 * i : 4 * i + 4], ranked=False, names=[], prompt_id=None)
    async with node.http.get(
        f"{node.url}/api/v1/matches/live?limit=1",
        headers={"Authorization": f"Bearer {stranger.token}"},
    ) as resp:
        body = await resp.json()
    assert [i["match_id"] for i in body["items"]] == [str(ranked.match_id)]
    assert body["next_cursor"] is None


async def test_the_public_first_page_is_shared_for_a_while(node: Node, database: str) -> None:
    """Most callers share one built first page for live_list_cache_seconds (clock pinned
    here): its spectator counts lag until it expires, a new match rebuilds it at once,
    and a caller it is not true for (a seated player, a class that may watch a live
    lobby, a teacher) gets a page of their own."""
    pages = node.app[PUBLIC_PAGES]
    assert pages.seconds == Settings().replays.live_list_cache_seconds == 1.0
    pages.fixed = 1000.0
    people, more, lobby_people = [await users(node, 4) for _ in range(3)]
    (stranger, other, classmate) = await users(node, 3)
    (teacher,) = await users(node, 1, "teacher", database)

    async def listed(token: str) -> dict[str, dict[str, Any]]:
        async with node.http.get(
            f"{node.url}/api/v1/matches/live", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 200, await resp.text()
            return {i["match_id"]: i for i in (await resp.json())["items"]}

    first, p1, _ = await match_of(node, people)
    assert (await listed(stranger.token))[first]["spectators"] == 0
    watcher = await spectator(node, stranger.token)
    await watcher.send("spectate.join", {"match_id": first})
    await watcher.wait("spectate.state")
    assert (await listed(other.token))[first]["spectators"] == 0  # the shared page
    pages.fixed += 1.0
    assert (await listed(other.token))[first]["spectators"] == 1  # expired: built again
    # A new match is listed at once, whatever the clock.
    second, p2, _ = await match_of(node, more)
    assert set(await listed(other.token)) == {first, second}
    # Seated players are not offered their own match.
    assert set(await listed(people[0].token)) == {second}
    # A live lobby match the class may watch: the classmate sees it, the public page not.
    lobby_match, p3, _ = await match_of(node, lobby_people)
    class_id = await klass(database, teacher, [*lobby_people, classmate])
    await lobby_of(
        database, teacher, [lobby_match], lobby_people, class_id=class_id, class_may_watch=True
    )
    assert set(await listed(stranger.token)) == {first, second}
    assert set(await listed(classmate.token)) == {first, second, lobby_match}
    seen = await listed(teacher.token)
    assert seen[lobby_match]["delay"] == 0 and seen[first]["delay"] == DELAY
    await watcher.close()
    for p in [*p1, *p2, *p3]:
        await p.c.close()


async def test_a_crowd_gets_every_frame_in_order(
    settings: Settings, database: str, redis_url: str
) -> None:
    """More spectators than one loop turn writes to (room.FANOUT_PER_TURN): every one of
    them gets the same frames in the same order, the last events before spectate.left."""
    crowd_size = 2 * FANOUT_PER_TURN + 5
    settings = settings.replace(
        match={
            **FAST,
            "write_seconds": 2.0,
            "spectator_delay_seconds": DELAY,
            "spectator_tick_seconds": 0.05,
        },
        limits=UNTHROTTLED,
    )
    async with running_node(settings, database, redis_url) as node:
        people = await users(node, 4)
        watchers = await users(node, crowd_size)
        match_id, players, _ = await match_of(node, people)
        crowd = [await spectator(node, w.token) for w in watchers]
        for c in crowd:
            await c.send("spectate.join", {"match_id": match_id})
        for c in crowd:
            await c.wait("spectate.state")
        await start_writing(players)
        for p in players:
            await p.c.wait("match.phase", lambda d: d["phase"] == "feedback")
        for p in players:
            await p.review_all()
        for p in players:
            await p.results()
        for c in crowd:
            left = await c.wait("spectate.left")
            assert left["d"] == {"match_id": match_id, "reason": "ended"}

        def seen(c: Client) -> list[tuple[str, float]]:
            after_state = c.events[c.events.index(c.all("spectate.state")[-1]) :]
            out = [(e["t"], 0.0) for e in after_state if e["t"] == "spectate.left"]
            frames = [(e["k"], e["at"]) for f in c.all("spectate.events") for e in f["d"]["events"]]
            assert c.events[-1]["t"] == "spectate.left"  # nothing after it
            return frames + out

        first = seen(crowd[0])
        assert [k for k, _ in first][-2:] == ["closed", "spectate.left"]
        assert all(seen(c) == first for c in crowd[1:])
        for c in crowd:
            await c.close()
        for p in players:
            await p.c.close()

"""Matchmaking end to end: players queue on two nodes, the matchmaker forms fair parties,
each match is hosted by one node, players move to it, bots fill what humans can't, and
every match completes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from matchmaker.service import Matchmaker
from server.config import Settings
from server.http.state import REALTIME
from server.matchqueue import keys
from server.matchqueue import queue as mmqueue
from server.matchqueue.messages import AssignedSeat, Assignment, MatchFound, QueueTicket
from server.realtime.tuning import Tuning
from server.storage.matches import is_bot
from server.types import MatchId, NodeId, PlayerId, SeatToken
from tests.realtime.client import WAIT
from tests.realtime.helpers import (
    FAST,
    eventually,
    fetch,
    http_for,
    replay_stored,
    running_node,
)
from tests.realtime.players import Player, gather


@contextlib.asynccontextmanager
async def matchmaker(settings: Settings, redis_url: str) -> AsyncIterator[Matchmaker]:
    redis = Redis.from_url(redis_url)
    mm = Matchmaker(redis, settings, instance_id="mm-test")
    stop = asyncio.Event()
    task = asyncio.create_task(mm.run(stop))
    try:
        yield mm
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)
        await redis.aclose()


@contextlib.asynccontextmanager
async def bot_pool(settings: Settings, database: str, redis_url: str) -> AsyncIterator[None]:
    """A bot pool (in this process) whose bots play over real WebSockets."""
    from bots.pool import BotPool
    from bots.tokens import BotTokens
    from server.ai.build import offline_engines
    from tests.bots.helpers import FAST_BACKOFF, FAST_PACE

    redis = Redis.from_url(redis_url)
    tokens = await BotTokens.from_database(database, settings)
    pool = BotPool(
        redis,
        settings,
        tokens,
        offline_engines(),
        consumer="pool-test",
        pace=FAST_PACE,
        backoff=FAST_BACKOFF,
        block=0.1,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pool.run(stop, grace=WAIT))
    try:

        async def alive() -> bool:
            return bool(await redis.exists(keys.BOTS_ALIVE))

        await eventually(alive, "the bot pool announces itself")
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT * 2)
        await redis.aclose()


def mm_settings(settings: Settings, node_id: str, **matchmaker: Any) -> Settings:
    return settings.replace(
        match={**FAST, "feedback_seconds": 8.0},
        server={"node_id": node_id},
        matchmaker={
            "tick_seconds": 0.05,
            "bot_fill_after_seconds": 2.0,
            "accept_five_after_seconds": 0.5,
            "accept_four_after_seconds": 1.0,
            **matchmaker,
        },
    )


async def play_out(player: Player) -> dict[str, Any]:
    """Ready, write, review, read the results; returns ``match.results.d``."""
    await player.ready()
    await player.c.wait("match.phase", lambda d: d["phase"] == "write")
    await player.write(2)
    await player.review_all()
    results, _ = await player.results()
    return results


async def queue_and_follow(player: Player, urls: dict[str, str]) -> dict[str, Any]:
    """Queue, wait for the reservation, move to the hosting node, take the seat."""
    await player.c.send("queue.join", {"mode": "ranked"})
    queued = await player.c.wait("queue.status", lambda d: d["status"] == "queued")
    assert queued["d"]["estimate_seconds"] is not None
    matched = (await player.c.wait("queue.status", lambda d: d["status"] == "matched"))["d"]
    host = urls[matched["node_url"]]
    if host != player.url:
        await player.c.close()
        player.session_token = "new"  # a session is per node; the seat token carries over
        await player.connect(host)
    state = await player.join(matched["seat_token"])
    return {"matched": matched, "state": state}


async def test_nine_humans_on_two_nodes_make_two_fair_matches(
    settings: Settings, database: str, redis_url: str
) -> None:
    a_settings = mm_settings(settings, "node-a")
    b_settings = mm_settings(settings, "node-b")
    async with (
        running_node(a_settings, database, redis_url) as node_a,
        running_node(b_settings, database, redis_url) as node_b,
    ):
        await node_a.app[REALTIME].connect_matchmaking(node_a.url)
        await node_b.app[REALTIME].connect_matchmaking(node_b.url)
        urls = {
            node_a.url.replace("http://", "ws://") + "/ws": node_a.url,
            node_b.url.replace("http://", "ws://") + "/ws": node_b.url,
        }
        players = []
        for i in range(9):
            node = node_a if i < 5 else node_b
            user = await http_for(node).register()
            players.append(Player(f"p{i}", user.id, user.token, node.url))
        await gather(*(p.connect() for p in players))
        async with bot_pool(a_settings, database, redis_url), matchmaker(a_settings, redis_url):
            seated = await gather(*(queue_and_follow(p, urls) for p in players))
            by_match: dict[str, list[Player]] = {}
            for p, s in zip(players, seated, strict=True):
                by_match.setdefault(s["matched"]["match_id"], []).append(p)
            assert len(by_match) == 2
            hubs = {node_a.url: node_a.app[REALTIME], node_b.url: node_b.app[REALTIME]}
            for match_id, members in by_match.items():
                hosts = {p.url for p in members}
                assert len(hosts) == 1  # everyone of a match landed on its hosting node
                (host,) = hosts
                assert match_id in hubs[host].runners
            sizes = sorted(len(m) for m in by_match.values())
            assert sum(sizes) == 9
            for match_id in by_match:  # bot seats, if any, are the pool's (over sockets)
                runner = next(h.runners[match_id] for h in hubs.values() if match_id in h.runners)
                assert not runner.bots
            results = await gather(*(play_out(p) for p in players))
        for match_id in by_match:
            await replay_stored(database, match_id)
        rows = await fetch(database, "SELECT id, node_id FROM matches ORDER BY node_id")
        assert {str(r["id"]) for r in rows} == set(by_match)
        assert all(len(r["ranking"]) >= 4 for r in results)
        history = await fetch(database, "SELECT count(*) AS n FROM rating_history WHERE NOT is_bot")
        assert history[0]["n"] == 9
        redis = Redis.from_url(redis_url)
        try:
            assert await redis.hlen(keys.TICKETS) == 0
        finally:
            await redis.aclose()


async def test_a_lone_human_gets_bots_after_the_wait(
    settings: Settings, database: str, redis_url: str
) -> None:
    s = mm_settings(settings, "solo-node", bot_fill_after_seconds=1.0)
    async with running_node(s, database, redis_url) as node:
        await node.app[REALTIME].connect_matchmaking(node.url)
        user = await http_for(node).register()
        human = Player("solo", user.id, user.token, node.url)
        await human.connect()
        async with matchmaker(s, redis_url):
            got = await queue_and_follow(
                human, {node.url.replace("http://", "ws://") + "/ws": node.url}
            )
            seats = got["state"]["seats"]
            assert len(seats) >= 4 and sum(1 for x in seats if x["you"]) == 1
            results = await play_out(human)
        assert len(results["ranking"]) == len(seats)
        match_id = got["matched"]["match_id"]
        await replay_stored(database, match_id)
        bots = await fetch(
            database,
            "SELECT count(*) AS n FROM seats WHERE match_id = $1 AND is_bot",
            uuid.UUID(match_id),
        )
        assert bots[0]["n"] == len(seats) - 1


async def test_leaving_the_queue_and_disconnecting_remove_the_ticket(
    settings: Settings, database: str, redis_url: str
) -> None:
    s = mm_settings(settings, "leave-node", bot_fill_after_seconds=600.0)
    async with running_node(s, database, redis_url) as node:
        await node.app[REALTIME].connect_matchmaking(node.url)
        http = http_for(node)
        ua, ub = await http.register(), await http.register()
        a = Player("a", ua.id, ua.token, node.url)
        b = Player("b", ub.id, ub.token, node.url)
        await gather(a.connect(), b.connect())
        redis = Redis.from_url(redis_url)
        try:
            for p in (a, b):
                await p.c.send("queue.join", {"mode": "ranked"})
                await p.c.wait("queue.status", lambda d: d["status"] == "queued")
            assert await redis.hlen(keys.TICKETS) == 2
            await a.c.send("queue.leave")
            await a.c.wait("queue.status", lambda d: d["status"] == "left")
            again = await a.c.send("queue.leave")
            refused = await a.c.wait("error", lambda d: d["ref"] == again)
            assert refused["d"]["code"] == "not_queued"
            await b.c.close()

            async def emptied() -> bool:
                return await redis.hlen(keys.TICKETS) == 0

            await eventually(emptied, "the disconnected player's ticket is removed")
        finally:
            await redis.aclose()


@pytest.mark.parametrize("mode", ["ranked", "practice"])
async def test_queue_join_answers_with_an_estimate(
    settings: Settings, database: str, redis_url: str, mode: str
) -> None:
    s = mm_settings(settings, "est-node", bot_fill_after_seconds=600.0)
    async with running_node(s, database, redis_url, Tuning(queue_update_seconds=0.05)) as node:
        await node.app[REALTIME].connect_matchmaking(node.url)
        user = await http_for(node).register()
        p = Player("p", user.id, user.token, node.url)
        await p.connect()
        await p.c.send("queue.join", {"mode": mode})
        status = (await p.c.wait("queue.status"))["d"]
        assert status == {**status, "status": "queued", "mode": mode}
        assert status["estimate_seconds"] > 0
        # While queued, the player keeps getting fresh estimates.
        await p.c.until(lambda: len(p.c.all("queue.status")) >= 3)
        assert all(e["d"]["status"] == "queued" for e in p.c.all("queue.status"))


async def test_bot_seats_are_played_by_the_pool_over_websockets(
    settings: Settings, database: str, redis_url: str
) -> None:
    """A lone human's match is bot-filled; with a pool alive, the pool's bots take those
    seats over real sockets (no in-process bots) and the match completes."""
    s = mm_settings(settings, "pool-node", bot_fill_after_seconds=1.0)
    async with running_node(s, database, redis_url) as node:
        hub = node.app[REALTIME]
        await hub.connect_matchmaking(node.url)
        user = await http_for(node).register()
        human = Player("solo", user.id, user.token, node.url)
        await human.connect()
        async with bot_pool(s, database, redis_url), matchmaker(s, redis_url):
            urls = {node.url.replace("http://", "ws://") + "/ws": node.url}
            got = await queue_and_follow(human, urls)
            match_id = got["matched"]["match_id"]
            runner = hub.runners[match_id]
            assert runner.remote_bots and not runner.bots  # nobody plays in-process
            results = await play_out(human)
        assert len(results["ranking"]) == len(got["state"]["seats"])
        assert all(row["words"] > 0 for row in results["ranking"])  # the bots wrote
        await replay_stored(database, match_id)
        reviews = await fetch(
            database,
            "SELECT count(*) AS n FROM reviews WHERE match_id = $1 AND reviewer_id LIKE 'bot:%'",
            uuid.UUID(match_id),
        )
        assert reviews[0]["n"] >= 2  # the bots reviewed over the wire


async def test_a_party_with_a_player_already_seated_still_plays(
    settings: Settings, database: str, redis_url: str
) -> None:
    """A player who queued again while their match was being formed is in two parties:
    the first seats them and drops the stale ticket; the second plays with a bot in
    their place (nobody else of that party is left waiting), and only its seated
    players are told about it."""
    s = mm_settings(settings, "busy-node", bot_fill_after_seconds=600.0)
    async with running_node(s, database, redis_url) as node:
        hub = node.app[REALTIME]
        await hub.connect_matchmaking(node.url)
        http = http_for(node)
        users = [PlayerId((await http.register()).id) for _ in range(4)]
        redis = Redis.from_url(redis_url)
        try:
            busy = users[0]
            stale = QueueTicket(busy, 25.0, 8.3, "ranked", 1.0, NodeId("busy-node"))
            await mmqueue.join(redis, stale)
            first = await hub.create_match([busy], bots=3)
            assert await redis.hget(keys.TICKETS, busy) is None  # the stale ticket is gone
            await redis.delete(keys.node_notify("busy-node"))
            second = Assignment(
                MatchId(str(uuid.uuid4())),
                "ranked",
                tuple(
                    AssignedSeat(u, 25.0, 8.3, NodeId("busy-node"), SeatToken(f"seat_t{i}"))
                    for i, u in enumerate(users)
                ),
            )
            await redis.hset(keys.CLAIMED, mapping=dict.fromkeys(users, "9999999999"))
            await hub.host_assignment(second)
            assert await redis.hmget(keys.CLAIMED, users) == [None] * 4  # free to queue later
            seats = [seat.player for seat in hub.runners[second.match_id].match.state.seats]
            assert seats[:3] == users[1:] and len(seats) == 4 and is_bot(seats[3])
            assert hub.seated[busy] == first.match_id
            told = [
                MatchFound.decode(fields[b"found"]).player
                for _, fields in await redis.xrange(keys.node_notify("busy-node"))
            ]
            assert sorted(told) == sorted(users[1:])
        finally:
            await redis.aclose()

"""The matchmaker against real Redis: following the queue, claiming, assigning, failover."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import BlockingConnectionPool, Redis

from matchmaker.service import Matchmaker
from server.config import Settings
from server.matchqueue import keys, nodes, queue
from server.matchqueue.messages import Assignment, MatchFound, QueueTicket
from server.storage.redispool import redis_pool
from server.types import NodeId, PlayerId
from tests.bots.helpers import until
from tests.realtime.client import WAIT

T0 = 1_800_000_000.0


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def mm_settings(**matchmaker: Any) -> Settings:
    return Settings().replace(matchmaker=matchmaker) if matchmaker else Settings()


async def join(
    redis: Redis,
    n: int,
    *,
    node: str = "node-a",
    mu: float = 25.0,
    at: float = T0,
    prefix: str = "p",
) -> list[PlayerId]:
    players = [PlayerId(f"{prefix}{i}") for i in range(n)]
    for i, p in enumerate(players):
        await queue.join(redis, QueueTicket(p, mu + i * 0.1, 3.0, "ranked", at, NodeId(node)))
    return players


async def assignments(redis: Redis, node: str) -> list[Assignment]:
    entries: Any = await redis.xrange(keys.node_assign(node))
    return [Assignment.decode(f[b"assignment"]) for _, f in entries]


async def found(redis: Redis, node: str) -> list[MatchFound]:
    entries: Any = await redis.xrange(keys.node_notify(node))
    return [MatchFound.decode(f[b"found"]) for _, f in entries]


async def test_six_similar_players_become_one_match_on_the_live_node(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://127.0.0.1:1", 0, ttl_s=60)
    players = await join(redis, 6)
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    assert await mm.ensure_leadership()
    (made,) = await mm.process_once(T0 + 1)
    assert sorted(s.player for s in made.seats) == sorted(players)
    assert await assignments(redis, "node-a") == [made]
    assert len({s.seat_token for s in made.seats}) == 6
    assert all(s.node == "node-a" for s in made.seats)  # where each player waits
    # Players are told by the host once the match exists, not by the matchmaker.
    assert await found(redis, "node-a") == []
    assert await redis.hlen(keys.TICKETS) == 0
    # Held until the host has made the match: a new ticket of theirs would be refused.
    assert set(await redis.hkeys(keys.CLAIMED)) == {p.encode() for p in players}
    assert await mm.process_once(T0 + 2) == []


async def test_least_loaded_node_hosts_and_seats_name_the_players_nodes(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("busy"), "http://busy", 40, ttl_s=60)
    await nodes.heartbeat(redis, NodeId("idle"), "http://idle", 3, ttl_s=60)
    a = await join(redis, 3, node="busy", prefix="a")
    b = await join(redis, 3, node="other", prefix="b")
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    await mm.ensure_leadership()
    (made,) = await mm.process_once(T0 + 1)
    assert await assignments(redis, "idle") == [made] and await assignments(redis, "busy") == []
    nodes_of = {s.player: s.node for s in made.seats}
    assert {p: nodes_of[p] for p in a} == dict.fromkeys(a, "busy")
    assert {p: nodes_of[p] for p in b} == dict.fromkeys(b, "other")


async def test_no_live_node_keeps_everyone_queued(redis: Redis) -> None:
    await join(redis, 6)
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    await mm.ensure_leadership()
    assert await mm.process_once(T0 + 1) == []
    assert await redis.hlen(keys.TICKETS) == 6 and len(mm.former) == 6
    await nodes.heartbeat(redis, NodeId("late"), "http://late", 0, ttl_s=60)
    assert len(await mm.process_once(T0 + 2)) == 1


async def test_a_player_who_leaves_is_never_matched(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://a", 0, ttl_s=60)
    players = await join(redis, 6)
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    await mm.ensure_leadership()
    assert await queue.leave(redis, players[0])
    assert not await queue.leave(redis, players[0])
    # Five remain: a party of five needs the oldest to have waited accept_five_after.
    assert await mm.process_once(T0 + 1) == []
    (made,) = await mm.process_once(T0 + 11)
    assert players[0] not in {s.player for s in made.seats} and len(made.seats) == 5


async def test_a_lone_player_gets_bots_after_the_wait(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://a", 0, ttl_s=60)
    (alone,) = await join(redis, 1, mu=31.0)
    mm = Matchmaker(redis, mm_settings(bot_fill_after_seconds=30.0), instance_id="mm-1")
    await mm.ensure_leadership()
    assert await mm.process_once(T0 + 29) == []
    (made,) = await mm.process_once(T0 + 31)
    assert [s.player for s in made.seats] == [alone]
    assert made.bot_seats >= 3 and made.bot_mu == pytest.approx(31.0)


async def test_standby_takes_over_without_losing_or_doubling_tickets(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://a", 0, ttl_s=60)
    active = Matchmaker(redis, mm_settings(), instance_id="mm-active")
    standby = Matchmaker(redis, mm_settings(), instance_id="mm-standby")
    assert await active.ensure_leadership()
    assert not await standby.ensure_leadership()
    first = await join(redis, 6, prefix="x")
    assert len(await active.process_once(T0 + 1)) == 1
    second = await join(redis, 6, prefix="y", mu=40.0)
    await active.sync()  # the active one has read the new tickets, then "dies"
    await redis.delete(keys.LOCK)  # its lock expires
    assert await standby.ensure_leadership()
    assert len(standby.former) == 6
    # The deposed instance wakes up and tries to assign: fenced, nothing written.
    assert not await active.ensure_leadership()
    made = await standby.process_once(T0 + 2)
    assert len(made) == 1
    matched = [s.player for a in await assignments(redis, "node-a") for s in a.seats]
    assert sorted(matched) == sorted(first + second)  # each exactly once
    assert await redis.hlen(keys.TICKETS) == 0


async def test_fenced_claim_writes_nothing(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://a", 0, ttl_s=60)
    await join(redis, 6)
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    await mm.ensure_leadership()
    await mm.sync()
    await redis.set(keys.LOCK, "someone-else")
    assert await mm.process_once(T0 + 1) == []
    assert not mm.leader
    assert await assignments(redis, "node-a") == [] and await redis.hlen(keys.TICKETS) == 6


async def test_a_ticket_changed_under_the_matchmaker_is_not_claimed(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("node-a"), "http://a", 0, ttl_s=60)
    players = await join(redis, 6)
    mm = Matchmaker(redis, mm_settings(), instance_id="mm-1")
    await mm.ensure_leadership()
    # Rewrite one ticket directly in the hash (no event): the claim must notice.
    changed = QueueTicket(players[2], 25.0, 3.0, "ranked", T0 + 0.5, NodeId("node-b"))
    await redis.hset(keys.TICKETS, players[2], changed.encode())
    assert await mm.process_once(T0 + 1) == []
    assert mm.stats.claims_failed == 1
    assert await redis.hlen(keys.TICKETS) == 6


async def test_estimates_are_published(redis: Redis) -> None:
    mm = Matchmaker(redis, mm_settings(bot_fill_after_seconds=30.0), instance_id="mm-1")
    await mm.ensure_leadership()
    await mm.process_once(T0)
    assert await queue.estimate(redis, "ranked", 25.0, default=-1.0) > 0


async def test_release_hands_over_at_once(redis: Redis) -> None:
    a = Matchmaker(redis, mm_settings(), instance_id="mm-a")
    b = Matchmaker(redis, mm_settings(), instance_id="mm-b")
    assert await a.ensure_leadership()
    await a.release()
    assert await b.ensure_leadership()


async def test_node_registry_forgets_silent_and_retired_nodes(redis: Redis) -> None:
    await nodes.heartbeat(redis, NodeId("n1"), "http://n1", 2, ttl_s=60)
    await nodes.heartbeat(redis, NodeId("n2"), "http://n2", 1, ttl_s=60)
    await redis.delete(keys.node_alive("n2"))  # as if its heartbeat expired
    assert [n.node for n in await nodes.live_nodes(redis)] == ["n1"]
    await nodes.retire(redis, NodeId("n1"))
    assert await nodes.live_nodes(redis) == []


async def test_a_tick_waits_for_a_busy_connection_instead_of_failing(redis_url: str) -> None:
    """``python -m matchmaker`` uses the node's bounded pool: with its one connection busy,
    a tick waits for it (redis-py's plain pool would raise "Too many connections")."""
    settings = mm_settings().replace(
        storage={"redis_pool_max": 1, "redis_pool_timeout_seconds": WAIT}
    )
    client = Redis.from_pool(redis_pool(redis_url, settings))
    try:
        pool = client.connection_pool
        assert isinstance(pool, BlockingConnectionPool) and pool.max_connections == 1
        await nodes.heartbeat(client, NodeId("node-a"), "http://127.0.0.1:1", 0, ttl_s=60)
        players = await join(client, 6)

        async def hold() -> Any:
            return await client.blpop(["test:never"], timeout=0.3)

        held = asyncio.create_task(hold())
        await until(lambda: len(pool._in_use_connections) == 1, "the read to hold the connection")
        mm = Matchmaker(client, settings, instance_id="mm-1")
        assert await mm.ensure_leadership()  # waited for the connection
        (made,) = await mm.process_once(T0 + 1)
        assert sorted(s.player for s in made.seats) == sorted(players)
        assert await held is None
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1
    finally:
        await client.aclose()

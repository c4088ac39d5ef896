"""The node's side of the queue: wait estimates in one round trip, no ticket while a
claimed one's match is being created."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.matchqueue import keys, queue
from server.matchqueue.messages import QueueTicket
from server.types import NodeId, PlayerId


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.delete(keys.ESTIMATES)
    yield client
    await client.delete(keys.ESTIMATES)
    await client.aclose()


async def test_many_estimates_match_one_by_one(redis: Redis) -> None:
    await redis.hset(keys.ESTIMATES, keys.estimate_field("ranked", 25.0), "7.5")
    await redis.hset(keys.ESTIMATES, keys.estimate_field("practice", 40.0), "3")
    wanted = [("ranked", 25.0), ("practice", 40.0), ("ranked", 10.0), ("ranked", 25.0)]
    found = await queue.estimates(redis, wanted, default=30.0)
    assert found == {pair: await queue.estimate(redis, *pair, default=30.0) for pair in wanted}
    assert found[("ranked", 25.0)] == 7.5 and found[("ranked", 10.0)] == 30.0
    assert await queue.estimates(redis, [], default=30.0) == {}


async def test_a_claimed_player_cannot_queue_until_the_match_exists(redis: Redis) -> None:
    await redis.delete(keys.CLAIMED, keys.TICKETS)
    player = PlayerId("claimed-player")
    ticket = QueueTicket(player, 25.0, 8.3, "ranked", 1.0, NodeId("n1"))
    await redis.hset(keys.CLAIMED, player, str(int(time.time()) + 60))  # as a claim does
    assert not await queue.join(redis, ticket)
    assert await redis.hget(keys.TICKETS, player) is None
    await queue.release_claims(redis, [player])
    assert await queue.join(redis, ticket)
    assert await redis.hget(keys.TICKETS, player) == ticket.encode()
    # A hold whose match never came runs out by itself.
    await queue.leave(redis, player)
    await redis.hset(keys.CLAIMED, player, str(int(time.time()) - 1))
    assert await queue.join(redis, ticket)
    assert await redis.hget(keys.CLAIMED, player) is None
    await redis.delete(keys.CLAIMED, keys.TICKETS)

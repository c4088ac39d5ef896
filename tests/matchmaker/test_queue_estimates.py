"""Wait estimates for everyone queued on a node, in one round trip."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.matchqueue import keys, queue


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

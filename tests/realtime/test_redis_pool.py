"""The node's Redis pool is bounded and waits for a free connection instead of failing."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import BlockingConnectionPool

from server.config import Settings
from server.http.state import REALTIME, REDIS
from server.realtime.tuning import Tuning
from tests.realtime.helpers import FAST, http_for, running_node
from tests.realtime.players import Player


async def test_commands_wait_for_a_connection(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(storage={"redis_pool_max": 2, "redis_pool_timeout_seconds": 30})
    async with running_node(settings, database, redis_url) as node:
        redis = node.app[REDIS]
        pool = redis.connection_pool
        assert isinstance(pool, BlockingConnectionPool) and pool.max_connections == 2
        key = f"test:{uuid.uuid4().hex}"
        # Both connections busy for a while, 100 commands behind them: they wait, not fail.
        blocked = [redis.blpop([f"{key}:never"], timeout=0.3) for _ in range(2)]
        waits = await asyncio.gather(*blocked, *(redis.incr(key) for _ in range(100)))
        assert waits[:2] == [None, None] and await redis.get(key) == b"100"
        opened = len(pool._available_connections) + len(pool._in_use_connections)
        assert opened <= 2  # never more than the bound
        hub = node.app[REALTIME]
        assert hub.pubsub is not pool  # the revocation channel has connections of its own


async def test_a_match_with_bots_plays_through_a_tiny_pool(
    settings: Settings, database: str, redis_url: str
) -> None:
    """Match-log writes, sessions, joins and the revocation channel on one connection."""
    settings = settings.replace(
        match={**FAST, "feedback_seconds": 6.0}, storage={"redis_pool_max": 1}
    )
    async with running_node(settings, database, redis_url, Tuning()) as node:
        user = await http_for(node).register()
        human = Player("human", user.id, user.token, node.url)
        await human.connect()
        await human.c.send("match.quickplay")
        matched = (await human.c.wait("queue.status"))["d"]
        state = await human.join(matched["seat_token"])
        assert state["phase"] == "lobby"
        await human.ready()
        await human.c.wait("match.phase", lambda d: d["phase"] == "write")
        await human.write(3)
        await human.review_all()
        results, _ = await human.results()
        assert len(results["ranking"]) == 4
        await human.c.close()

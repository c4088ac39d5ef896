"""What the bot pool process runs on: its AI engines in warm worker processes, off its event
loop, and Redis through the node's bounded pool, which waits for a busy connection."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError, RedisError

from bots.ai import LIMIT_PER_WORKER, bot_engines
from bots.player import Status
from bots.pool import BotPool
from bots.tokens import BotTokens
from server.ai.build import offline_engines
from server.config import Settings
from server.matchqueue import keys
from server.matchqueue.messages import BotRequest
from server.realtime.aipool import OfflinePool
from server.storage.redispool import redis_pool
from server.types import MatchId, PlayerId, SeatToken
from tests.bots.helpers import FAST_BACKOFF, FAST_PACE, PHASES, until
from tests.realtime.client import WAIT
from tests.realtime.helpers import http_for, replay_stored, running_node

T = TypeVar("T")


class WatchedPool(OfflinePool):
    """The real pool, recording for every request how many times the event loop ran other
    work while the request was computed: counted, not timed (0 = the loop stood still)."""

    def __init__(self, workers: int, *, limit: int | None = None) -> None:
        super().__init__(workers, limit=limit)
        self.pids: list[int] = []
        self.turns: list[tuple[str, int]] = []

    async def start(self) -> list[int]:
        self.pids = await super().start()
        return self.pids

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        turns, done = 0, False

        async def count() -> None:
            nonlocal turns
            while not done:
                await asyncio.sleep(0)
                turns += 1

        counting = asyncio.create_task(count())
        try:
            return await super().call(fn, *args)
        finally:
            done = True
            await counting
            self.turns.append((fn.__name__, turns))


class RecordingBotPool(BotPool):
    """The real bot pool, keeping the Redis errors its heartbeat and reads ran into (the
    pool itself logs them and carries on)."""

    errors: list[RedisError]

    async def beat(self) -> None:
        try:
            await super().beat()
        except RedisError as exc:
            self.errors.append(exc)
            raise

    async def step(self, block_ms: int | None = None) -> int:
        try:
            return await super().step(block_ms)
        except RedisError as exc:
            self.errors.append(exc)
            raise


def one_connection(settings: Settings) -> Settings:
    return settings.replace(storage={"redis_pool_max": 1, "redis_pool_timeout_seconds": WAIT})


async def test_a_pool_plays_a_match_with_its_engines_off_the_loop_on_one_connection(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = one_connection(settings.replace(match=PHASES, bots={"max_bots": 2}))
    redis = Redis.from_pool(redis_pool(redis_url, settings))  # as `python -m bots` does
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(2)]
        created = await http.create_match(admin, [u.id for u in users])
        for i, seat in enumerate(created["seats"]):
            # The node cannot hand out bot seats with tokens yet: human seats stand in.
            request = BotRequest(
                MatchId(created["match_id"]),
                node.url,
                PlayerId(seat["player_id"]),
                SeatToken(seat["seat_token"]),
                skill=0.3 + 0.4 * i,
                requested_at=time.time(),
            )
            await redis.xadd(keys.BOT_REQUESTS, {"request": request.encode()})
        tokens = await BotTokens.from_database(database, settings)
        workers = WatchedPool(1, limit=LIMIT_PER_WORKER)
        async with bot_engines(settings, workers) as engines:
            assert workers.turns == []  # warm before the first request: nothing asked yet
            assert workers.pids and os.getpid() not in workers.pids
            pool = RecordingBotPool(
                redis,
                settings,
                tokens,
                engines,
                consumer="pooled",
                pace=FAST_PACE,
                backoff=FAST_BACKOFF,
                alive_ttl=0.3,  # a heartbeat every 0.1 s, mostly while a read blocks
                block=0.2,
            )
            pool.errors = []
            stop = asyncio.Event()
            serving = asyncio.create_task(pool.run(stop, grace=WAIT))
            try:
                await until(lambda: len(pool.outcomes) == 2, "both bots to finish")
            finally:
                stop.set()
                await asyncio.wait_for(serving, WAIT)
        await redis.aclose()
        await replay_stored(database, created["match_id"])

    assert [o.status for o in pool.outcomes] == [Status.FINISHED] * 2, pool.outcomes
    assert pool.errors == []  # the heartbeat and the acks waited for the one connection
    asked = [name for name, _ in workers.turns]
    assert asked.count("write_piece") == 2 and "write_review" in asked, asked
    # Every piece and review was computed while the loop went on with the sockets.
    assert all(turns > 0 for _, turns in workers.turns), workers.turns


async def test_the_heartbeat_waits_for_the_connection_a_blocking_read_holds(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = one_connection(settings)
    tokens = await BotTokens.from_database(database, settings)

    async def beat_while_reading(redis: Redis) -> None:
        pool = BotPool(redis, settings, tokens, offline_engines(), consumer="one", block=0.3)
        await pool.setup()
        busy = redis.connection_pool._in_use_connections
        reading = asyncio.create_task(pool.step())  # nothing to read: blocks for 0.3 s
        try:
            await until(lambda: len(busy) == 1, "the read to take the connection")
            await pool.beat()
            assert await redis.get(keys.BOTS_ALIVE) == b"one"
        finally:
            await reading
            await pool.close(grace=0)

    bounded = Redis.from_pool(redis_pool(redis_url, settings))  # as `python -m bots` does
    try:
        await beat_while_reading(bounded)  # waited for the connection
    finally:
        await bounded.aclose()
    plain = Redis.from_url(redis_url, max_connections=1)  # redis-py's default pool, bounded
    try:
        with pytest.raises(ConnectionError, match="Too many connections"):
            await beat_while_reading(plain)
    finally:
        await plain.aclose()

"""The bot pool: takes bot seats from Redis and plays each over a real WebSocket.

Redis contract (``server.matchqueue.keys`` / ``messages``):

``quill:bots:requests`` (stream, consumer group ``pool``)
    One entry per bot seat, field ``request`` = ``BotRequest.encode()``: the node's URL,
    the bot's player id (``bot:<id>``), the seat token and the skill (0–1) the node chose
    from the party's humans.
``quill:bots:alive`` (string, TTL ``alive_ttl``)
    Refreshed every third of its TTL by every running pool (value: the consumer name),
    so a node knows whether remote bots can be had.  Deleted on a clean stop.

How a request is handled:

1. Read with ``XREADGROUP`` — never more than the free slots (``bots.max_bots`` bots at
   once); when the pool is full, requests stay in the stream, unread, until a bot ends.
2. A task mints the bot an access token (:class:`~bots.tokens.BotTokens`), connects,
   joins the seat and plays it (:class:`~bots.player.BotPlayer`).
3. ``XACK`` (and ``XDEL``) once the bot holds its seat, or once the request turned out
   unplayable (refused seat, malformed, older than ``stale_after``).  Until then the
   pool keeps its pending entries fresh (``XCLAIM … JUSTID`` on every heartbeat).
4. Fail-over: a pool that dies leaves its un-acknowledged entries pending; once they have
   been idle ``claim_idle`` seconds, any pool takes them over with ``XAUTOCLAIM`` and plays
   them.  On a clean stop the pool lets its bots finish for ``grace`` seconds, then
   closes their sockets and puts the requests of bots still mid-match back on the stream,
   so another pool takes those seats over (the seat token still works while the match
   runs; the new bot carries on from the draft the server holds).

:meth:`BotPool.step` and :meth:`BotPool.beat` do one round each and can be called by
tests; :meth:`BotPool.run` loops over them until told to stop; :meth:`BotPool.close`
is the shutdown sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import StreamIdT

from bots.backoff import Backoff
from bots.client import BotClient
from bots.pace import Pace
from bots.player import BotPlayer, Outcome, Status
from bots.tokens import BotTokens
from bots.wire import socket_url
from server.ai.types import Engines
from server.config import Settings
from server.matchqueue import keys
from server.matchqueue.messages import BotRequest
from server.protocol import Codec

log = structlog.get_logger("quill.bots.pool")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
ERROR_PAUSE_MAX = 5.0


def default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


class BotPool:
    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        tokens: BotTokens,
        engines: Engines,
        *,
        consumer: str | None = None,
        codec: Codec = Codec.JSON,
        pace: Pace | None = None,
        backoff: Backoff | None = None,
        claim_idle: float = 10.0,
        alive_ttl: float = 5.0,
        block: float = 1.0,
        stale_after: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.tokens = tokens
        self.engines = engines
        self.consumer = consumer or default_consumer()
        self.codec = codec
        self.pace = pace or Pace()
        self.backoff = backoff or Backoff()
        self.max_bots = settings.bots.max_bots
        self.claim_idle_ms = int(claim_idle * 1000)
        self.alive_ttl_ms = max(1, int(alive_ttl * 1000))
        self.block_ms = max(1, int(block * 1000))
        self.stale_after = stale_after
        self.clock = clock
        self.log = log.bind(consumer=self.consumer)
        self.running: dict[str, asyncio.Task[Outcome | None]] = {}
        """Entry id → the task playing it."""
        self.players: dict[str, BotPlayer] = {}
        self.requests: dict[str, BotRequest] = {}
        self.unacked: set[str] = set()
        self.outcomes: list[Outcome] = []
        self.claimed = 0
        """Requests taken over from another (dead) consumer."""
        self._stopping = False

    @property
    def free(self) -> int:
        return max(0, self.max_bots - len(self.running))

    # --- one round each ------------------------------------------------------------------

    async def setup(self) -> None:
        """Create the consumer group if it is missing (the stream too)."""
        try:
            await self.redis.xgroup_create(keys.BOT_REQUESTS, keys.BOT_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def beat(self) -> None:
        """Say the pool is alive; keep the entries of bots still joining from going idle."""
        await self.redis.set(keys.BOTS_ALIVE, self.consumer, px=self.alive_ttl_ms)
        if self.unacked:
            ids: list[StreamIdT] = [*sorted(self.unacked)]
            await self.redis.xclaim(
                keys.BOT_REQUESTS,
                keys.BOT_GROUP,
                self.consumer,
                0,
                ids,
                justid=True,
            )

    async def step(self, block_ms: int | None = None) -> int:
        """Take over idle requests of dead pools, then read new ones; returns bots started."""
        if self._stopping:
            return 0
        started = 0
        if self.free:
            claimed: Any = await self.redis.xautoclaim(
                keys.BOT_REQUESTS,
                keys.BOT_GROUP,
                self.consumer,
                self.claim_idle_ms,
                "0-0",
                count=self.free,
            )
            for entry_id, fields in claimed[1]:
                started += await self._take(_text(entry_id), fields, claimed=True)
        if self.free and not self._stopping:
            got: Any = await self.redis.xreadgroup(
                keys.BOT_GROUP,
                self.consumer,
                {keys.BOT_REQUESTS: ">"},
                count=self.free,
                block=self.block_ms if block_ms is None else block_ms,
            )
            for _stream, entries in got or []:
                for entry_id, fields in entries:
                    started += await self._take(_text(entry_id), fields, claimed=False)
        return started

    async def _take(self, entry_id: str, fields: Any, *, claimed: bool) -> int:
        if entry_id in self.running or fields is None:
            return 0  # our own bot (its entry went idle) or deleted meanwhile
        raw = fields.get(b"request") if isinstance(fields, dict) else None
        try:
            request = BotRequest.decode(raw) if raw is not None else None
            if request is not None:
                socket_url(request.url)
        except Exception:
            request = None
        if request is None:
            self.log.warning("bot_request_malformed", entry_id=entry_id)
            await self._ack(entry_id)
            return 0
        if self.clock() - request.requested_at > self.stale_after:
            self.log.info("bot_request_stale", entry_id=entry_id, match_id=request.match_id)
            await self._ack(entry_id)
            return 0
        self.requests[entry_id] = request
        self.unacked.add(entry_id)
        self.claimed += claimed
        self.running[entry_id] = asyncio.create_task(
            self._play(entry_id, request), name=f"bot:{request.player}"
        )
        self.log.info(
            "bot_started",
            entry_id=entry_id,
            match_id=request.match_id,
            player=request.player,
            skill=request.skill,
            claimed=claimed,
        )
        return 1

    async def _ack(self, entry_id: str) -> None:
        self.unacked.discard(entry_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(keys.BOT_REQUESTS, keys.BOT_GROUP, entry_id)
            pipe.xdel(keys.BOT_REQUESTS, entry_id)
            await pipe.execute()

    async def _ack_quietly(self, entry_id: str) -> None:
        try:
            await self._ack(entry_id)
        except RedisError as exc:  # it stays pending; re-claimed later, then refused
            self.log.warning("bot_ack_failed", entry_id=entry_id, error=repr(exc))

    # --- one bot -------------------------------------------------------------------------

    async def _play(self, entry_id: str, request: BotRequest) -> Outcome | None:
        client = BotClient(
            request.url,
            self.tokens.source(request.player),
            codec=self.codec,
            backoff=self.backoff,
            name=request.player,
        )
        player = BotPlayer(
            client,
            self.engines,
            request.seat_token,
            skill=request.skill,
            seed=zlib.crc32(entry_id.encode()),
            pace=self.pace,
            name=request.player,
        )
        self.players[entry_id] = player
        playing = asyncio.create_task(player.play(), name=f"bot-play:{request.player}")
        try:
            seated = asyncio.create_task(player.seated.wait(), name="bot-seated")
            try:
                await asyncio.wait({playing, seated}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                seated.cancel()
            if player.seated.is_set():
                await self._ack_quietly(entry_id)
            outcome = await playing
            self.outcomes.append(outcome)
            if entry_id in self.unacked and outcome.status is Status.REFUSED:
                await self._ack_quietly(entry_id)  # the seat cannot be had: drop the request
            self.log.info(
                "bot_finished",
                entry_id=entry_id,
                match_id=outcome.match_id,
                status=outcome.status.value,
                reason=outcome.reason,
                reconnects=outcome.reconnects,
            )
            return outcome
        except asyncio.CancelledError:
            if not playing.done():
                playing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await playing
            raise
        except Exception:  # a bug in a bot must not take the pool down
            self.log.exception("bot_failed", entry_id=entry_id, match_id=request.match_id)
            return None
        finally:
            self.running.pop(entry_id, None)
            self.players.pop(entry_id, None)
            self.requests.pop(entry_id, None)
            # Not seated (node unreachable, pool stopping): stop refreshing the entry, so
            # it goes idle and this or another pool tries it again after claim_idle.
            self.unacked.discard(entry_id)

    # --- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, grace: float | None = None) -> None:
        """Serve until ``stop`` is set, then :meth:`close`."""
        await self.setup()
        await self.beat()
        beating = asyncio.create_task(self._beat_forever(), name="bot-pool-heartbeat")
        pause = 0.0
        try:
            while not stop.is_set():
                try:
                    if self.free:
                        await self.step()
                    else:
                        await self._wait_for_room(stop)
                    pause = 0.0
                except RedisError as exc:
                    pause = min(ERROR_PAUSE_MAX, max(0.1, pause * 2))
                    self.log.warning("bot_pool_redis_failed", error=repr(exc), retry_in=pause)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), pause)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            await self.close(
                self.settings.server.shutdown_grace_seconds if grace is None else grace
            )

    async def _wait_for_room(self, stop: asyncio.Event) -> None:
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait(
                {stopped, *self.running.values()},
                timeout=self.block_ms / 1000,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopped.cancel()

    async def _beat_forever(self) -> None:
        period = self.alive_ttl_ms / 3000
        while True:
            await asyncio.sleep(period)
            try:
                await self.beat()
            except RedisError as exc:
                self.log.warning("bot_pool_heartbeat_failed", error=repr(exc))

    async def close(self, grace: float = 10.0) -> None:
        """Stop taking requests, let bots finish for ``grace`` s, then close the rest."""
        self._stopping = True
        tasks = list(self.running.items())
        if tasks:
            self.log.info("bot_pool_draining", bots=len(tasks), grace=grace)
            await asyncio.wait([t for _, t in tasks], timeout=grace)
        for entry_id, task in tasks:
            if task.done():
                continue
            player = self.players.get(entry_id)
            request = self.requests.get(entry_id)
            acked = entry_id not in self.unacked  # seated: nobody else will take it over
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if request is not None and player is not None and player.results is None and acked:
                await self._requeue(request)
        with contextlib.suppress(RedisError):
            await self.redis.eval(_RELEASE, 1, keys.BOTS_ALIVE, self.consumer)
        self.log.info("bot_pool_stopped", outcomes=len(self.outcomes))

    async def _requeue(self, request: BotRequest) -> None:
        """Put a seat this pool gave up mid-match back on the stream for another pool."""
        try:
            await self.redis.xadd(keys.BOT_REQUESTS, {"request": request.encode()})
            self.log.info("bot_requeued", match_id=request.match_id, player=request.player)
        except RedisError as exc:
            self.log.warning("bot_requeue_failed", match_id=request.match_id, error=repr(exc))

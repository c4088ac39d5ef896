"""A server node's link to matchmaking: heartbeat, hosting assignments, delivering notices.

Three loops, started by :meth:`NodeLink.start` and stopped by :meth:`NodeLink.stop`:

- **heartbeat**: every third of ``matchmaker.node_ttl_seconds``, the node's ``alive`` key
  is refreshed with its URL and load (players in matches it hosts), so the matchmaker
  picks the least-loaded live node.  A clean stop retires the node at once.
- **assignments**: ``XREADGROUP`` on the node's assign stream (group ``node``); each
  assignment is handed to :meth:`Host.host_assignment` (idempotent: a match that exists
  is not created twice) and acknowledged only after that returns, so a node that dies
  in between gets it again (at-least-once; pending entries are re-read at start).
- **notices**: ``XREADGROUP`` on the node's notify stream; each ``match.found`` goes to
  the player's socket through :meth:`Host.deliver`; a player who is not connected finds
  it on reconnect (kept under ``quill:player:<id>:found`` for the reservation's life).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from server.matchqueue import keys
from server.matchqueue.messages import Assignment, MatchFound
from server.matchqueue.nodes import heartbeat, retire
from server.types import NodeId

log = structlog.get_logger("quill.matchqueue")
BLOCK_MS = 1000
FOUND_TTL_S = 120


def found_key(player: str) -> str:
    return f"quill:player:{player}:found"


class Host(Protocol):
    """What the node offers the link (the realtime hub implements it)."""

    def load(self) -> int: ...

    async def host_assignment(self, assignment: Assignment) -> None: ...

    def deliver(self, found: MatchFound) -> bool: ...


async def ensure_group(redis: Redis, stream: str, group: str) -> None:
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await redis.xgroup_create(stream, group, id="0", mkstream=True)


class NodeLink:
    def __init__(
        self, redis: Redis, host: Host, node_id: NodeId, url: str, node_ttl_s: float
    ) -> None:
        self.redis = redis
        self.host = host
        self.node_id = node_id
        self.url = url
        self.node_ttl_s = node_ttl_s
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await ensure_group(self.redis, keys.node_assign(self.node_id), keys.ASSIGN_GROUP)
        await ensure_group(self.redis, keys.node_notify(self.node_id), keys.ASSIGN_GROUP)
        await heartbeat(self.redis, self.node_id, self.url, self.host.load(), self.node_ttl_s)
        self._tasks = [
            asyncio.create_task(self._forever(self._beat), name="mm-heartbeat"),
            asyncio.create_task(
                self._forever(lambda: self._consume(keys.node_assign(self.node_id), self._assign)),
                name="mm-assignments",
            ),
            asyncio.create_task(
                self._forever(lambda: self._consume(keys.node_notify(self.node_id), self._notice)),
                name="mm-notices",
            ),
        ]

    async def stop(self) -> None:
        """Stop taking assignments and leave the registry (in-flight ones stay pending)."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await retire(self.redis, self.node_id)

    async def _forever(self, body: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            try:
                await body()
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis blip: wait a moment, then carry on
                log.exception("matchqueue_loop_failed", node=self.node_id)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), 1.0)

    async def _beat(self) -> None:
        await heartbeat(self.redis, self.node_id, self.url, self.host.load(), self.node_ttl_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.node_ttl_s / 3)

    async def _consume(self, stream: str, handle: Callable[[Any], Awaitable[None]]) -> None:
        # Pending entries first (delivered before a crash, never acknowledged), then new ones.
        for start in ("0", ">"):
            got: Any = await self.redis.xreadgroup(
                keys.ASSIGN_GROUP,
                self.node_id,
                {stream: start},
                count=32,
                block=None if start == "0" else BLOCK_MS,
            )
            for _, entries in got or []:
                # The entries of one read (at most 32) are handled together: creating a
                # match waits on PostgreSQL and Redis several times, and one match after
                # the other could not keep up with a busy matchmaker (players waited a
                # minute to be seated).  Each handler is idempotent and they share no
                # order: assignments are distinct matches, notices distinct players.
                results = await asyncio.gather(
                    *(self._handle_one(stream, handle, f) for _, f in entries),
                    return_exceptions=True,
                )
                done = [e for (e, _), r in zip(entries, results, strict=True) if r is None]
                if done:
                    await self.redis.xack(stream, keys.ASSIGN_GROUP, *done)
                for r in results:
                    if isinstance(r, BaseException):  # left pending: read again shortly
                        raise r

    async def _handle_one(
        self, stream: str, handle: Callable[[Any], Awaitable[None]], fields: Any
    ) -> None:
        try:
            if fields:
                await handle(fields)
        except (ValueError, KeyError, TypeError):  # malformed: never retried
            log.exception("matchqueue_entry_dropped", stream=stream)

    async def _assign(self, fields: dict[bytes, bytes]) -> None:
        assignment = Assignment.decode(fields[b"assignment"])
        await self.host.host_assignment(assignment)

    async def _notice(self, fields: dict[bytes, bytes]) -> None:
        found = MatchFound.decode(fields[b"found"])
        if not self.host.deliver(found):
            await self.redis.set(found_key(found.player), fields[b"found"], ex=FOUND_TTL_S)

"""The bot pool's AI engines: the offline ones in a process pool, warm before the first bot.

A bot's piece (its whole text and typing timeline) and its reviews are CPU work; on the
pool's event loop every one of them would stall the sockets of all the other bots, and
the first one would load the engines' material in one stall.  The pool process runs them
the way a node does, in :class:`server.realtime.aipool.OfflinePool` (shared, not copied):

- **Workers.** ``bots.offline_workers`` processes (0 = one thread of the pool), forked
  from a forkserver that has the engines loaded; :meth:`OfflinePool.start` has each of
  them answer one request before the pool reads its first bot request, so the first bot
  pays nothing.
- **Bound.** At most ``LIMIT_PER_WORKER`` requests per worker are handed to the executor
  at once (one computing, one queued behind it); the other bots wait their turn on the
  loop, where a bot stopped meanwhile costs nothing.  A bot asks for one thing at a time,
  so no more than ``bots.max_bots`` ever wait.  A bot that waited for its piece sends
  the part of its typing timeline that has passed meanwhile at once, as a burst of
  ordinary edits.
- **Claude** (``ANTHROPIC_API_KEY`` set): bots write with Claude, which falls back on the
  pooled offline engines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.ai.build import aclose_engines, build_engines
from server.ai.types import Engines
from server.config import BotSettings, Settings
from server.metrics import Registry
from server.realtime.aipool import OfflinePool

LIMIT_PER_WORKER = 2


def offline_pool(settings: BotSettings) -> OfflinePool:
    """The pool process's offline engines (not started)."""
    workers = settings.offline_workers
    return OfflinePool(workers, limit=LIMIT_PER_WORKER * max(1, workers))


@asynccontextmanager
async def bot_engines(
    settings: Settings, pool: OfflinePool | None = None
) -> AsyncIterator[Engines]:
    """The engines bots use, with the offline ones warm in ``pool`` (default
    :func:`offline_pool`); on exit the engines close, then the pool's workers stop."""
    pool = offline_pool(settings.bots) if pool is None else pool
    try:
        await pool.start()
        engines = build_engines(settings.ai, Registry(), offline=pool.engines())
        try:
            yield engines
        finally:
            await aclose_engines(engines)
    finally:
        await pool.close()

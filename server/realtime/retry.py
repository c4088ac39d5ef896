"""Retrying a write until it succeeds, with capped exponential backoff.

Used for writes that must not be lost (the match log, outcomes, replays): the caller
keeps what it would have sent until the write is through.  Only cancellation stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

T = TypeVar("T")

FIRST_PAUSE = 0.05


class Permanent(Exception):
    """Raised by an operation to say that trying again cannot help."""


async def until_done(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    log: structlog.typing.FilteringBoundLogger,
    max_pause: float,
) -> T:
    """Run ``op`` until it returns; log each failure and pause before the next attempt."""
    pause = FIRST_PAUSE
    attempt = 1
    while True:
        try:
            return await op()
        except (asyncio.CancelledError, Permanent):
            raise
        except Exception as exc:
            log.warning(f"{what}_failed", attempt=attempt, error=repr(exc), retry_in=pause)
        await asyncio.sleep(pause)
        pause = min(max_pause, pause * 2)
        attempt += 1

"""Retrying a write, with capped exponential backoff.

:func:`until_done` is for writes that must not be lost and have nowhere else to go (the
match log in Redis): the caller keeps what it would have sent until the write is
through; only cancellation stops it.  :func:`bounded` is for writes that have a
fallback (a finished match's outcome goes to the dead-letter store): it gives up after
a number of attempts, or at once on an error that cannot pass by itself.
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


async def bounded(
    op: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    what: str,
    log: structlog.typing.FilteringBoundLogger,
    max_pause: float,
    permanent: Callable[[BaseException], bool] = lambda exc: False,
) -> T:
    """Run ``op`` at most ``attempts`` times; re-raise the last failure.

    An error that ``permanent`` recognises (a value the database refuses, say) is
    re-raised at once: trying again would only fail the same way.
    """
    pause = FIRST_PAUSE
    for attempt in range(1, attempts + 1):
        try:
            return await op()
        except (asyncio.CancelledError, Permanent):
            raise
        except Exception as exc:
            final = attempt == attempts or permanent(exc)
            log.warning(f"{what}_failed", attempt=attempt, error=repr(exc), final=final)
            if final:
                raise
        await asyncio.sleep(pause)
        pause = min(max_pause, pause * 2)
    raise AssertionError("unreachable: attempts must be at least 1")

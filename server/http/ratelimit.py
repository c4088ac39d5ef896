"""Fixed-window rate limits kept in Redis (shared by every node).

``hit`` counts one request of ``subject`` in ``bucket`` for the current window and raises
:class:`RateLimited` (429 with ``Retry-After``) past ``limit``.  A window is ``window_s``
seconds aligned to the epoch; one INCR + EXPIRE per check, the checks of one request in
one pipeline (:func:`hit_all`: the REST middleware's per-address and per-account counts
cost one round trip).  Handlers call
:func:`limit`, which reads the time from the app's :class:`WindowClock` so that tests
can hold it still instead of waiting for a window to turn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from server.errors import RateLimited
from server.http.state import REDIS


class WindowClock:
    """Wall-clock seconds for the rate-limit windows; ``fixed`` pins them (tests)."""

    def __init__(self) -> None:
        self.fixed: float | None = None

    def now(self) -> float:
        return time.time() if self.fixed is None else self.fixed


CLOCK = web.AppKey("rate_limit_clock", WindowClock)


@dataclass(frozen=True, slots=True)
class Check:
    """One count against one limit: ``subject``'s requests in ``bucket``; ``per`` names
    the subject in the refusal (default: the bucket's last word, e.g. "ip")."""

    bucket: str
    subject: str
    limit: int
    per: str | None = None


async def hit_all(
    redis: Redis, checks: Sequence[Check], window_s: int = 60, now: float | None = None
) -> None:
    """Count one request in every check, in one round trip (INCR + EXPIRE each, one
    pipeline), and raise for the first whose count is past its limit."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    async with redis.pipeline(transaction=False) as pipe:
        for c in checks:
            key = f"quill:rl:{c.bucket}:{c.subject}:{window}"
            pipe.incr(key)
            pipe.expire(key, window_s + 1)
        counts = (await pipe.execute())[::2]
    for c, count in zip(checks, counts, strict=True):
        if int(count) > c.limit:
            retry_after = max(1, math.ceil((window + 1) * window_s - now))
            raise RateLimited(
                f"too many requests: at most {c.limit} per {window_s} s "
                f"for this {c.per or c.bucket.split('.')[-1]}",
                retry_after=retry_after,
                details={"bucket": c.bucket, "limit": c.limit, "window_s": window_s},
            )


async def hit(
    redis: Redis,
    bucket: str,
    subject: str,
    limit: int,
    window_s: int = 60,
    now: float | None = None,
    per: str | None = None,
) -> None:
    """Count one request of ``subject`` in ``bucket`` (:func:`hit_all` of one check)."""
    await hit_all(redis, [Check(bucket, subject, limit, per)], window_s, now)


async def limit(
    app: web.Application,
    redis: Redis,
    bucket: str,
    subject: str,
    limit: int,
    per: str | None = None,
) -> None:
    """:func:`hit` at the app's clock."""
    await hit(redis, bucket, subject, limit, now=app[CLOCK].now(), per=per)


async def per_account(request: web.Request, bucket: str, account_id: str, most: int) -> None:
    """An account's own bucket (``most`` a minute, or the bucket's window): the limit on
    what one account may do, wherever its requests come from."""
    await limit(request.app, request.app[REDIS], bucket, account_id, most, per="account")

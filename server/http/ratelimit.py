"""Fixed-window rate limits kept in Redis (shared by every node).

``hit`` counts one request of ``subject`` in ``bucket`` for the current window and raises
:class:`RateLimited` (429 with ``Retry-After``) past ``limit``.  A window is ``window_s``
seconds aligned to the epoch; one INCR + EXPIRE in a pipeline per check.  Handlers call
:func:`limit`, which reads the time from the app's :class:`WindowClock` so that tests
can hold it still instead of waiting for a window to turn.
"""

from __future__ import annotations

import math
import time

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


async def hit(
    redis: Redis,
    bucket: str,
    subject: str,
    limit: int,
    window_s: int = 60,
    now: float | None = None,
    per: str | None = None,
) -> None:
    """Count one request; ``per`` names the subject in the refusal (default: the
    bucket's last word, e.g. "ip")."""
    now = time.time() if now is None else now
    window = int(now // window_s)
    key = f"quill:rl:{bucket}:{subject}:{window}"
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_s + 1)
        count, _ = await pipe.execute()
    if int(count) > limit:
        retry_after = max(1, math.ceil((window + 1) * window_s - now))
        raise RateLimited(
            f"too many requests: at most {limit} per {window_s} s "
            f"for this {per or bucket.split('.')[-1]}",
            retry_after=retry_after,
            details={"bucket": bucket, "limit": limit, "window_s": window_s},
        )


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

"""Fixed-window rate limits kept in Redis (shared by every node).

``hit`` counts one request of ``subject`` in ``bucket`` for the current window and raises
:class:`RateLimited` (429 with ``Retry-After``) past ``limit``.  A window is ``window_s``
seconds aligned to the epoch; one INCR + EXPIRE in a pipeline per check.
"""

from __future__ import annotations

import math
import time

from redis.asyncio import Redis

from server.errors import RateLimited


async def hit(
    redis: Redis,
    bucket: str,
    subject: str,
    limit: int,
    window_s: int = 60,
    now: float | None = None,
) -> None:
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
            f"too many requests: at most {limit} per {window_s} s for this {bucket.split('.')[-1]}",
            retry_after=retry_after,
            details={"bucket": bucket, "limit": limit, "window_s": window_s},
        )

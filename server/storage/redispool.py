"""The bounded Redis connection pool every process of ours uses (node, matchmaker, bot
pool, ``quill deadletter``): its own module so that a small process does not import the
whole node to get it."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool

from server.config import Settings


def redis_pool(url: str, settings: Settings) -> BlockingConnectionPool:
    """At most ``storage.redis_pool_max`` connections; a command finding them all busy
    waits up to ``storage.redis_pool_timeout_seconds`` for one (redis-py's default pool
    raises ``Too many connections`` at once instead)."""
    s = settings.storage
    return BlockingConnectionPool.from_url(
        url,
        max_connections=s.redis_pool_max,
        timeout=s.redis_pool_timeout_seconds,
        socket_timeout=5,
        health_check_interval=30,
    )

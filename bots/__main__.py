"""``python -m bots`` (``quill bots``): the bot pool process's composition root.

Built in order: configuration (``server.config.load_settings``: ``REDIS_URL``,
``DATABASE_URL``, ``[bots]``, ``[ai]``), logging, the AI engines (:mod:`bots.ai`: the
offline ones in ``bots.offline_workers`` warm worker processes; Claude when a key is set),
the signing key for bot tokens (read once from PostgreSQL), Redis (the node's bounded
pool, ``storage.redis_pool_max``: a command finding every connection busy waits up to
``storage.redis_pool_timeout_seconds``), the :class:`~bots.pool.BotPool`.  Runs until
SIGINT or SIGTERM, then stops in reverse: stop reading requests, let bots finish for
``server.shutdown_grace_seconds`` then close their sockets (their seats go back on the
stream), delete the alive key, close Redis, close the engines, stop the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from redis.asyncio import Redis

from bots.ai import bot_engines
from bots.pool import BotPool, default_consumer
from bots.tokens import BotTokens
from server import logs
from server.config import load_settings
from server.errors import ConfigError
from server.protocol import Codec
from server.realtime.aipool import stop_forkserver
from server.storage.redispool import redis_pool


async def serve(consumer: str, codec: Codec) -> None:
    settings = load_settings()
    logs.configure(settings.server.log_level, settings.server.log_format)
    if not settings.storage.redis_url:
        raise ConfigError("the bot pool needs REDIS_URL set")
    if not settings.storage.database_url and not settings.server.token_secret:
        raise ConfigError("the bot pool needs DATABASE_URL set (to read the token key)")
    stop = asyncio.Event()  # set by a signal even during start-up: then nothing is read
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with bot_engines(settings) as engines:
        tokens = await BotTokens.from_database(settings.storage.database_url, settings)
        redis = Redis.from_pool(redis_pool(settings.storage.redis_url, settings))
        try:
            pool = BotPool(redis, settings, tokens, engines, consumer=consumer, codec=codec)
            print(
                f"bot pool {consumer} running (at most {pool.max_bots} bots)",
                file=sys.stderr,
                flush=True,
            )
            await pool.run(stop)
        finally:
            await redis.aclose()  # closes its pool too (from_pool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quill bots", description=__doc__)
    parser.add_argument(
        "--consumer",
        default=None,
        help="name of this pool in the consumer group (default: host-pid-random)",
    )
    parser.add_argument(
        "--codec",
        choices=[c.name.lower() for c in Codec],
        default="json",
        help="subprotocol the bots speak (default: json)",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.consumer or default_consumer(), Codec[args.codec.upper()]))
    except ConfigError as exc:
        print(f"quill: error: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_forkserver()  # its offline AI's; gone before this process is
    return 0


if __name__ == "__main__":
    sys.exit(main())

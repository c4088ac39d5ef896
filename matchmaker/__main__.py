"""``python -m matchmaker`` (``quill matchmaker``): the matchmaker process's composition root.

Reads the configuration, connects to ``REDIS_URL`` (through the node's bounded pool,
``storage.redis_pool_max``: a command finding every connection busy waits up to
``storage.redis_pool_timeout_seconds`` instead of failing), runs :class:`Matchmaker` until
SIGINT or SIGTERM, then stops in order: finish the tick, release the lock (a standby takes
over at once), close Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys

from redis.asyncio import Redis

from matchmaker.service import Matchmaker
from server import logs
from server.config import load_settings
from server.errors import ConfigError
from server.storage.redispool import redis_pool


async def serve(instance_id: str) -> None:
    settings = load_settings()
    logs.configure(settings.server.log_level, settings.server.log_format)
    if not settings.storage.redis_url:
        raise ConfigError("the matchmaker needs REDIS_URL set")
    redis = Redis.from_pool(redis_pool(settings.storage.redis_url, settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        mm = Matchmaker(redis, settings, instance_id=instance_id)
        print(f"matchmaker {instance_id} running", file=sys.stderr, flush=True)
        await mm.run(stop)
    finally:
        await redis.aclose()  # closes its pool too (from_pool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quill matchmaker", description=__doc__)
    parser.add_argument(
        "--instance-id",
        default=f"{socket.gethostname()}-{os.getpid()}",
        help="name of this instance in the lock (default: host-pid)",
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.instance_id))
    except ConfigError as exc:
        print(f"quill: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``quill`` command: the composition root of every process.

``quill up``       embedded PostgreSQL + Redis (unless URLs are set), migrate, serve, and
                   supervise a matchmaker and a bot pool
``quill serve``    one node against DATABASE_URL / REDIS_URL (checks the schema)
``quill migrate``  apply the migrations (embedded PostgreSQL when no DATABASE_URL)
``quill ai``       score pieces (JSON lines) and run the AI evaluation
``quill matchmaker``  the matchmaker process (``python -m matchmaker``)
``quill bots``     a bot pool process (``python -m bots``)
``quill bench``    run a benchmark (as a process of the part it measures)
``quill loadtest``  simulated players against a stack on loopback (``python -m loadtest``)
``quill deadletter``  list or retry finished matches whose outcome could not be saved
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

from loadtest.options import add_options as add_loadtest_options
from loadtest.options import to_argv as loadtest_argv
from server import __version__, logs, migrate
from server.ai.cli import add_ai_commands
from server.config import Settings, load_settings
from server.embedded import EmbeddedPostgres, EmbeddedRedis
from server.errors import ConfigError, EmbeddedServiceError, MigrationError
from server.http.state import Endpoints
from server.node import install_stop_signals, serve_node
from server.realtime.aipool import stop_forkserver
from server.storage import deadletter
from server.storage.redispool import redis_pool
from server.supervise import Supervised

EMBEDDED_DB = "quill"


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is not built for this platform
        loop_factory = None
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(coro)
    finally:
        stop_forkserver()  # the offline AI's; gone before this process is


async def _ensure_database(admin_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


async def _migrate(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate.apply(conn)
    finally:
        await conn.close()


class Embedded:
    """Starts what is missing (PostgreSQL, Redis) and stops it in reverse order."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.pg: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None

    def start_postgres(self) -> str:
        if self.settings.storage.database_url:
            return self.settings.storage.database_url
        self.pg = EmbeddedPostgres(self.data_dir / "pg")
        admin = self.pg.start()
        print(
            f"embedded PostgreSQL on 127.0.0.1:{self.pg.port} ({self.pg.data_dir})", file=sys.stderr
        )
        dsn: str = asyncio.run(_ensure_database(admin, EMBEDDED_DB))
        return dsn

    def start_redis(self) -> str:
        if self.settings.storage.redis_url:
            return self.settings.storage.redis_url
        self.redis = EmbeddedRedis(self.data_dir / "redis")
        url = self.redis.start()
        print(
            f"embedded Redis on 127.0.0.1:{self.redis.port} ({self.redis.data_dir})",
            file=sys.stderr,
        )
        return url

    def stop(self) -> None:
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()


async def _up(
    settings: Settings,
    endpoints: Endpoints,
    host: str,
    port: int,
    stop: asyncio.Event,
    config: str | None,
) -> None:
    """The node plus its supervised companions (matchmaker, bot pool); on stop: the
    companions, then the node."""
    env = {**os.environ, "DATABASE_URL": endpoints.database_url, "REDIS_URL": endpoints.redis_url}
    if config:
        env["QUILL_CONFIG"] = config
    children = [Supervised("matchmaker", "matchmaker", env, ["--instance-id", f"up-{port}"])]
    if settings.bots.enabled:
        children.append(Supervised("bot pool", "bots", env, ["--consumer", f"up-{port}"]))
    node_stop = asyncio.Event()
    node = asyncio.create_task(serve_node(settings, endpoints, host, port, node_stop))
    for child in children:
        child.start()
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([node, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for child in reversed(children):
            await child.stop()
        node_stop.set()
        stopped.cancel()
        await node  # re-raises a start-up failure (e.g. an outdated schema)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    embedded = Embedded(settings, Path(args.data_dir or settings.storage.data_dir))
    try:
        dsn = embedded.start_postgres()
        redis_url = embedded.start_redis()

        async def main() -> None:
            stop = asyncio.Event()
            remove = install_stop_signals(stop)
            try:
                applied = await _migrate(dsn)
                if applied:
                    print(f"applied migrations: {', '.join(applied)}", file=sys.stderr)
                await _up(settings, Endpoints(dsn, redis_url), host, port, stop, args.config)
            finally:
                remove()

        _run(main())
    except KeyboardInterrupt:
        pass
    finally:
        embedded.stop()
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    missing = [
        n
        for n, v in (
            ("DATABASE_URL", settings.storage.database_url),
            ("REDIS_URL", settings.storage.redis_url),
        )
        if not v
    ]
    if missing:
        raise ConfigError(
            f"quill serve needs {' and '.join(missing)} set; `quill up` starts embedded servers"
        )
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    endpoints = Endpoints(settings.storage.database_url, settings.storage.redis_url)

    async def main() -> None:
        stop = asyncio.Event()
        remove = install_stop_signals(stop)
        try:
            await serve_node(settings, endpoints, host, port, stop)
        finally:
            remove()

    _run(main())
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    embedded = Embedded(settings, Path(args.data_dir or settings.storage.data_dir))
    try:
        dsn = embedded.start_postgres()
        applied: list[str] = []

        async def main() -> None:
            applied.extend(await _migrate(dsn))

        asyncio.run(main())
    finally:
        embedded.stop()
    print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
    return 0


def cmd_deadletter(args: argparse.Namespace, settings: Settings) -> int:
    """List or retry finished matches whose outcome could not be saved."""
    embedded = Embedded(settings, Path(args.data_dir or settings.storage.data_dir))
    failed = 0
    try:
        dsn = embedded.start_postgres()
        redis_url = embedded.start_redis()

        async def main() -> None:
            nonlocal failed
            redis = Redis.from_pool(redis_pool(redis_url, settings))  # the node's bounded pool
            try:
                if args.action == "list":
                    records = await deadletter.listing(redis)
                    for r in records:
                        row: dict[str, Any] = {"match_id": r.match_id, "node_id": r.node_id}
                        row |= {"mode": r.mode}
                        row |= {"failed_at": r.failed_at, "error": r.error}
                        print(json.dumps(row) if args.json else "\t".join(map(str, row.values())))
                    if not records and not args.json:
                        print("no unsaved matches", file=sys.stderr)
                    return
                pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
                try:
                    wanted = None if args.all else args.match_ids
                    results = await deadletter.retry(redis, pool, wanted, scrubbed=args.scrub)
                finally:
                    await pool.close()
                for res in results:
                    print(
                        f"{res.match_id}\t{'saved' if res.saved else 'failed: ' + str(res.error)}"
                    )
                failed = sum(not res.saved for res in results)
                if not results:
                    print("nothing to retry", file=sys.stderr)
            finally:
                await redis.aclose()

        asyncio.run(main())
    finally:
        embedded.stop()
    return 1 if failed else 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Benchmarks live with the part they measure and run as their own process."""
    module = {"matchmaker": "matchmaker.bench"}[args.target]
    argv = [sys.executable, "-m", module, args.target, *args.rest]
    if args.config:
        os.environ["QUILL_CONFIG"] = args.config
    return subprocess.run(argv, check=False).returncode


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    """The matchmaker and the bot pool are their own processes; this runs one of them."""
    argv = [sys.executable, "-m", args.module, *args.rest]
    if args.config:
        os.environ["QUILL_CONFIG"] = args.config
    try:
        return subprocess.run(argv, check=False).returncode
    except KeyboardInterrupt:
        return 0


def cmd_loadtest(args: argparse.Namespace, settings: Settings) -> int:
    """The load test is its own process (with worker processes of its own)."""
    argv = [sys.executable, "-m", "loadtest", *loadtest_argv(args)]
    if args.config:
        os.environ["QUILL_CONFIG"] = args.config
    try:
        return subprocess.run(argv, check=False).returncode
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quill", description="Quill Arena: a real-time game server for competitive writing."
    )
    parser.add_argument("--version", action="version", version=f"quill {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $QUILL_CONFIG or ./config.toml)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    up = sub.add_parser(
        "up",
        help="run a node on embedded PostgreSQL and Redis",
        description="Start embedded PostgreSQL and Redis (unless DATABASE_URL / "
        "REDIS_URL are set), apply migrations and run a server node.",
    )
    up.add_argument("--host", help="address to listen on (default: server.host)")
    up.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    up.add_argument("--data-dir", help="folder for embedded data (default: storage.data_dir)")
    up.set_defaults(func=cmd_up)

    serve = sub.add_parser(
        "serve",
        help="run one node against DATABASE_URL and REDIS_URL",
        description="Run one server node. Needs DATABASE_URL and REDIS_URL; "
        "refuses to start if the schema is behind the migrations.",
    )
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser(
        "migrate",
        help="apply database migrations",
        description="Apply pending migrations to DATABASE_URL, or to the "
        "embedded PostgreSQL in --data-dir when it is not set.",
    )
    mig.add_argument("--data-dir", help="folder for embedded data (default: storage.data_dir)")
    mig.set_defaults(func=cmd_migrate)

    add_ai_commands(sub)  # quill ai score | eval

    mm = sub.add_parser(
        "matchmaker",
        help="run the matchmaker process (needs REDIS_URL)",
        description="Run a matchmaker against REDIS_URL. Several may run: one is active "
        "(it holds the lock), the others stand by and take over when it stops.",
    )
    mm.add_argument("rest", nargs=argparse.REMAINDER, help="e.g. --instance-id NAME")
    mm.set_defaults(func=cmd_process, module="matchmaker")

    bots = sub.add_parser(
        "bots",
        help="run a bot pool (needs REDIS_URL and DATABASE_URL)",
        description="Run a bot pool: it takes bot seats from Redis and plays them over "
        "WebSockets like any client. Several pools may run.",
    )
    bots.add_argument("rest", nargs=argparse.REMAINDER, help="e.g. --consumer NAME")
    bots.set_defaults(func=cmd_process, module="bots")

    dead = sub.add_parser(
        "deadletter",
        help="list or retry finished matches whose outcome could not be saved",
        description="Matches whose outcome PostgreSQL did not take wait in Redis. "
        "`list` shows them; `retry MATCH_ID… | --all [--scrub]` saves them (with --scrub, "
        "characters PostgreSQL cannot store become U+FFFD). Uses DATABASE_URL / REDIS_URL, "
        "or the embedded servers in --data-dir when they are not set.",
    )
    dead.add_argument("action", choices=["list", "retry"])
    dead.add_argument("match_ids", nargs="*", metavar="MATCH_ID")
    dead.add_argument("--all", action="store_true", help="retry every waiting match")
    dead.add_argument("--scrub", action="store_true", help="replace unstorable characters")
    dead.add_argument("--json", action="store_true", help="list as JSON lines")
    dead.add_argument("--data-dir", help="folder for embedded data (default: storage.data_dir)")
    dead.set_defaults(func=cmd_deadletter)

    bench = sub.add_parser(
        "bench",
        help="run a benchmark",
        description="Run a benchmark and print its figures (see docs/benchmarks.md). "
        "`quill bench matchmaker --tickets N [--ticks T] [--seed S] [--json]`.",
    )
    bench.add_argument("target", choices=["matchmaker"], help="what to measure")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="options of that benchmark")
    bench.set_defaults(func=cmd_bench)

    load = sub.add_parser(
        "loadtest",
        help="run simulated players against a stack on loopback",
        description="Start a stack (embedded PostgreSQL and Redis unless DATABASE_URL / "
        "REDIS_URL are set, a node, a matchmaker and a bot pool), or use --target, and play "
        "it with simulated players; writes a JSON report (see docs/loadtest.md).",
    )
    add_loadtest_options(load)
    load.set_defaults(func=cmd_loadtest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        logs.configure(settings.server.log_level, settings.server.log_format)
        code: int = args.func(args, settings)
        return code
    except (ConfigError, MigrationError) as exc:
        print(f"quill: error: {exc}", file=sys.stderr)
        return 2
    except EmbeddedServiceError as exc:
        print(f"quill: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

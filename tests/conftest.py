"""Shared fixtures: real PostgreSQL and Redis, a clean database per test, a node on loopback.

With ``DATABASE_URL`` / ``REDIS_URL`` set the suite uses those servers; otherwise it starts
the embedded ones once per session (non-durable, for speed).  Every test that asks for
``database`` gets a fresh database cloned from a migrated template; ``redis_url`` is
flushed before the test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
import uvloop
from aiohttp import web
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from server import migrate
from server.accounts import store
from server.accounts.tokens import AccessClaims
from server.app import create_app
from server.config import Settings
from server.embedded import EmbeddedPostgres, EmbeddedRedis
from server.http import ratelimit
from server.http.state import PG, SIGNER, Endpoints
from server.types import UserId

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test runs on uvloop, the loop the node runs on (``server.cli``).  On
    asyncio's own loop a difference between the two went unseen: uvloop's transports are
    not ``asyncio.WriteTransport`` instances, and the node's direct writes were off."""
    return {"uvloop": uvloop.new_event_loop}


@dataclass(frozen=True)
class Services:
    admin_dsn: str
    redis_url: str


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def claim_redis_database(url: str) -> tuple[str, Callable[[], None]]:
    """A database index of the Redis at ``url`` that no other test run uses, and the
    function that gives it back.

    Each test flushes its Redis database: test runs that share one server (several
    developers, or a run beside CI) must not share a database.  The claims are keys in
    database 0 (which no test flushes), each naming the claiming process; a claim whose
    process is gone, or older than two hours, is taken over."""
    admin = SyncRedis.from_url(urlunsplit(urlsplit(url)._replace(path="/0")))
    me = str(os.getpid())
    try:
        for index in range(1, 16):
            key = f"quill:test:redis-db:{index}"
            if not admin.set(key, me, nx=True, ex=7200):
                owner = admin.get(key)
                if owner is None or _alive(int(owner)):
                    continue
                admin.set(key, me, ex=7200)  # its run died without giving it back

            def release(key: str = key) -> None:
                with SyncRedis.from_url(urlunsplit(urlsplit(url)._replace(path="/0"))) as r:
                    if r.get(key) == me.encode():
                        r.delete(key)

            return urlunsplit(urlsplit(url)._replace(path=f"/{index}")), release
    finally:
        admin.close()
    raise RuntimeError("all 15 Redis test databases are in use by other test runs")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    dsn = os.environ.get("DATABASE_URL", "")
    url = os.environ.get("REDIS_URL", "")
    claimed: Callable[[], None] | None = None
    if url:
        url, claimed = claim_redis_database(url)
    # Not under pytest's temporary folder: a second pytest run on the machine prunes old
    # basetemp folders, and with them the data of servers this run still uses.
    base = Path(tempfile.mkdtemp(prefix="quill-test-services-"))
    try:
        if not dsn:
            pg = EmbeddedPostgres(base / "pg", durable=False)
            started.append(pg)
            dsn = pg.start()
        if not url:
            redis = EmbeddedRedis(base / "redis", durable=False)
            started.append(redis)
            url = redis.start()
        yield Services(dsn, url)
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)
        if claimed is not None:
            claimed()


async def _admin(services: Services) -> asyncpg.Connection:
    return await asyncpg.connect(services.admin_dsn)


@pytest.fixture(scope="session")
async def template_db(services: Services) -> AsyncIterator[str]:
    name = f"quill_tpl_{os.getpid()}"
    conn = await _admin(services)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        tpl = await asyncpg.connect(with_database(services.admin_dsn, name))
        try:
            await migrate.apply(tpl)
        finally:
            await tpl.close()
        yield name
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _fresh_database(services: Services, template: str) -> tuple[str, str]:
    name = f"quill_t_{uuid.uuid4().hex[:12]}"
    conn = await _admin(services)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return name, with_database(services.admin_dsn, name)


async def _drop_database(services: Services, name: str) -> None:
    conn = await _admin(services)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def database(services: Services, template_db: str) -> AsyncIterator[str]:
    """A DSN to a fresh, fully migrated database of its own."""
    name, dsn = await _fresh_database(services, template_db)
    yield dsn
    await _drop_database(services, name)


@pytest.fixture
async def empty_database(services: Services) -> AsyncIterator[str]:
    """A DSN to a fresh database with no schema at all."""
    name, dsn = await _fresh_database(services, "template0")
    yield dsn
    await _drop_database(services, name)


@pytest.fixture
async def redis_url(services: Services) -> AsyncIterator[str]:
    client = Redis.from_url(services.redis_url)
    await client.flushdb()
    await client.aclose()
    yield services.redis_url


@pytest.fixture
def settings() -> Settings:
    """Defaults, with no config file and no environment (tests set what they need)."""
    return Settings()


@dataclass
class Node:
    """A running node on 127.0.0.1 and an HTTP client for it."""

    app: web.Application
    url: str
    http: aiohttp.ClientSession

    async def post(self, path: str, json: Any = None, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.post(self.url + path, json=json, **kw)

    async def get(self, path: str, **kw: Any) -> aiohttp.ClientResponse:
        return await self.http.get(self.url + path, **kw)


def node_app(settings: Settings, database: str, redis_url: str) -> web.Application:
    """The node's app with its rate-limit windows held still: limits count in fixed
    one-minute windows, and a test whose requests straddled two would see its count
    start again (it did, on CI).  Tests that need the window to turn set the clock."""
    app = create_app(settings, Endpoints(database, redis_url))
    app[ratelimit.CLOCK].fixed = 60.0 * (time.time() // 60) + 0.5
    return app


@asynccontextmanager
async def limited_node(
    settings: Settings, database: str, redis_url: str, **limits: int
) -> AsyncIterator[Node]:
    """A node with these ``[limits]``, its rate-limit clock held in a window of its own
    (random, so that no other test's counts share it): requests counted one after the
    other cannot straddle a minute boundary and start again."""
    runner, node = await start_node(settings.replace(limits=limits), database, redis_url)
    node.app[ratelimit.CLOCK].fixed = 60.0 * (10**9 + secrets.randbelow(10**9))
    try:
        yield node
    finally:
        await node.http.close()
        await runner.cleanup()


async def start_node(
    settings: Settings, database: str, redis_url: str
) -> tuple[web.AppRunner, Node]:
    app = node_app(settings, database, redis_url)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    http = aiohttp.ClientSession()
    return runner, Node(app, f"http://127.0.0.1:{port}", http)


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    runner, n = await start_node(settings, database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


# --- A node on its own loop, for tests that drive it with blocking clients -------------


@dataclass
class ThreadedNode:
    """A node serving from an event loop of its own in a thread, so that a blocking
    client in the test's thread (schemathesis' ``requests``, ``http.client`` under
    hypothesis) can talk to it; :meth:`call` runs a coroutine on the node's loop."""

    app: web.Application
    url: str
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def user(self, role: str = "player", *, guest: bool = False) -> str:
        """A new account made directly in PostgreSQL; returns its id."""
        handle = None if guest else unique_handle("t")
        created = self.call(
            store.create_user(
                self.app[PG],
                handle=handle,
                display_name="Test User",
                role=role,
                password_hash=None if guest else "!",  # no password opens it
                is_guest=guest,
            )
        )
        assert created is not None
        return created.id

    def token(self, user_id: str, role: str = "player", *, guest: bool = False) -> str:
        """An access token of a new session of ``user_id`` (as a sign-in would give)."""
        now = int(time.time())
        claims = AccessClaims(
            user_id=UserId(user_id),
            role=role,
            guest=guest,
            session_id=str(uuid.uuid4()),
            issued_at=now,
            expires_at=now + 900,
        )
        return self.app[SIGNER].issue(claims)


@contextmanager
def node_in_thread(settings: Settings, services: Services, template: str) -> Iterator[ThreadedNode]:
    """A fresh database, a flushed Redis and a node, all driven from a thread's loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="threaded-node", daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(120)

    async def flush() -> None:
        client = Redis.from_url(services.redis_url)
        await client.flushdb()
        await client.aclose()

    try:
        name, dsn = run(_fresh_database(services, template))
        try:
            run(flush())
            runner, node = run(start_node(settings, dsn, services.redis_url))
            try:
                yield ThreadedNode(node.app, node.url, loop)
            finally:
                run(node.http.close())
                run(runner.cleanup())
        finally:
            run(_drop_database(services, name))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def unique_handle(prefix: str) -> str:
    """A fresh handle the name rules can never refuse: hex digits read as letters
    (``b0t`` → ``bot``) may spell a reserved word; 2, 6 and 9 stand for no letter."""
    n = uuid.uuid4().int
    return prefix + "".join("269"[(n // 3**i) % 3] for i in range(18))


UNTHROTTLED = {
    "api_per_ip_per_minute": 1_000_000,
    "api_per_account_per_minute": 1_000_000,
    "auth_per_ip_per_minute": 100_000,
    "auth_per_account_per_minute": 100_000,
    "auth_per_handle_per_minute": 1_000_000,
}
"""Rate limits out of the way, for modules that send thousands of requests from one address."""


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    """The settings of this module's ``threaded_node`` (a test module overrides this)."""
    return Settings()


@pytest.fixture(scope="module")
def threaded_node(
    module_settings: Settings, services: Services, template_db: str
) -> Iterator[ThreadedNode]:
    """One node for the whole module, on its own loop (see :class:`ThreadedNode`)."""
    with node_in_thread(module_settings, services, template_db) as node:
        yield node

"""Accounts, matches and nodes for the realtime tests, all over real HTTP and sockets."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from server.config import Settings
from server.realtime.tuning import TUNING, Tuning
from tests.conftest import Node, node_app, unique_handle
from tests.realtime.client import WAIT

PASSWORD = "correct horse battery"

FAST: dict[str, Any] = {
    "lobby_seconds": 30.0,
    "write_seconds": 3.0,
    "grace_seconds": 0.5,
    "feedback_seconds": 20.0,
    "results_seconds": 0.2,
    "reconnect_grace_seconds": 60.0,
}
"""Short phases: everyone readies at once, the feedback phase ends when all reviewed."""


@dataclass(frozen=True)
class User:
    id: str
    token: str
    handle: str


class Http:
    """An HTTP client for a node at ``url`` (in-process or a subprocess)."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with self.session.post(self.url + path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def register(self, handle: str | None = None) -> User:
        handle = handle or unique_handle("u")
        status, body = await self.post(
            "/api/v1/auth/register", {"handle": handle, "password": PASSWORD}
        )
        assert status == 201, body
        return User(body["user"]["id"], body["access_token"], handle)

    async def login(self, handle: str) -> str:
        status, body = await self.post(
            "/api/v1/auth/login", {"handle": handle, "password": PASSWORD}
        )
        assert status == 200, body
        token: str = body["access_token"]
        return token

    async def admin(self, database: str) -> str:
        """A fresh admin's access token (registered, promoted in SQL, logged in again)."""
        user = await self.register()
        conn = await asyncpg.connect(database)
        try:
            await conn.execute("UPDATE users SET role = 'admin' WHERE id = $1", uuid.UUID(user.id))
        finally:
            await conn.close()
        return await self.login(user.handle)

    async def create_match(self, admin: str, players: list[str], **extra: Any) -> dict[str, Any]:
        status, body = await self.post(
            "/api/v1/admin/matches", {"players": players, **extra}, token=admin
        )
        assert status == 201, body
        result: dict[str, Any] = body
        return result


def http_for(node: Node) -> Http:
    return Http(node.url, node.http)


@asynccontextmanager
async def running_node(
    settings: Settings, database: str, redis_url: str, tuning: Tuning | None = None
) -> AsyncIterator[Node]:
    """An in-process node like ``tests.conftest.start_node``, optionally re-tuned."""
    app = node_app(settings, database, redis_url)
    if tuning is not None:
        app[TUNING] = tuning
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=WAIT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http:
            yield Node(app, f"http://127.0.0.1:{port}", http)
    finally:
        await runner.cleanup()


async def fetch(database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds (state that PostgreSQL, Redis or another task changes)."""
    try:
        async with asyncio.timeout(WAIT):
            while not await check():  # noqa: ASYNC110 - nothing to wait on but the state itself
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"gave up waiting: {what}") from None


async def replay_stored(database: str, match_id: str) -> None:
    """Wait until the match's replay (saved last, after the outcome) is in PostgreSQL."""

    async def stored() -> bool:
        return bool(
            await fetch(database, "SELECT 1 FROM replays WHERE match_id = $1", uuid.UUID(match_id))
        )

    await eventually(stored, f"the replay of {match_id}")


async def no_matches(hub: Any) -> None:
    """Wait until the node hosts no match any more."""

    async def idle() -> bool:
        return not hub.runners

    await eventually(idle, "the node to forget its matches")

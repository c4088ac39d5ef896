"""The protocol client alone: heartbeat, reconnect, final closes, refusals.

Against a real node where the node can do it, and against a small ``websockets`` server
(a recording fake on loopback) where a node would have to misbehave on cue.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from bots.backoff import Backoff
from bots.client import BotClient, Closed, GaveUp, Reconnected, Refused, static_token
from server.config import Settings
from server.protocol import Codec, encode_event
from server.protocol import events as ev
from server.realtime.tuning import Tuning
from tests.bots.helpers import FAST_BACKOFF
from tests.realtime.client import WAIT
from tests.realtime.helpers import http_for, running_node

Handler = Callable[[ServerConnection], Awaitable[None]]


def welcome(token: str, heartbeat: float = 20.0) -> str | bytes:
    event = ev.Welcome(
        session_token=token,
        player_id="bot:1",
        server_time=0,
        heartbeat=heartbeat,
        resume_seconds=90.0,
        limits=ev.LimitsView(frame_bytes=65536, messages_per_second=30, draft_chars=20000),
    )
    return encode_event(event, Codec.JSON, 0)


@asynccontextmanager
async def fake_node(handler: Handler, process_request: Any = None) -> AsyncIterator[str]:
    """A loopback server speaking quill.v1.json, run by ``handler``; yields its URL."""
    async with serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=[Subprotocol("quill.v1.json")],
        process_request=process_request,
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


async def resume(ws: ServerConnection, seen: list[str]) -> None:
    envelope = orjson.loads(await ws.recv())
    assert envelope["t"] == "session.resume"
    seen.append(envelope["d"]["session_token"])


def client_for(url: str, backoff: Backoff = FAST_BACKOFF) -> BotClient:
    return BotClient(url, static_token("token"), backoff=backoff, open_timeout=WAIT)


async def test_going_away_reconnects_and_resumes_the_same_session() -> None:
    seen: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        await resume(ws, seen)
        await ws.send(welcome("st_kept"))
        if len(seen) == 1:
            await ws.close(1001, "the server is restarting; reconnect and resume")
        else:
            await ws.wait_closed()

    async with fake_node(handler) as url:
        client = client_for(url)
        first = await client.start()
        assert first.session_token == "st_kept" and client.generation == 1
        event = await asyncio.wait_for(client.recv(), WAIT)
        assert isinstance(event, Reconnected) and event.welcome.session_token == "st_kept"
        assert seen == ["new", "st_kept"]  # the kept token on the second socket
        assert client.reconnects == 1 and client.generation == 2 and len(client.pauses) == 1
        await client.close()
        closed = await client.recv()
        assert isinstance(closed, Closed) and not closed.lost
        assert await client.recv() == closed  # and ever after


async def test_a_silent_socket_is_cut_after_two_heartbeats() -> None:
    seen: list[str] = []
    pings: list[int] = []

    async def handler(ws: ServerConnection) -> None:
        await resume(ws, seen)
        await ws.send(welcome("st_1", heartbeat=0.1))
        if len(seen) == 1:  # read the pings, never answer
            async for frame in ws:
                if orjson.loads(frame)["t"] == "ping":
                    pings.append(1)
        else:
            await ws.wait_closed()

    async with fake_node(handler) as url:
        client = client_for(url)
        await client.start()
        event = await asyncio.wait_for(client.recv(), WAIT)
        assert isinstance(event, Reconnected)
        assert pings  # it pinged on the heartbeat before giving the socket up
        await client.close()


@pytest.mark.parametrize(("code", "reason"), [(1008, "flooding"), (1000, "replaced")])
async def test_final_closes_are_not_retried(code: int, reason: str) -> None:
    async def handler(ws: ServerConnection) -> None:
        await resume(ws, [])
        await ws.send(welcome("st_1"))
        await ws.close(code, reason)

    async with fake_node(handler) as url:
        client = client_for(url)
        await client.start()
        closed = await asyncio.wait_for(client.recv(), WAIT)
        assert closed == Closed(code, reason, lost=False)
        assert client.reconnects == 0 and not client.connected
        await client.close()


async def test_a_refused_handshake_is_not_retried() -> None:
    def refuse(ws: ServerConnection, request: Request) -> Response:
        return ws.respond(400, "bad_subprotocol\n")

    async def handler(ws: ServerConnection) -> None:  # pragma: no cover - never reached
        await ws.wait_closed()

    async with fake_node(handler, process_request=refuse) as url:
        client = client_for(url)
        with pytest.raises(Refused):
            await client.start()
        assert client.pauses == []
        await client.close()


async def test_gives_up_after_the_last_attempt() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backoff = Backoff(first=0.01, cap=0.02, attempts=3)
    client = client_for(f"http://127.0.0.1:{port}", backoff)
    with pytest.raises(GaveUp):
        await client.start()
    assert len(client.pauses) == 2  # no pause before the first attempt
    await client.close()


async def test_pings_are_answered_by_a_real_node(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(settings, database, redis_url, Tuning(heartbeat_seconds=0.2)) as node:
        user = await http_for(node).register()
        client = BotClient(node.url, static_token(user.token), codec=Codec.MSGPACK)
        hello = await client.start()
        assert hello.player_id == user.id and hello.heartbeat == 0.2
        async with asyncio.timeout(WAIT):
            while not isinstance(event := await client.recv(), ev.Pong):
                assert not isinstance(event, Closed), event
        assert event.client_time is not None
        await client.close()
        assert isinstance(await client.recv(), Closed)

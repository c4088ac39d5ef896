"""The load generator's WebSocket socket against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import WSMsgType, web

from loadtest.wsclient import ConnectionClosed, InvalidHandshake, Socket, connect

Handler = Callable[[web.WebSocketResponse], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        async def ws(request: web.Request) -> web.StreamResponse:
            if request.query.get("token") != "good":
                raise web.HTTPUnauthorized()
            sock = web.WebSocketResponse(protocols=["quill.v1.json"], compress=False)
            await sock.prepare(request)
            await handler(sock)
            return sock

        app = web.Application()
        app.router.add_get("/ws", ws)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"ws://127.0.0.1:{port}/ws?token="

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_messages_both_ways_in_order_then_the_servers_close_code(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def echo(sock: web.WebSocketResponse) -> None:
        async for msg in sock:
            if msg.type is WSMsgType.TEXT:
                await sock.send_str("text:" + msg.data)
            elif msg.type is WSMsgType.BINARY:
                await sock.send_bytes(b"bin:" + msg.data)
                await sock.close(code=4001, message=b"enough")

    url = await serve(echo)
    ws = await connect(url + "good", subprotocols=["quill.v1.json"])
    assert ws.protocol.subprotocol == "quill.v1.json"
    ws.send("héllo".encode(), text=True)
    ws.send(b"\x00\xff", text=False)
    assert await ws.recv(5) == "text:héllo".encode()
    assert await ws.recv(5) == b"bin:\x00\xff"
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv(5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    with pytest.raises(ConnectionClosed):
        ws.send(b"{}", text=True)
    await ws.wait_closed()


async def test_a_deadline_without_a_message_answers_none_and_a_later_message_still_comes(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    go = asyncio.Event()

    async def later(sock: web.WebSocketResponse) -> None:
        await go.wait()
        await sock.send_str("late")
        await sock.receive()  # until the client closes

    ws = await connect(await serve(later) + "good", subprotocols=["quill.v1.json"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.01
    assert await ws.recv_by(deadline) is None
    assert await ws.recv_by(deadline) is None  # a passed deadline answers at once
    go.set()
    assert await ws.recv_by(loop.time() + 30) == b"late"
    await ws.close(1000, "done")
    assert ws.closed.done()


async def test_a_fragmented_message_arrives_whole(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def idle(sock: web.WebSocketResponse) -> None:
        await sock.receive()

    ws: Socket = await connect(await serve(idle) + "good", subprotocols=["quill.v1.json"])
    # aiohttp's server never fragments: the frames go through the socket's own path,
    # text "abc" without FIN, then a continuation "def" with it (unmasked, as a server's)
    ws.data_received(b"\x01\x03abc")
    ws.data_received(b"\x80\x03def")
    assert await ws.recv(5) == b"abcdef"
    await ws.close()


async def test_a_refused_handshake_raises_and_leaves_no_socket(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def never(sock: web.WebSocketResponse) -> None:
        raise AssertionError("not reached")

    url = await serve(never)
    with pytest.raises(InvalidHandshake):
        await connect(url + "bad", subprotocols=["quill.v1.json"])


async def test_nothing_listening_is_an_oserror() -> None:
    import socket

    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        await connect(f"ws://127.0.0.1:{port}/ws", subprotocols=["quill.v1.json"])

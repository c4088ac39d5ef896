"""The gateway on a real socket: handshake refusals, welcome, limits, slow clients, sessions."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import pytest

from server.accounts.tokens import AccessClaims
from server.config import Settings
from server.http.state import REALTIME, SIGNER
from server.protocol import Codec
from server.realtime.connection import Connection
from server.realtime.tuning import Tuning
from server.types import PlayerId, UserId
from tests.conftest import Node
from tests.realtime.client import Client, encode, ws_url
from tests.realtime.helpers import Http, eventually, http_for, running_node


def upgrade_headers(protocol: str | None = None) -> dict[str, str]:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    if protocol is not None:
        headers["Sec-WebSocket-Protocol"] = protocol
    return headers


async def test_handshake_is_refused_in_the_http_error_shape(node: Node) -> None:
    user = await http_for(node).register()
    url = ws_url(node.url, user.token)
    cases = [
        ({}, 400, "not_websocket"),  # a plain GET
        (upgrade_headers(), 400, "bad_subprotocol"),
        (upgrade_headers("quill.v2.json, chat"), 400, "bad_subprotocol"),
    ]
    for headers, status, code in cases:
        async with node.http.get(url, headers=headers) as resp:
            body = await resp.json()
            assert (resp.status, body["error"]["code"]) == (status, code)
            assert body["error"]["request_id"] == resp.headers["X-Request-ID"]
    async with node.http.get(ws_url(node.url), headers=upgrade_headers("quill.v1.json")) as resp:
        assert resp.status == 401 and (await resp.json())["error"]["code"] == "missing_token"
    bad = ws_url(node.url, "v1.bad.token")
    async with node.http.get(bad, headers=upgrade_headers("quill.v1.json")) as resp:
        assert resp.status == 401 and (await resp.json())["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("codec", list(Codec))
async def test_welcome_ping_and_the_bearer_header(node: Node, codec: Codec) -> None:
    from websockets.asyncio.client import connect

    user = await http_for(node).register()
    ws = await connect(
        ws_url(node.url),
        subprotocols=["chat", codec.value],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Bearer {user.token}"},
    )
    assert ws.subprotocol == codec.value
    client = Client(ws, codec)
    try:
        await client.send("ping", {"client_time": 5})
        error = await client.wait("error")
        assert error["d"]["code"] == "bad_session" and error["d"]["ref"] == 1
        await client.send("session.resume", {"session_token": "new"})
        welcome = (await client.wait("welcome"))["d"]
        assert welcome["player_id"] == user.id and welcome["session_token"].startswith("st_")
        assert welcome["match_id"] is None and welcome["limits"]["frame_bytes"] == 65536
        ref = await client.send("ping", {"client_time": 5})
        pong = await client.wait("pong")
        assert pong["d"]["client_time"] == 5 and pong["_codec"] == codec.name.lower()
        assert ref == 3
    finally:
        await client.close()


async def test_refused_frames_get_errors_and_the_socket_stays(node: Node) -> None:
    user = await http_for(node).register()
    client = await Client.session(node.url, user.token)
    try:
        await client.send_raw("{not json")
        await client.send_raw(b"\x93\x01")  # binary frame on the JSON subprotocol
        await client.send_raw(encode(Codec.JSON, "no.such.type", ref=9))
        await client.send_raw(encode(Codec.JSON, "draft.edit", {"seq": "1"}, ref=10))
        ref = await client.send("draft.edit", {"seq": 1, "snapshot": "x"})
        codes: list[tuple[str, int | None]] = []
        while len(codes) < 5:
            await client.wait_change()
            codes = [(e["d"]["code"], e["d"]["ref"]) for e in client.all("error")]
        assert codes == [
            ("bad_json", None),
            ("bad_frame", None),
            ("unknown_type", 9),
            ("bad_field_type", 10),
            ("not_in_match", ref),
        ]
        await client.send("ping")
        await client.wait("pong")
    finally:
        await client.close()


async def test_frame_limits(node: Node) -> None:
    user = await http_for(node).register()
    client = await Client.session(node.url, user.token)
    limit = 65536
    await client.send_raw(encode(Codec.JSON, "ping", {"pad": "x" * limit}, ref=1))
    error = await client.wait("error")
    assert error["d"]["code"] == "frame_too_large" and not client.closed
    # A frame announcing more than the server will read at all (4 × the limit): only its
    # header is sent, as a client would that is cut off mid-frame.
    header = bytes([0x81, 0x80 | 127]) + (8 * limit).to_bytes(8, "big") + os.urandom(4)
    client.ws.transport.write(header)
    code, reason = await client.wait_closed()
    assert code == 1009 and "frame too large" in reason


async def test_a_flood_is_refused_once_then_closed(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(limits={"messages_per_second": 5})
    async with running_node(settings, database, redis_url, Tuning(flood_close=20)) as node:
        user = await http_for(node).register()
        client = await Client.session(node.url, user.token)
        for _ in range(40):
            if client.closed:
                break
            await client.send("ping")
        code, reason = await client.wait_closed()
        assert code == 1008 and "flooding" in reason
        errors = client.all("error")
        assert [e["d"]["code"] for e in errors] == ["too_many_messages"]
        assert errors[0]["d"]["retry_after_ms"] > 0


def fast_node(
    settings: Settings, database: str, redis_url: str, queue_frames: int
) -> AbstractAsyncContextManager[Node]:
    """A node taking thousands of messages a second (one client can out-send its own
    reading) with sockets' send queues of ``queue_frames``."""
    fast = replace(settings, limits=replace(settings.limits, messages_per_second=10_000))
    return running_node(fast, database, redis_url, Tuning(send_queue_frames=queue_frames))


def flood_unread(client: Client, server_conn: Connection, n: int) -> None:
    """Stop reading and send ``n`` pings at once (``client_time`` = 0…n-1), with the
    node's send buffer made small: the pongs (about 400 KB for 9,000) fill the client's
    receive window and that buffer, then the transport's (direct writes stop once it
    holds 64 KiB), and only then the socket's queue."""
    server_conn.ws.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.ws.transport.pause_reading()
    protocol = client.ws.protocol
    for i in range(n):
        frame = encode(Codec.JSON, "ping", {"client_time": i}, ref=100 + i)
        assert isinstance(frame, str)
        protocol.send_text(frame.encode())
    client.ws.transport.write(b"".join(protocol.data_to_send()))


@pytest.fixture
async def tiny_queue_node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    async with fast_node(settings, database, redis_url, queue_frames=3) as node:
        yield node


async def test_a_client_that_cannot_keep_up_is_closed_with_a_reason(
    tiny_queue_node: Node,
) -> None:
    node = tiny_queue_node
    user = await http_for(node).register()
    client = await Client.session(node.url, user.token)
    (server_conn,) = node.app[REALTIME].by_player[PlayerId(user.id)]
    flood_unread(client, server_conn, 9000)  # the queue of 3 overflows
    await eventually(lambda: _true(server_conn.closing), "the node gives up on the socket")
    client.ws.transport.resume_reading()
    code, reason = await client.wait_closed()
    assert code == 1013 and "too slow" in reason
    text = await (await node.get("/metrics")).text()
    assert "quill_ws_slow_disconnects_total 1" in text
    # The node is fine: another socket works.
    other = await Client.session(node.url, user.token)
    await other.send("ping")
    await other.wait("pong")
    await other.close()


async def test_a_slow_reader_gets_every_frame_in_order_and_then_direct_writes_again(
    settings: Settings, database: str, redis_url: str
) -> None:
    """A socket has a writer task only while frames wait for its transport: none while
    idle, one under back-pressure (every frame still arrives, in order), none again once
    the client has caught up.  (On uvloop, as every test runs: its transports are not
    ``asyncio.WriteTransport`` instances, which once turned direct writes off.)"""
    async with fast_node(settings, database, redis_url, queue_frames=20_000) as node:
        user = await http_for(node).register()
        client = await Client.session(node.url, user.token)
        (server_conn,) = node.app[REALTIME].by_player[PlayerId(user.id)]
        # The welcome went straight to the transport: nothing was ever queued.
        assert server_conn._writer is None and server_conn._queue is None
        n = 9000
        flood_unread(client, server_conn, n)
        await eventually(lambda: _true(server_conn._writer is not None), "frames are queued")
        client.ws.transport.resume_reading()
        await client.until(lambda: len(client.all("pong")) == n)
        assert [e["d"]["client_time"] for e in client.all("pong")] == list(range(n))
        await eventually(lambda: _true(server_conn._writer is None), "the writer task ends")
        await client.send("ping", {"client_time": n})
        await client.wait("pong", lambda d: d["client_time"] == n)
        assert server_conn._writer is None and not server_conn.closing
        await client.close()


async def _true(value: bool) -> bool:
    return value


async def test_a_session_token_is_bound_to_its_account(node: Node) -> None:
    http: Http = http_for(node)
    alice, bob = await http.register(), await http.register()
    a = await Client.session(node.url, alice.token)
    token = a.session_token
    await a.close()
    again = await Client.session(node.url, alice.token, session_token=token or "")
    assert again.session_token == token
    await again.close()
    b = await Client.connect(node.url, bob.token)
    await b.send("session.resume", {"session_token": token})
    error = await b.wait("error")
    assert error["d"]["code"] == "bad_session"
    code, reason = await b.wait_closed()
    assert code == 1008 and reason == "bad session"


async def test_queue_and_teacher_messages_are_refused_with_codes(node: Node) -> None:
    user = await http_for(node).register()
    client = await Client.session(node.url, user.token)
    try:
        await client.send("queue.join", {"mode": "ranked"})
        await client.send("queue.leave")
        await client.send("teacher.pause")
        await client.wait("error", lambda d: d["code"] == "forbidden")
        codes = [e["d"]["code"] for e in client.all("error")]
        assert codes == ["unavailable", "not_queued", "forbidden"]
    finally:
        await client.close()


async def test_metrics_count_sockets_and_frames(node: Node) -> None:
    user = await http_for(node).register()
    client = await Client.session(node.url, user.token)
    await client.send("ping")
    await client.wait("pong")
    text = await (await node.get("/metrics")).text()
    assert "quill_ws_connections 1" in text
    assert 'quill_ws_messages_in_total{outcome="accepted"} 2' in text
    await client.close()


async def alive(client: Client) -> None:
    mark = len(client.events)
    await client.send("ping", {"client_time": 1})
    await client.wait("pong", start=mark)


async def test_one_socket_over_the_cap_closes_the_account_s_oldest(node: Node) -> None:
    status, guest = await http_for(node).post("/api/v1/auth/guest", {})
    assert status == 201
    clients = [await Client.session(node.url, guest["access_token"]) for _ in range(5)]
    for client in clients:
        await alive(client)
    clients.append(await Client.session(node.url, guest["access_token"]))  # the sixth
    assert await clients[0].wait_closed() == (1008, "too_many_sockets")
    for client in clients[1:]:
        await alive(client)
    for client in clients[1:]:
        await client.close()


async def test_bots_have_no_socket_cap(node: Node) -> None:
    now = int(time.time())
    claims = AccessClaims(UserId("bot:9"), "bot", False, "bot-session", now, now + 60)
    token = node.app[SIGNER].issue(claims)
    clients = [await Client.session(node.url, token) for _ in range(7)]
    for client in clients:
        await alive(client)
        await client.close()

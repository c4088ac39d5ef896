"""``GET /ws``: the handshake, then one reader loop per socket.

Handshake (refused with the HTTP error shape, before any upgrade):

- 503 ``unavailable`` while the node drains;
- 400 ``not_websocket`` for a request that is not a WebSocket upgrade;
- 400 ``bad_subprotocol`` unless ``Sec-WebSocket-Protocol`` offers ``quill.v1.json`` or
  ``quill.v1.msgpack`` (aiohttp would happily upgrade without one);
- 401 without a valid access token: ``?token=<access token>`` (browsers cannot set
  headers on a WebSocket) or ``Authorization: Bearer <access token>``.

Then, per frame: the rate limit (``TokenBucket``; only the first refusal of a burst is
answered; ``Tuning.flood_close`` refusals in a row close with 1008), the decoder (a
refused frame gets an ``error``; ``Tuning.bad_frames_close`` in a row close with 1008),
and :func:`server.realtime.handlers.dispatch`.  Frames above ``limits.frame_bytes`` are
answered with ``frame_too_large``; above ``oversize_factor`` times that, aiohttp stops
reading and the socket is closed with 1009 and a reason.

Any string in ``?token=`` or the header is parsed totally (``TokenSigner.verify``): a
garbage token is 401 ``invalid_token``, never a 500.  Once open, a socket is closed by
the hub with 1008 ``session_revoked`` when its session is revoked, and with 1008
``too_many_sockets`` when its account opens more than ``limits.sockets_per_account``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import structlog
from aiohttp import WSCloseCode, WSMsgType, hdrs, web

from server.api.session import claims_for
from server.errors import Unauthorized
from server.http.errors import error_response
from server.http.middleware import request_id
from server.http.openapi import Api
from server.http.state import REALTIME, SETTINGS
from server.protocol import (
    SUBPROTOCOLS,
    Frame,
    ProtocolError,
    TokenBucket,
    choose_subprotocol,
    decode_frame,
    error_event,
    parse_protocol_header,
)
from server.realtime.connection import NORMAL, POLICY, Connection, close_reason
from server.realtime.handlers import dispatch
from server.realtime.hub import Hub
from server.types import PlayerId

api = Api()
log = structlog.get_logger("quill.ws")


class QuillWebSocket(web.WebSocketResponse):
    """aiohttp's socket, closing with a reason when a frame is over the hard size limit."""

    def __init__(
        self,
        *,
        too_big: str,
        protocols: tuple[str, ...],
        heartbeat: float,
        max_msg_size: int,
        timeout: float,
    ) -> None:
        super().__init__(
            protocols=protocols,
            heartbeat=heartbeat,
            max_msg_size=max_msg_size,
            timeout=timeout,
            compress=False,  # no per-socket zlib state: memory and CPU go to matches
        )
        self._too_big = close_reason(too_big)

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not message:
            message = self._too_big
        return await super().close(code=code, message=message, drain=drain)


def _token(request: web.Request) -> str:
    # From the raw query string: ``request.query`` would keep a parsed copy on the request
    # (about 0.9 KB) for the socket's whole life.
    token = next((v for k, v in parse_qsl(request.rel_url.raw_query_string) if k == "token"), "")
    if token:
        return token
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    raise Unauthorized(
        "send an access token: ?token=<token> or Authorization: Bearer <token>",
        code="missing_token",
    )


def _node_url(request: web.Request) -> str:
    public = request.app[SETTINGS].server.public_url.rstrip("/")
    if public:
        return public.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"
    return f"{'wss' if request.secure else 'ws'}://{request.host}/ws"


@api.route(
    "GET",
    "/ws",
    summary="The realtime WebSocket (subprotocol quill.v1.json or quill.v1.msgpack)",
    tag="realtime",
    auth=True,
    responses={
        101: ("switching to the WebSocket protocol; see docs/protocol.md", None),
        400: ("not a WebSocket upgrade, or no subprotocol the server speaks", None),
        401: ("missing, bad or expired access token", None),
        503: ("the node is shutting down", None),
    },
)
async def websocket(request: web.Request) -> web.StreamResponse:
    hub = request.app[REALTIME]
    rid = request_id(request)
    if hub.draining:
        return error_response(503, "unavailable", "this node is shutting down; reconnect", rid)
    offered = parse_protocol_header(request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL))
    codec = choose_subprotocol(offered)
    limits = hub.settings.limits
    hard_limit = limits.frame_bytes * hub.tuning.oversize_factor
    ws = QuillWebSocket(
        too_big=f"frame too large: at most {limits.frame_bytes} bytes",
        protocols=() if codec is None else (codec.value,),
        heartbeat=hub.tuning.heartbeat_seconds,
        max_msg_size=hard_limit,
        timeout=hub.tuning.close_timeout_seconds,
    )
    if not ws.can_prepare(request).ok:
        return error_response(400, "not_websocket", "this route takes a WebSocket upgrade", rid)
    if codec is None:
        return error_response(
            400,
            "bad_subprotocol",
            f"offer one of these subprotocols: {', '.join(SUBPROTOCOLS)}",
            rid,
            {"offered": offered, "supported": list(SUBPROTOCOLS)},
        )
    claims = await claims_for(request.app, _token(request))
    await ws.prepare(request)
    conn = Connection(
        ws,
        codec,
        PlayerId(claims.user_id),
        claims.role,
        bucket=TokenBucket.for_messages(limits, asyncio.get_running_loop().time()),
        tuning=hub.tuning,
        metrics=hub.metrics,
        node_url=_node_url(request),
        clock=hub.clock,
        transport=request.transport,
        auth_session=claims.session_id,
        auth_issued_at=claims.issued_at,
    )
    hub.add(conn)
    # Per-socket lines are debug: at thousands of players they would cost more than the
    # frames; quill_ws_opened_total and quill_ws_connections count them instead.
    hub.metrics.opened.inc(codec=codec.value)
    log.debug("ws_open", conn_id=conn.id, player_id=conn.player, codec=codec.value)
    try:
        await _read(hub, conn)
    finally:
        conn.close(NORMAL, "")
        await hub.remove(conn)
        await conn.wait_closed(hub.tuning.close_timeout_seconds)
        log.debug("ws_gone", conn_id=conn.id, player_id=conn.player, code=ws.close_code)
    return ws


async def _read(hub: Hub, conn: Connection) -> None:
    ws = conn.ws
    while True:
        msg = await ws.receive()
        if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
            if conn.closing:
                continue
            conn.reading = True
            try:
                await _on_frame(hub, conn, msg.data)
            finally:
                conn.reading = False
            if conn.reader_closes:
                await conn.close_from_reader()
                return
        elif msg.type is WSMsgType.ERROR:
            conn.log.info("ws_error", error=repr(msg.data))
            return
        else:  # CLOSE, CLOSING, CLOSED
            return


async def _on_frame(hub: Hub, conn: Connection, frame: Frame) -> None:
    loop_now = asyncio.get_running_loop().time()
    metrics, tuning = hub.metrics, hub.tuning
    try:
        conn.bucket.check(loop_now)
    except ProtocolError as exc:
        metrics.messages_in.inc(outcome="rate_limited")
        if conn.bucket.should_close(tuning.flood_close):
            conn.close(POLICY, "flooding: too many messages per second", flush=True)
        elif conn.bucket.should_answer():
            conn.send_event(error_event(exc))
        return
    try:
        inbound = decode_frame(frame, conn.codec, hub.settings.limits)
    except ProtocolError as exc:
        metrics.messages_in.inc(outcome="refused")
        conn.send_event(error_event(exc))
        conn.bad_frames += 1
        if conn.bad_frames >= tuning.bad_frames_close:
            conn.close(POLICY, f"{conn.bad_frames} refused frames in a row", flush=True)
        return
    conn.bad_frames = 0
    metrics.messages_in.inc(outcome="accepted")
    await dispatch(hub, conn, inbound)

"""A WebSocket client socket for simulated players: ``websockets``' Sans-I/O protocol on a
plain asyncio protocol.

Why not ``websockets.asyncio.client``: one worker core has to carry thousands of players,
and that client's per-message layers (an assembler and queue per socket, a send lock and
context, an ``asyncio.timeout`` per read) cost the load generator more than the node it
measures (py-spy, 2,000 players: about half of the worker's busy samples).  The protocol
work itself — handshake, framing, masking, close — stays with ``websockets``
(:class:`~websockets.client.ClientProtocol`); this module only moves bytes and wakes the
one coroutine that reads.

One reader per socket (the player's own coroutine).  :meth:`Socket.send` writes at once
and never waits: on loopback, to a node that reads every socket, the transport's buffer
is the bound.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidHandshake
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

CLOSE_WAIT_S = 2.0  # after our close frame, how long the node may take to end TCP


class Socket(asyncio.Protocol):
    """An open (or opening) client WebSocket; see :func:`connect`."""

    def __init__(self, protocol: ClientProtocol, loop: asyncio.AbstractEventLoop) -> None:
        self.protocol = protocol
        self.loop = loop
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set on connect
        self.messages: collections.deque[bytes] = collections.deque()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None  # the deadline self._timer is for
        self._parts: list[bytes] = []  # a fragmented message's frames so far

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (TCP)
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._events()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._events()
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.state = State.CLOSED
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._armed_for = None, None
        self._wake()

    # --- inside -----------------------------------------------------------------------------

    def _events(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                    if event.fin and not self._parts:
                        self.messages.append(bytes(event.data))
                    else:
                        self._parts.append(bytes(event.data))
                        if event.fin:
                            self.messages.append(b"".join(self._parts))
                            self._parts.clear()
            elif isinstance(event, Response) and not self.opened.done():
                exc = self.protocol.handshake_exc
                if exc is None:
                    self.opened.set_result(None)
                else:
                    self.opened.set_exception(exc)
        self._flush()
        if self.messages:
            self._wake()

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.protocol.close_expected():
            self.loop.call_later(CLOSE_WAIT_S, self.transport.abort)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _raise_if_closed(self) -> None:
        if self.protocol.state is State.CLOSED:
            raise self.protocol.close_exc

    # --- the player's side ------------------------------------------------------------------

    async def recv(self, wait: float) -> bytes | None:
        """The next message's payload (text as UTF-8 bytes), ``None`` after ``wait``
        seconds without one; see :meth:`recv_by`."""
        return await self.recv_by(self.loop.time() + wait)

    async def recv_by(self, deadline: float) -> bytes | None:
        """The next message's payload, ``None`` once the loop's clock passes ``deadline``
        without one; :class:`~websockets.exceptions.ConnectionClosed` once the socket is
        closed and every message before the close has been read.

        The timer for ``deadline`` stays armed across calls with the same deadline: a
        player reads a few messages between two of its own timers, and arming and
        cancelling one per read was a tenth of the load generator's core."""
        if self.messages:
            return self.messages.popleft()
        self._raise_if_closed()
        if deadline != self._armed_for:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(deadline, self._ring)
            self._armed_for = deadline
        waiter = self._waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self._waiter = None
        if self.messages:
            return self.messages.popleft()
        self._raise_if_closed()
        return None

    def _ring(self) -> None:
        self._timer, self._armed_for = None, None
        self._wake()

    def send(self, payload: bytes, *, text: bool) -> None:
        """Send one message now: a text frame of UTF-8 ``payload`` or a binary one."""
        if self.protocol.state is not State.OPEN:
            self._raise_if_closed()
            # closing: the node's close frame is in, its TCP close not yet
            raise ConnectionClosedError(self.protocol.close_rcvd, self.protocol.close_sent)
        if text:
            self.protocol.send_text(payload)
        else:
            self.protocol.send_binary(payload)
        self._flush()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake, bounded by :data:`CLOSE_WAIT_S`."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self._flush()
        elif not self.closed.done():
            self.transport.abort()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        await self.closed


async def connect(
    url: str,
    *,
    subprotocols: Sequence[str],
    open_timeout: float = 20.0,
    max_size: int = 4 * 1024 * 1024,
) -> Socket:
    """Open ``ws://`` ``url`` offering ``subprotocols``; raises ``OSError``,
    ``TimeoutError`` or :class:`~websockets.exceptions.InvalidHandshake`."""
    loop = asyncio.get_running_loop()
    uri = parse_uri(url)
    protocol = ClientProtocol(
        uri, subprotocols=[Subprotocol(s) for s in subprotocols], max_size=max_size
    )
    sock = Socket(protocol, loop)
    try:
        async with asyncio.timeout(open_timeout):
            await loop.create_connection(lambda: sock, uri.host, uri.port)
            await sock.opened
    except BaseException:
        if sock.transport is not None:
            sock.transport.abort()
        raise
    return sock


__all__ = ["ConnectionClosed", "InvalidHandshake", "Socket", "connect"]

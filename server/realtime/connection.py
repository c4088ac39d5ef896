"""One client socket: who it is, its codec, and how frames reach it.

Nothing that produces events ever waits for a socket.  :meth:`Connection.send` returns
at once.  *Direct writes*: while nothing of the socket's is queued and the transport's
buffer is under :data:`DIRECT_BUFFER_BYTES`, a frame is written to the transport at once,
framed by :func:`~server.protocol.codec.ws_frame` (an event shared by many sockets is
framed once, :meth:`Connection.send_shared`).  Only under back-pressure does a frame go
to the socket's bounded queue, and only then does the socket get a *writer task*, which
hands the queued frames to aiohttp one by one (waiting for the transport to drain) and
ends when the queue is empty; the next frame goes direct again.  Waking a task per frame
cost more than the write itself, and a task, a queue and an event per socket that never
needs them cost about 2.5 KB of the node's memory per socket (measured with tracemalloc),
so none exists until it is needed.  Order is kept: nothing goes direct while a writer
task exists (it may be waiting for its last frame to drain), and the transport keeps its
own buffer in order (uvloop sends what a loop turn wrote at the end of the turn).
Overflow rule: a socket whose queue already holds ``Tuning.send_queue_frames`` frames, or
whose writer could not hand over one frame in ``Tuning.send_timeout_seconds``, is too
slow: its queue is dropped and it is closed with 1013 (try again later) and a reason.
The client reconnects and resumes with a fresh ``match.state``; the match never waits
for it.

:meth:`Connection.close` closes after the frames already queued (``flush=True``, used
for 1001 at shutdown) or at once.  Who performs the closing handshake: a close decided
while the reader task handles a frame (flooding, bad frames, a bad session) is carried out
by the reader once the writer task (if any) has stopped, so aiohttp reads on until the
client's close frame and the client is sure to get the code and reason (closing the TCP
connection while a flooding client still sends would reset it and lose them).  Any other
close (slow client, replaced seat, shutdown) is carried out by the writer task, started
for it if the socket had none.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from functools import cached_property
from typing import TYPE_CHECKING, cast

import structlog
from aiohttp import web

from server.protocol import Codec, Frame, Message, Outbound, TokenBucket, encode_event
from server.protocol.codec import ws_frame
from server.realtime.clock import Clock
from server.realtime.metrics import RealtimeMetrics
from server.realtime.tuning import Tuning
from server.types import PlayerId, SessionToken

if TYPE_CHECKING:
    from server.realtime.runner import MatchRunner

# Under this many bytes waiting in the transport, a frame is written to it directly (the
# transport's own high-water mark, above which it asks its writers to wait, is 64 KiB).
DIRECT_BUFFER_BYTES = 64 * 1024
REASON_BYTES = 123  # a close frame's reason is at most 123 bytes of UTF-8

# Close codes the server uses (also in docs/protocol.md; 1009 comes from aiohttp).
NORMAL = 1000
GOING_AWAY = 1001
POLICY = 1008
TRY_AGAIN = 1013

# Reasons of 1008 closes that a client acts on (docs/protocol.md, Connection lifecycle).
SESSION_REVOKED = "session_revoked"  # logged out, refresh reuse, account deleted or disabled
TOO_MANY_SOCKETS = "too_many_sockets"  # a newer socket of the account went over the cap


def _writable(transport: object) -> bool:
    return all(
        callable(getattr(transport, name, None))
        for name in ("write", "get_write_buffer_size", "is_closing")
    )


def close_reason(text: str) -> bytes:
    data = text.encode()
    return data if len(data) <= REASON_BYTES else data[: REASON_BYTES - 3] + b"..."


class Connection:
    """A client socket after the handshake; see the module docstring."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        codec: Codec,
        player: PlayerId,
        role: str,
        *,
        bucket: TokenBucket,
        tuning: Tuning,
        metrics: RealtimeMetrics,
        node_url: str,
        clock: Clock,
        transport: asyncio.BaseTransport | None = None,
        auth_session: str = "",
        auth_issued_at: int = 0,
    ) -> None:
        self.id = secrets.token_hex(6)
        self.ws = ws
        # The socket's transport, for direct writes (see the module docstring); None
        # sends everything through the queue and the writer task.  Checked by what it
        # does: uvloop's transports do not derive from asyncio's classes.
        self._transport: asyncio.WriteTransport | None = (
            cast(asyncio.WriteTransport, transport) if _writable(transport) else None
        )
        self.codec = codec
        self.player = player
        self.role = role
        self.auth_session = auth_session  # the access token's ``sid`` (revocations close it)
        self.auth_issued_at = auth_issued_at  # the access token's ``iat``
        self.bucket = bucket
        self.node_url = node_url
        self.session_token: SessionToken | None = None
        self.runner: MatchRunner | None = None
        self.watching: str | None = None  # the lobby whose teacher's view this socket gets
        self.bad_frames = 0  # refused frames in a row
        self.reading = False  # the reader task is handling a frame (see the module docstring)
        self._clock = clock
        self._tuning = tuning
        self._metrics = metrics
        self._queue: deque[Frame] | None = None  # made at the first back-pressure
        self._closing: tuple[int, str] | None = None
        self._reader_closes = False
        self._writer: asyncio.Task[None] | None = None  # while frames are queued, or closing

    @cached_property
    def log(self) -> structlog.stdlib.BoundLogger:
        """Made when first used: most sockets never log a line."""
        logger: structlog.stdlib.BoundLogger = structlog.get_logger("quill.ws").bind(
            conn_id=self.id, player_id=self.player
        )
        return logger

    # --- life ------------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def close(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close after the queued frames (``flush``) or at once; the first call wins."""
        if self._closing is not None:
            return
        self._closing = (code, reason)
        self._reader_closes = self.reading
        self._metrics.closes.inc(code=str(code))
        if code != NORMAL:
            self.log.info("ws_closing", code=code, reason=reason)
        if not flush and self._queue:
            self._queue.clear()
        if not self._reader_closes:
            self._start_writer()  # a running writer closes once its queue is empty

    @property
    def reader_closes(self) -> bool:
        """The reader task must perform the closing handshake (see the module docstring)."""
        return self._closing is not None and self._reader_closes

    async def close_from_reader(self) -> None:
        """Let the writer finish, then close the socket from the reader's task."""
        await self.wait_closed(self._tuning.close_timeout_seconds)
        await self._close_socket()

    async def wait_closed(self, within: float) -> None:
        """Wait for the writer task (it closes the socket); cancel it after ``within`` s."""
        writer = self._writer
        if writer is None:
            return
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(writer), within)
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    # --- sending ---------------------------------------------------------------------

    def send(self, frame: Frame) -> bool:
        """Send or queue one frame; False if the socket is closing or was just found too
        slow."""
        if self._closing is not None:
            return False
        transport = self._direct()
        if transport is not None:
            transport.write(ws_frame(frame))
            self._metrics.messages_out.inc()
            return True
        return self._enqueue(frame)

    def send_shared(self, out: Outbound) -> bool:
        """:meth:`send` for an event many sockets get: encoded and framed once per codec."""
        if self._closing is not None:
            return False
        transport = self._direct()
        if transport is not None:
            transport.write(out.wire(self.codec))
            self._metrics.messages_out.inc()
            return True
        return self._enqueue(out.frame(self.codec))

    def _direct(self) -> asyncio.WriteTransport | None:
        """The transport, if a frame may be written to it now (see the module docstring)."""
        transport = self._transport
        if (
            transport is None
            or self._writer is not None
            or self.ws.closed
            or transport.is_closing()
            or transport.get_write_buffer_size() >= DIRECT_BUFFER_BYTES
        ):
            return None
        return transport

    def _enqueue(self, frame: Frame) -> bool:
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self._tuning.send_queue_frames:
            self._too_slow(f"too slow: {len(queue)} frames waiting")
            return False
        queue.append(frame)
        self._start_writer()
        return True

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queue(), name=f"ws-writer:{self.id}")

    def send_event(self, event: Message) -> bool:
        """Encode and queue one event (gateway events; matches encode once per codec)."""
        return self.send(encode_event(event, self.codec, self._clock.now_ms()))

    def _too_slow(self, reason: str) -> None:
        if self._closing is None:
            self._metrics.slow_disconnects.inc()
            self.close(TRY_AGAIN, reason)

    async def _write_queue(self) -> None:
        """Hand the queued frames to aiohttp until none is left; then close the socket if
        it is closing, or end (the next frame goes direct, or starts a new writer)."""
        ws, timeout, queue = self.ws, self._tuning.send_timeout_seconds, self._queue
        failed = False
        try:
            while queue:
                if ws.closed:
                    failed = True
                    break
                frame = queue.popleft()
                try:
                    async with asyncio.timeout(timeout):
                        if isinstance(frame, str):
                            await ws.send_str(frame)
                        else:
                            await ws.send_bytes(frame)
                except TimeoutError:
                    self._too_slow(f"too slow: a frame waited {timeout:g} s to be sent")
                    failed = True
                    break
                except (ConnectionError, RuntimeError):
                    failed = True  # the peer is gone; nothing more can be written
                    break
                except Exception as exc:  # never let the writer die silently
                    self.log.warning("ws_write_failed", error=repr(exc))
                    failed = True
                    break
                self._metrics.messages_out.inc()
        finally:
            if queue:
                queue.clear()
            if failed:
                self.close(NORMAL, "")  # nothing more can be written (no-op if closing)
            try:
                if self._closing is not None and not self._reader_closes:
                    await self._close_socket()
            finally:
                self._writer = None

    async def _close_socket(self) -> None:
        if self.ws.closed:
            return
        code, reason = self._closing or (NORMAL, "")
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._tuning.close_timeout_seconds):
                await self.ws.close(code=code, message=close_reason(reason))

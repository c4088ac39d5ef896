"""A ``quill.v1`` client on ``websockets``: what a browser does, for one player.

::

    client = BotClient(node_url, tokens, codec=Codec.MSGPACK)
    welcome = await client.start()         # handshake, session.resume, welcome
    ref = await client.send(MatchJoin(seat_token=...))
    event = await client.recv()            # typed server events, Reconnected, Closed
    await client.close()

- **Handshake**: ``GET <node>/ws?token=<access token>`` offering one subprotocol
  (``quill.v1.json`` or ``quill.v1.msgpack``); the token comes from a
  :data:`TokenSource`, asked again before every attempt so an expired one is replaced.
- **Session**: ``session.resume`` is the first message on every socket; the first one
  carries ``"new"``, every later one the ``welcome.session_token`` kept from before.
- **Messages** are the dataclasses of ``server.protocol.client`` (encoded by
  ``encode_client``); each gets the next envelope ``id``, returned by :meth:`send` so
  the caller can match ``ack.id`` / ``error.ref``.  Server frames are decoded by
  :func:`bots.wire.decode_event`.
- **Heartbeat**: a ``ping`` every ``welcome.heartbeat`` seconds (with jitter); a socket
  that has said nothing for two heartbeats is cut and treated as dropped.
- **Reconnect**: when the socket drops (no close frame, 1001 going away, 1011, 1012,
  1013 too slow, 1014) the client dials again after :class:`~bots.backoff.Backoff`
  pauses, resumes the session and hands the caller :class:`Reconnected` (``welcome``
  says whether the server re-attached the seat; ``match.state`` follows if so).  A
  normal close (1000: match over, or the seat/session taken by a newer socket) and
  policy closes (1008, 1009) are final.  When it gives up, or the close is final,
  :meth:`recv` returns :class:`Closed`, and keeps returning it.

Every socket the client opens it also closes; :meth:`close` ends the reader and any
reconnect in progress.  Events wait in a bounded queue (``queue_size``): when the caller
does not read, the reader stops reading the socket, and a node that finds the bot too
slow closes it with 1013 (then the client reconnects and a fresh ``match.state`` comes).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from bots.backoff import Backoff
from bots.pace import Clock, Sleep
from bots.wire import WireError, decode_event, socket_url
from server.protocol import Codec, Message, encode_client
from server.protocol import client as msgs
from server.protocol import events as ev

log = structlog.get_logger("quill.bots.client")

TokenSource = Callable[[], Awaitable[str]]
"""Returns an access token for the handshake (called before every attempt)."""

RECONNECT_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""Close codes after which the client dials again; any other close is final."""
PERMANENT_STATUS = frozenset({400, 403, 404})
"""Handshake answers that another attempt cannot change."""
MAX_FRAME = 4 * 1024 * 1024


def static_token(token: str) -> TokenSource:
    """A token source that always hands out ``token``."""

    async def source() -> str:
        return token

    return source


class ClientError(Exception):
    """Base of the client's own errors."""


class NotConnected(ClientError):
    """No socket right now (dropped, reconnecting, or another socket than expected)."""


class Refused(ClientError):
    """The node said no in a way that another attempt cannot change."""


class GaveUp(ClientError):
    """Every connection attempt failed."""


@dataclass(frozen=True, slots=True)
class Reconnected:
    """A new socket carries the session; ``welcome.match_id`` names a re-attached seat."""

    welcome: ev.Welcome


@dataclass(frozen=True, slots=True)
class Closed:
    """The client is done: ``lost`` when it gave up reconnecting."""

    code: int
    reason: str
    lost: bool = False


ClientEvent = Message | Reconnected | Closed


class BotClient:
    def __init__(
        self,
        node_url: str,
        tokens: TokenSource,
        *,
        codec: Codec = Codec.JSON,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        open_timeout: float = 10.0,
        close_timeout: float = 5.0,
        queue_size: int = 1024,
        name: str = "bot",
    ) -> None:
        socket_url(node_url)  # fail early on a bad URL
        self.node_url = node_url
        self.codec = codec
        self.backoff = backoff or Backoff()
        self.session_token = "new"
        self.welcome: ev.Welcome | None = None
        self.generation = 0
        """Sockets opened so far; :meth:`send` can insist on one of them."""
        self.reconnects = 0
        self.pauses: list[float] = []
        """Every backoff pause taken before a connection attempt, in order."""
        self.log = log.bind(bot=name)
        self._tokens = tokens
        self._rng = rng or random.Random()
        self._clock = clock
        self._sleep = sleep
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        self._events: asyncio.Queue[ClientEvent] = asyncio.Queue(queue_size)
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._final: Closed | None = None
        self._closing = False
        self._next_id = 0
        self._heard = clock()

    async def __aenter__(self) -> BotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # --- connecting ----------------------------------------------------------------------

    async def start(self) -> ev.Welcome:
        """Connect (retrying with backoff) and resume the session; returns ``welcome``."""
        if self._task is not None:
            raise RuntimeError("the client is already started")
        ws, welcome = await self._dial(pause_first=False)
        self._ws = ws
        self._task = asyncio.create_task(self._run(ws), name=f"bot-client:{self.node_url}")
        return welcome

    async def _dial(self, *, pause_first: bool) -> tuple[ClientConnection, ev.Welcome]:
        last: Exception | None = None
        for attempt, pause in enumerate(self.backoff.delays(self._rng)):
            if attempt > 0 or pause_first:
                self.pauses.append(pause)
                await self._sleep(pause)
            if self._closing:
                break
            try:
                return await self._open()
            except Refused:
                raise
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, WireError) as exc:
                last = exc
                self.log.info("bot_connect_failed", attempt=attempt + 1, error=repr(exc))
        raise GaveUp(f"no connection to {self.node_url}: {last!r}")

    async def _open(self) -> tuple[ClientConnection, ev.Welcome]:
        token = await self._tokens()
        try:
            ws = await connect(
                socket_url(self.node_url, token),
                subprotocols=[Subprotocol(self.codec.value)],
                open_timeout=self._open_timeout,
                close_timeout=self._close_timeout,
                ping_interval=None,  # like a browser: the server pings, we answer
                max_size=MAX_FRAME,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in PERMANENT_STATUS:
                raise Refused(f"the node refused the handshake with HTTP {status}") from exc
            raise
        try:
            async with asyncio.timeout(self._open_timeout):
                resume = msgs.SessionResume(session_token=self.session_token)
                await ws.send(encode_client(resume, self.codec, self._ref()))
                while True:
                    event = decode_event(await ws.recv(), self.codec)
                    if isinstance(event, ev.Welcome):
                        break
                    if isinstance(event, ev.ErrorEvent) and event.code == "bad_session":
                        raise Refused(f"session refused: {event.message}")
        except BaseException:
            ws.transport.abort()
            with contextlib.suppress(Exception):
                await ws.wait_closed()
            raise
        self.session_token = event.session_token
        self.welcome = event
        self.generation += 1
        self._heard = self._clock()
        return ws, event

    # --- reading -------------------------------------------------------------------------

    async def _run(self, ws: ClientConnection) -> None:
        try:
            await self._serve(ws)
        except Exception:  # a bug here must not leave the caller waiting on recv() forever
            self.log.exception("bot_client_failed")
            if self._ws is not None:
                self._ws.transport.abort()
                self._ws = None
            self._finish(Closed(1011, "client error", lost=True))

    async def _serve(self, ws: ClientConnection) -> None:
        while True:
            pinger = asyncio.create_task(self._ping(ws), name="bot-ping")
            try:
                await self._read(ws)
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            code, reason = ws.close_code or 1006, ws.close_reason or ""
            self._ws = None
            if self._closing or code not in RECONNECT_CODES:
                self._finish(Closed(code, reason))
                return
            self.log.info("bot_socket_dropped", code=code, reason=reason)
            try:
                ws, welcome = await self._dial(pause_first=True)
            except (GaveUp, Refused) as exc:
                self.log.warning("bot_reconnect_gave_up", error=str(exc))
                self._finish(Closed(code, reason, lost=True))
                return
            if self._closing:
                await ws.close()
                self._finish(Closed(1000, "closed by the bot"))
                return
            self._ws = ws
            self.reconnects += 1
            self.log.info("bot_reconnected", generation=self.generation)
            await self._events.put(Reconnected(welcome))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                self._heard = self._clock()
                try:
                    event = decode_event(frame, self.codec)
                except WireError as exc:
                    self.log.warning("bot_bad_frame", error=str(exc))
                    continue
                if event is not None:
                    await self._events.put(event)

    async def _ping(self, ws: ClientConnection) -> None:
        assert self.welcome is not None
        heartbeat = max(0.05, self.welcome.heartbeat)
        while True:
            await self._sleep(heartbeat * self._rng.uniform(0.8, 1.0))
            if self._clock() - self._heard > 2 * heartbeat:
                self.log.info("bot_socket_silent", seconds=self._clock() - self._heard)
                ws.transport.abort()
                return
            ping = msgs.Ping(client_time=round(time.time() * 1000))
            try:
                await ws.send(encode_client(ping, self.codec, self._ref()))
            except ConnectionClosed:
                return

    def _finish(self, closed: Closed) -> None:
        self._final = closed
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(closed)

    async def recv(self) -> ClientEvent:
        """The next event; :class:`Closed` once the client is done (and ever after)."""
        if self._final is not None and self._events.empty():
            return self._final
        return await self._events.get()

    # --- sending -------------------------------------------------------------------------

    def _ref(self) -> int:
        self._next_id += 1
        return self._next_id

    async def send(self, msg: Message, *, generation: int | None = None) -> int:
        """Send ``msg``; returns its envelope id.

        Raises :class:`NotConnected` when there is no socket, or when ``generation`` is
        given and the socket is not that one (the caller has not re-synced yet).
        """
        ws = self._ws
        if ws is None or (generation is not None and generation != self.generation):
            raise NotConnected("no socket for this message")
        ref = self._ref()
        try:
            await ws.send(encode_client(msg, self.codec, ref))
        except ConnectionClosed:
            raise NotConnected("the socket closed") from None
        return ref

    # --- closing -------------------------------------------------------------------------

    def drop(self) -> None:
        """Cut the TCP connection without a closing handshake, as a lost network does.

        The client reconnects as after any drop (used by tests and chaos drills)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def close(self) -> None:
        """Close the socket (1000) and stop reconnecting; safe to call more than once."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close(1000, "bye")
        task = self._task
        if task is not None and not task.done():
            if ws is None:  # between sockets: stop dialling
                task.cancel()
            else:
                done, _ = await asyncio.wait({task}, timeout=self._close_timeout)
                if not done:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._final is None:
            self._finish(Closed(1000, "closed by the bot"))

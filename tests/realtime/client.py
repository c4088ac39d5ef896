"""A test client for ``GET /ws`` built on the ``websockets`` library, as a bot would be.

It decodes every server frame into ``{"t", "ts", "d"}`` and keeps them all in
``events``; tests wait for what they expect with :meth:`Client.wait` (bounded by a
generous timeout, never a sleep).  ``kill()`` drops the TCP connection without a closing
handshake, like a client that lost its network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

import msgpack
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.protocol import Codec

SCALE = float(os.environ.get("TEST_TIME_SCALE", "1"))
WAIT = 30.0 * SCALE
"""The one bound on every wait in these tests (a multiple of one unit, scaled by env)."""

Event = dict[str, Any]
Pred = Callable[[dict[str, Any]], bool]


def ws_url(http_url: str, token: str | None = None) -> str:
    base = http_url.replace("http://", "ws://", 1) + "/ws"
    return base if token is None else f"{base}?token={token}"


def encode(codec: Codec, t: str, d: Any = None, ref: int | None = None) -> str | bytes:
    envelope: dict[str, Any] = {"t": t}
    if ref is not None:
        envelope["id"] = ref
    if d is not None:
        envelope["d"] = d
    if codec is Codec.JSON:
        return orjson.dumps(envelope).decode()
    return bytes(msgpack.packb(envelope, use_bin_type=True))


class Client:
    def __init__(self, ws: ClientConnection, codec: Codec, name: str = "") -> None:
        self.ws = ws
        self.codec = codec
        self.name = name
        self.events: list[Event] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self.session_token: str | None = None
        self._next_id = 0
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, http_url: str, token: str, codec: Codec = Codec.JSON, name: str = ""
    ) -> Client:
        ws = await connect(
            ws_url(http_url, token),
            subprotocols=[codec.value],  # type: ignore[list-item]
            max_size=None,
            open_timeout=WAIT,
            ping_interval=None,
        )
        return cls(ws, codec, name)

    @classmethod
    async def session(
        cls,
        http_url: str,
        token: str,
        codec: Codec = Codec.JSON,
        session_token: str = "new",
        name: str = "",
    ) -> Client:
        """Connect and send ``session.resume``; returns after ``welcome``."""
        client = await cls.connect(http_url, token, codec, name)
        await client.send("session.resume", {"session_token": session_token})
        welcome = await client.wait("welcome")
        client.session_token = welcome["d"]["session_token"]
        return client

    # --- sending -------------------------------------------------------------------------

    async def send(self, t: str, d: Any = None) -> int:
        """Send one message with the next envelope id; returns the id."""
        self._next_id += 1
        await self.ws.send(encode(self.codec, t, d, self._next_id))
        return self._next_id

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    # --- receiving -----------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if isinstance(frame, str):
                    event = orjson.loads(frame)
                    event["_codec"] = "json"
                else:
                    event = msgpack.unpackb(frame, raw=False)
                    event["_codec"] = "msgpack"
                self.events.append(event)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            close = self.ws.close_code
            self.close_code = 1006 if close is None else close
            self.close_reason = self.ws.close_reason or ""
            self._changed.set()

    @property
    def closed(self) -> bool:
        return self._reader.done()

    def find(self, t: str, pred: Pred | None = None, start: int = 0) -> Event | None:
        for event in self.events[start:]:
            if event["t"] == t and (pred is None or pred(event["d"])):
                return event
        return None

    def all(self, t: str) -> list[Event]:
        return [e for e in self.events if e["t"] == t]

    async def wait(
        self, t: str, pred: Pred | None = None, start: int = 0, within: float = WAIT
    ) -> Event:
        """The first event of type ``t`` (matching ``pred``) from index ``start`` on."""
        async with asyncio.timeout(within):
            while True:
                found = self.find(t, pred, start)
                if found is not None:
                    return found
                if self.closed:
                    raise AssertionError(
                        f"{self.name}: closed ({self.close_code} {self.close_reason!r}) "
                        f"before {t}; got {[e['t'] for e in self.events]}"
                    )
                self._changed.clear()
                await self._changed.wait()

    async def wait_closed(self, within: float = WAIT) -> tuple[int | None, str]:
        async with asyncio.timeout(within):
            await asyncio.shield(self._reader)
        return self.close_code, self.close_reason

    async def ack(self, ref: int) -> Event:
        """The ``ack`` or ``error`` answering envelope ``ref``."""
        async with asyncio.timeout(WAIT):
            while True:
                for event in self.events:
                    if event["t"] == "ack" and event["d"]["id"] == ref:
                        return event
                    if event["t"] == "error" and event["d"]["ref"] == ref:
                        raise AssertionError(f"{self.name}: message {ref} refused: {event['d']}")
                await self.wait_change()

    async def until(self, check: Callable[[], bool], within: float = WAIT) -> None:
        """Wait until ``check()`` holds or the socket is closed."""
        async with asyncio.timeout(within):
            while not check() and not self.closed:
                self._changed.clear()
                await self._changed.wait()

    async def wait_change(self) -> None:
        if self.closed:
            raise AssertionError(f"{self.name}: closed ({self.close_code} {self.close_reason!r})")
        self._changed.clear()
        await self._changed.wait()

    # --- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(Exception):
            await self._reader

    async def kill(self) -> None:
        """Drop the TCP connection without a closing handshake."""
        self.ws.transport.abort()
        with contextlib.suppress(Exception):
            await self._reader

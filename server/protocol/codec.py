"""Frames in, typed messages out; events in, frames out.  No I/O.

Two subprotocols carry the same messages::

    quill.v1.json     text frames,   UTF-8 JSON   (orjson)
    quill.v1.msgpack  binary frames, one msgpack value

The envelope is a map: client → server ``{"t": type, "id": n?, "d": {...}?}``; server →
client ``{"t": type, "ts": epoch_ms, "d": {...}}``.  ``id`` is the client's own message
counter (0 ≤ id ≤ 2**53-1), echoed as ``ref`` in errors and as ``id`` in acks.

Gateway use::

    codec = choose_subprotocol(offered)          # None → refuse the handshake (400)
    try:
        inbound = decode_frame(frame, codec, limits)
    except ProtocolError as exc:
        send(encode_event(error_event(exc), codec, now_ms))
    ...
    out = Outbound(event, now_ms)                # encode once per broadcast,
    for conn in conns: conn.send(out.frame(conn.codec))   # at most once per codec
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgpack
import orjson

from server.config import LimitSettings
from server.errors import InvalidTransition
from server.protocol.errors import ErrorCode, ProtocolError
from server.protocol.events import ErrorEvent
from server.protocol.schema import CLIENT_MESSAGES, MAX_SAFE_INT, Message, decode_payload, to_plain

Frame = str | bytes


class Codec(StrEnum):
    """A subprotocol; the value is its name in ``Sec-WebSocket-Protocol``."""

    JSON = "quill.v1.json"
    MSGPACK = "quill.v1.msgpack"

    @property
    def binary(self) -> bool:
        """True when frames are binary (msgpack), False for text frames (JSON)."""
        return self is Codec.MSGPACK


SUBPROTOCOLS: tuple[str, ...] = tuple(c.value for c in Codec)
"""Subprotocols the server speaks, in its order of preference."""


def parse_protocol_header(value: str | None) -> list[str]:
    """Split a ``Sec-WebSocket-Protocol`` header value into names."""
    if not value:
        return []
    return [p.strip() for p in value.split(",") if p.strip()]


def choose_subprotocol(offered: Iterable[str]) -> Codec | None:
    """The first offered subprotocol the server speaks, or None (refuse the handshake)."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return Codec(name)
    return None


@dataclass(frozen=True, slots=True)
class Inbound:
    """A decoded client message: its wire type, the envelope ``id`` and the message."""

    type: str
    id: int | None
    msg: Message


def _frame_size(frame: Frame, limit: int) -> int:
    n = len(frame)
    if isinstance(frame, str) and n <= limit < 4 * n:  # only then can UTF-8 length matter
        n = len(frame.encode("utf-8", "surrogatepass"))
    return n


def _parse(frame: Frame, codec: Codec) -> Any:
    if codec is Codec.JSON:
        if not isinstance(frame, str):
            raise ProtocolError(ErrorCode.BAD_FRAME, "quill.v1.json takes text frames")
        try:
            return orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(ErrorCode.BAD_JSON, f"not JSON: {exc}") from None
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ProtocolError(ErrorCode.BAD_FRAME, "quill.v1.msgpack takes binary frames")
    try:
        return msgpack.unpackb(frame, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise ProtocolError(ErrorCode.BAD_MSGPACK, f"not one msgpack value: {exc!r}") from None


def decode_frame(frame: Frame, codec: Codec, limits: LimitSettings) -> Inbound:
    """Decode and validate one frame; raise :class:`ProtocolError` for anything wrong."""
    size = _frame_size(frame, limits.frame_bytes)
    if size > limits.frame_bytes:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE, f"frame of {size} bytes, at most {limits.frame_bytes}"
        )
    envelope = _parse(frame, codec)
    if not isinstance(envelope, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "the envelope must be an object")
    ref = envelope.get("id")
    if ref is not None and (
        isinstance(ref, bool) or not isinstance(ref, int) or not 0 <= ref <= MAX_SAFE_INT
    ):
        raise ProtocolError(
            ErrorCode.BAD_FIELD_TYPE, "id: expected an integer 0..2**53-1", path="id"
        )
    kind = envelope.get("t")
    if kind is None:
        raise ProtocolError(ErrorCode.MISSING_FIELD, "t: is required", ref=ref, path="t")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.BAD_FIELD_TYPE, "t: expected a string", ref=ref, path="t")
    cls = CLIENT_MESSAGES.get(kind)
    if cls is None:
        shown = kind if len(kind) <= 64 else kind[:64] + "…"
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown!r}", ref=ref)
    payload = envelope.get("d")
    if payload is None:
        payload = {}
    try:
        msg = decode_payload(cls, payload, limits)
    except ProtocolError as exc:
        raise exc.with_ref(ref) from None
    return Inbound(kind, ref, msg)


def _pack(envelope: dict[str, Any], codec: Codec) -> Frame:
    if codec is Codec.JSON:
        return orjson.dumps(envelope).decode("utf-8")
    packed: bytes = msgpack.packb(envelope, use_bin_type=True)
    return packed


def encode_event(event: Message, codec: Codec, ts_ms: int) -> Frame:
    """Encode a server event: ``str`` for the JSON codec, ``bytes`` for msgpack."""
    return _pack({"t": event.TYPE, "ts": ts_ms, "d": to_plain(event)}, codec)


def encode_client(msg: Message, codec: Codec, ref: int | None = None) -> Frame:
    """Encode a client message (used by bots, the load test and tests)."""
    envelope: dict[str, Any] = {"t": msg.TYPE, "d": to_plain(msg)}
    if ref is not None:
        envelope["id"] = ref
    return _pack(envelope, codec)


class Outbound:
    """One event to send to many sockets, encoded at most once per codec."""

    __slots__ = ("_frames", "_plain", "event", "ts_ms")

    def __init__(self, event: Message, ts_ms: int) -> None:
        self.event = event
        self.ts_ms = ts_ms
        self._plain: dict[str, Any] | None = None
        self._frames: dict[Codec, Frame] = {}

    def frame(self, codec: Codec) -> Frame:
        """The encoded frame for ``codec`` (computed on first use, then cached)."""
        cached = self._frames.get(codec)
        if cached is None:
            if self._plain is None:
                self._plain = {"t": self.event.TYPE, "ts": self.ts_ms, "d": to_plain(self.event)}
            cached = self._frames[codec] = _pack(self._plain, codec)
        return cached


def error_event(exc: ProtocolError | InvalidTransition, ref: int | None = None) -> ErrorEvent:
    """The ``error`` event for a refused frame or an engine refusal."""
    if isinstance(exc, ProtocolError):
        return ErrorEvent(
            code=exc.code.value,
            message=exc.message,
            ref=exc.ref if exc.ref is not None else ref,
            path=exc.path,
            retry_after_ms=exc.retry_after_ms,
        )
    return ErrorEvent(code=str(exc.code), message=exc.message, ref=ref)

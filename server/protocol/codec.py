"""Frames in, typed messages out; events in, frames out.  No I/O.

Two subprotocols carry the same messages::

    quill.v1.json     text frames,   UTF-8 JSON   (orjson)
    quill.v1.msgpack  binary frames, one msgpack value

The envelope is a map: client → server ``{"t": type, "id": n?, "d": {...}?}``; server →
client ``{"t": type, "ts": epoch_ms, "d": {...}}``.  ``id`` is the client's own message
counter (0 ≤ id ≤ 2**53-1), echoed as ``ref`` in errors and as ``id`` in acks; an ``id``
of the wrong type is ``bad_field_type``, an integer outside that range ``out_of_range``.
Objects and arrays nest at most :data:`MAX_DEPTH` levels (the envelope is level 1,
``d`` level 2); deeper is ``bad_frame``, whether this module or the parser notices.
Every string is checked against the text rule (``server.text``) by the schema.

Gateway use::

    codec = choose_subprotocol(offered)          # None → refuse the handshake (400)
    try:
        inbound = decode_frame(frame, codec, limits)
    except ProtocolError as exc:
        send(encode_event(error_event(exc), codec, now_ms))
    ...
    out = Outbound(event, now_ms)                # encode once per broadcast,
    for conn in conns: conn.send_shared(out)     # at most once per codec
"""

from __future__ import annotations

import struct
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
from server.protocol.schema import (
    CLIENT_MESSAGES,
    MAX_SAFE_INT,
    Message,
    decode_payload,
    huge_integer,
    kind_of,
    to_plain,
)

Frame = str | bytes

MAX_DEPTH = 32
"""How deep objects and arrays may nest in one frame, the envelope being level 1.

The deepest message today is 4 levels (envelope, ``d``, ``d.ops``, one op); 32 leaves
room for newer clients' extra fields.  Both parsers stop far deeper (orjson at 1024,
msgpack's stack at 1024); those refusals get the same code.
"""
_PARSER_DEPTH = ("depth limit", "recursion limit")  # orjson's words for its own limit


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


def _too_deep(ref: int | None = None) -> ProtocolError:
    return ProtocolError(
        ErrorCode.BAD_FRAME,
        f"objects and arrays nest deeper than {MAX_DEPTH} levels",
        ref=ref,
    )


def _deeper_than(value: Any, limit: int) -> bool:
    """True if dicts and lists in ``value`` nest more than ``limit`` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _parse(frame: Frame, codec: Codec) -> Any:
    if codec is Codec.JSON:
        if not isinstance(frame, str):
            raise ProtocolError(ErrorCode.BAD_FRAME, "quill.v1.json takes text frames")
        try:
            return orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            if any(words in str(exc) for words in _PARSER_DEPTH):
                raise _too_deep() from None
            raise ProtocolError(ErrorCode.BAD_JSON, f"not JSON: {exc}") from None
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise ProtocolError(ErrorCode.BAD_FRAME, "quill.v1.msgpack takes binary frames")
    try:
        return msgpack.unpackb(frame, raw=False, strict_map_key=True, use_list=True)
    except msgpack.StackError:
        raise _too_deep() from None
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise ProtocolError(ErrorCode.BAD_MSGPACK, f"not one msgpack value: {exc!r}") from None


def _check_id(ref: Any) -> None:
    """The envelope ``id``: an integer (else ``bad_field_type``) in range (else ``out_of_range``)."""
    bounds = f"0..{MAX_SAFE_INT}"
    if isinstance(ref, float) and huge_integer(ref):
        raise ProtocolError(ErrorCode.OUT_OF_RANGE, f"id: {ref:g} is outside {bounds}", path="id")
    if isinstance(ref, bool) or not isinstance(ref, int):
        shown = repr(ref) if isinstance(ref, float) else kind_of(ref)
        raise ProtocolError(
            ErrorCode.BAD_FIELD_TYPE, f"id: expected an integer {bounds}, got {shown}", path="id"
        )
    if not 0 <= ref <= MAX_SAFE_INT:
        raise ProtocolError(ErrorCode.OUT_OF_RANGE, f"id: {ref} is outside {bounds}", path="id")


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
    if ref is not None:
        _check_id(ref)
    if _deeper_than(envelope, MAX_DEPTH):
        raise _too_deep(ref)
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

    __slots__ = ("_frames", "_plain", "_wires", "event", "ts_ms")

    def __init__(self, event: Message, ts_ms: int) -> None:
        self.event = event
        self.ts_ms = ts_ms
        self._plain: dict[str, Any] | None = None
        self._frames: dict[Codec, Frame] = {}
        self._wires: dict[Codec, bytes] = {}

    def frame(self, codec: Codec) -> Frame:
        """The encoded frame for ``codec`` (computed on first use, then cached)."""
        cached = self._frames.get(codec)
        if cached is None:
            if self._plain is None:
                self._plain = {"t": self.event.TYPE, "ts": self.ts_ms, "d": to_plain(self.event)}
            cached = self._frames[codec] = _pack(self._plain, codec)
        return cached

    def wire(self, codec: Codec) -> bytes:
        """The whole WebSocket frame for ``codec``, header included (cached like
        :meth:`frame`), for sockets that can take it straight away."""
        cached = self._wires.get(codec)
        if cached is None:
            cached = self._wires[codec] = ws_frame(self.frame(codec))
        return cached


_FIN_TEXT, _FIN_BINARY = 0x81, 0x82
_LEN16, _LEN64 = struct.Struct("!BBH"), struct.Struct("!BBQ")


def ws_frame(frame: Frame) -> bytes:
    """A server-to-client WebSocket frame (RFC 6455 section 5.2: final, unmasked, no
    extension) carrying ``frame``: text for ``str``, binary for ``bytes``.  The same
    bytes aiohttp writes for an uncompressed frame; built here so that one shared event
    is framed once for all its sockets instead of once per socket."""
    if isinstance(frame, str):
        first, payload = _FIN_TEXT, frame.encode("utf-8")
    else:
        first, payload = _FIN_BINARY, frame
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return _LEN16.pack(first, 126, n) + payload
    return _LEN64.pack(first, 127, n) + payload


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

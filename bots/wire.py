"""The client's side of the wire: socket URLs, and server frames into typed events.

Encoding is :func:`server.protocol.encode_client` (the same dataclasses the gateway
decodes).  Decoding server events is done here because the server's own decoder is for
client messages: :func:`decode_event` builds the dataclass of ``SERVER_EVENTS`` named by
``t`` from ``d``, leniently, as a browser would read it:

- fields the bot does not know are ignored (a newer server may send more);
- an event type the bot does not know is returned as ``None`` (skip it);
- a frame that is not an envelope, or a known event with a missing or mistyped field,
  raises :class:`WireError` (the client logs it and reads on).

No I/O here.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints
from urllib.parse import quote, urlsplit, urlunsplit

import msgpack
import orjson

from server.protocol import SERVER_EVENTS, Codec, Message


class WireError(ValueError):
    """A server frame the bot cannot read."""


def socket_url(node_url: str, token: str | None = None) -> str:
    """The ``ws(s)://…/ws`` URL for a node given as ``http(s)://host:port`` or ``ws(s)://…/ws``.

    The access token goes in ``?token=`` (what a browser does: it cannot set headers).
    """
    parts = urlsplit(node_url.strip())
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not a node URL: {node_url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/ws"):
        path += "/ws"
    query = "" if token is None else f"token={quote(token, safe='')}"
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def _unpack(frame: str | bytes) -> Any:
    return msgpack.unpackb(frame, raw=False)


def parse_frame(frame: str | bytes, codec: Codec) -> dict[str, Any]:
    """The envelope of one server frame."""
    if codec is Codec.JSON and not isinstance(frame, str):
        raise WireError("quill.v1.json carries text frames")
    if codec is Codec.MSGPACK and not isinstance(frame, bytes | bytearray | memoryview):
        raise WireError("quill.v1.msgpack carries binary frames")
    try:
        loads = orjson.loads if codec is Codec.JSON else _unpack
        envelope = loads(frame)
    except ValueError as exc:  # orjson and msgpack both raise ValueError subclasses
        raise WireError(f"unreadable frame: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("t"), str):
        raise WireError("the envelope must be an object with a string 't'")
    return envelope


def decode_event(frame: str | bytes, codec: Codec) -> Message | None:
    """The typed server event in ``frame``; ``None`` for an event type the bot does not know."""
    envelope = parse_frame(frame, codec)
    cls = SERVER_EVENTS.get(envelope["t"])
    if cls is None:
        return None
    data = envelope.get("d")
    event = build(cls, {} if data is None else data, "d")
    assert isinstance(event, Message)
    return event


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def build(tp: Any, value: Any, path: str) -> Any:
    """``value`` (plain JSON/msgpack data) as an instance of the type ``tp``."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in get_args(tp):
            return None
        inner = [a for a in get_args(tp) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return build(inner[0], value, path)
    if origin is Literal:
        if value not in get_args(tp):
            raise WireError(f"{path}: {value!r} is not one of {get_args(tp)}")
        return value
    if origin is tuple:
        item = get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise WireError(f"{path}: expected an array")
        return tuple(build(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        key_tp, value_tp = get_args(tp)
        if not isinstance(value, dict):
            raise WireError(f"{path}: expected an object")
        return {build(key_tp, k, path): build(value_tp, v, f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise WireError(f"{path}: expected an object")
        hints = _hints(tp)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = build(hints[f.name], value[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise WireError(f"{path}.{f.name}: is missing")
        return tp(**kwargs)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WireError(f"{path}: expected a number")
        return float(value)
    if tp in (int, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise WireError(f"{path}: expected {tp.__name__}")
        return value
    if tp is Any:
        return value
    raise TypeError(f"unsupported field type {tp!r}")

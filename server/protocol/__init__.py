"""The Quill Arena wire protocol (``quill.v1``), with no I/O.

Modules:

- ``errors``  — :class:`ProtocolError` and the error codes (:class:`ErrorCode` for the
  codec and gateway, :class:`RefusalCode` for the engine's ``InvalidTransition``).
- ``schema``  — the message base class, field constraints, validation and plain encoding.
- ``client``  — every message a client sends (``CLIENT_MESSAGES``).
- ``events``  — every event the server sends (``SERVER_EVENTS``).
- ``codec``   — subprotocol choice, :func:`decode_frame`, :func:`encode_event`,
  :class:`Outbound` (encode once per broadcast), :func:`error_event`.
- ``limits``  — :class:`TokenBucket`, the per-socket rate limit.

The full reference with examples is ``docs/protocol.md``.
"""

from server.protocol import client, events, lobby_events, spectate_events
from server.protocol.codec import (
    SUBPROTOCOLS,
    Codec,
    Frame,
    Inbound,
    Outbound,
    choose_subprotocol,
    decode_frame,
    encode_client,
    encode_event,
    error_event,
    parse_protocol_header,
)
from server.protocol.errors import ErrorCode, ProtocolError, RefusalCode
from server.protocol.limits import TokenBucket
from server.protocol.schema import CLIENT_MESSAGES, SERVER_EVENTS, Message, to_plain

__all__ = [
    "CLIENT_MESSAGES",
    "SERVER_EVENTS",
    "SUBPROTOCOLS",
    "Codec",
    "ErrorCode",
    "Frame",
    "Inbound",
    "Message",
    "Outbound",
    "ProtocolError",
    "RefusalCode",
    "TokenBucket",
    "choose_subprotocol",
    "client",
    "decode_frame",
    "encode_client",
    "encode_event",
    "error_event",
    "events",
    "lobby_events",
    "parse_protocol_header",
    "spectate_events",
    "to_plain",
]

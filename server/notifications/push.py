"""Pushing stored notifications to their user's sockets on this node.

Every node's hub listens on :data:`server.notifications.store.CHANNEL` (the same pub/sub
connection as session revocations, server/realtime/hub.py) and hands each message to
:func:`deliver`, which sends a ``notification`` event (docs/protocol.md) to the user's
open sockets here.  Sending is the socket's bounded queue (server/realtime/connection.py):
it never waits, and a socket too slow to take it is closed like for any other event, so
a notification can never hold up a match.  A message that does not decode is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from server.notifications.store import CHANNEL, KINDS
from server.protocol.events import NotificationPushed
from server.protocol.schema import Message


class Socket(Protocol):
    role: str

    @property
    def closing(self) -> bool: ...

    def send_event(self, event: Message) -> bool: ...


def is_notification(message: Mapping[str, Any]) -> bool:
    """Whether a pub/sub message came on the notifications channel."""
    channel = message.get("channel")
    if isinstance(channel, bytes):
        channel = channel.decode(errors="replace")
    return channel == CHANNEL


def decode(raw: bytes | str) -> tuple[str, NotificationPushed] | None:
    """(user id, event) of a published notification; None when it does not decode."""
    try:
        note = orjson.loads(raw)
        at = datetime.fromisoformat(note["created_at"])
        event = NotificationPushed(
            id=str(note["id"]),
            kind=str(note["kind"]),
            data=dict(note["data"]),
            at=int(at.timestamp() * 1000),
        )
        user_id = str(note["user_id"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return (user_id, event) if event.kind in KINDS else None


def deliver(by_player: Mapping[Any, Sequence[Socket]], raw: bytes | str) -> int:
    """Send the notification to each open socket of its user here; how many took it."""
    found = decode(raw)
    if found is None:
        return 0
    user_id, event = found
    sent = 0
    for conn in list(by_player.get(user_id, ())):
        if conn.role != "bot" and not conn.closing and conn.send_event(event):
            sent += 1
    return sent

"""Notifications in PostgreSQL (migrations/0011_notifications.sql), and their push.

:func:`notify` writes one in the caller's connection (so it commits or rolls back with
the change it announces); :func:`publish` tells every node, after the commit, so a node
holding one of the user's sockets can push it (``notification`` message,
docs/protocol.md).  A push is a courtesy: a user who is not connected reads the list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson
from redis.asyncio import Redis

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

KINDS = (
    "goal_met",  # data: goal_id, trait, target, reached, suggestions [{trait, target, why}]
    "pod_session_soon",  # data: pod_id, starts_at, lobby_code
    "escalation_answered",  # data: thread_id
    "escalation_asked",  # to a teacher; data: thread_id, student (display name)
    "teacher_message",  # data: text, class_id or lobby_id
    "score_overridden",  # data: match_id, traits {trait: new score}, overall (new or null)
    "report_action",  # to the author; data: report_id, action, kind, match_id, message?
)
CHANNEL = "quill:notifications"
"""Redis pub/sub channel of new notifications (JSON of :meth:`Notification.plain` plus
``user_id``)."""


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    user_id: str
    kind: str
    data: Mapping[str, Any]
    created_at: datetime
    read_at: datetime | None

    def plain(self) -> dict[str, Any]:
        """As the API and the push show it (without the user id)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "data": dict(self.data),
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }


def _row(r: asyncpg.Record) -> Notification:
    data = r["data"]
    return Notification(
        id=str(r["id"]),
        user_id=str(r["user_id"]),
        kind=r["kind"],
        data=orjson.loads(data) if isinstance(data, str | bytes) else data,
        created_at=r["created_at"],
        read_at=r["read_at"],
    )


async def notify(db: Db, user_id: str, kind: str, data: Mapping[str, Any]) -> Notification:
    """Store a notification for ``user_id``; publish it after the commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    r = await db.fetchrow(
        "INSERT INTO notifications (id, user_id, kind, data) VALUES ($1, $2, $3, $4::jsonb) "
        "RETURNING id, user_id, kind, data, created_at, read_at",
        uuid.uuid4(),
        uuid.UUID(user_id),
        kind,
        orjson.dumps(dict(data)).decode(),
    )
    assert r is not None
    return _row(r)


async def publish(redis: Redis, notes: Iterable[Notification]) -> None:
    """Tell every node about stored notifications (after their transaction committed)."""
    notes = list(notes)
    if not notes:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for n in notes:
            pipe.publish(CHANNEL, orjson.dumps({"user_id": n.user_id, **n.plain()}))
        await pipe.execute()


async def page(
    db: Db,
    user_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
    unread_only: bool = False,
) -> list[Notification]:
    """A user's notifications, newest first, ``limit`` after the ``before`` cursor."""
    rows = await db.fetch(
        "SELECT id, user_id, kind, data, created_at, read_at FROM notifications "
        "WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL) "
        "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid)) "
        "ORDER BY created_at DESC, id DESC LIMIT $5",
        uuid.UUID(user_id),
        unread_only,
        before[0] if before else None,
        uuid.UUID(before[1]) if before else None,
        limit,
    )
    return [_row(r) for r in rows]


async def unread_count(db: Db, user_id: str) -> int:
    n = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        uuid.UUID(user_id),
    )
    return int(n or 0)


async def mark_read(db: Db, user_id: str, ids: Iterable[str] | None = None) -> int:
    """Mark some (``ids``) or all of a user's notifications read; how many changed."""
    if ids is None:
        status = await db.execute(
            "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
            uuid.UUID(user_id),
        )
    else:
        status = await db.execute(
            "UPDATE notifications SET read_at = now() "
            "WHERE user_id = $1 AND read_at IS NULL AND id = ANY($2::uuid[])",
            uuid.UUID(user_id),
            [uuid.UUID(i) for i in ids],
        )
    return int(status.split()[-1])

"""Tutor threads, messages and escalations in PostgreSQL (migrations/0013_tutor.sql).

Plain queries; who may see what is decided by the handlers (server/api/tutor.py).  A
message is added under a lock on its thread's row, so its ``seq`` is the thread's next
number even when a student and a teacher write at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Escalation:
    id: str
    thread_id: str
    student_id: str
    reason: str  # asked | safety
    created_at: datetime
    answered_at: datetime | None

    def plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": "open" if self.answered_at is None else "answered",
            "reason": self.reason,
            "created_at": _iso(self.created_at),
            "answered_at": _iso(self.answered_at),
        }


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    user_id: str
    student_name: str
    title: str
    match_id: str | None
    messages: int
    created_at: datetime
    updated_at: datetime
    escalation: Escalation | None  # the open one, else the latest

    def plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "match_id": self.match_id,
            "student": {"id": self.user_id, "display_name": self.student_name},
            "messages": self.messages,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "escalation": None if self.escalation is None else self.escalation.plain(),
        }


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    seq: int
    author: str  # student | tutor | teacher
    author_id: str | None
    author_name: str | None
    text: str
    confidence: str | None
    factors: Mapping[str, float] | None
    engine: str | None
    cached: bool
    notice: str | None
    declined: bool
    ask_teacher: bool
    created_at: datetime

    def plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "author": self.author,
            "teacher": (
                None
                if self.author != "teacher" or self.author_id is None
                else {"id": self.author_id, "display_name": self.author_name or "Teacher"}
            ),
            "text": self.text,
            "confidence": self.confidence,
            "factors": None if self.factors is None else dict(self.factors),
            "engine": self.engine,
            "cached": self.cached,
            "notice": self.notice,
            "declined": self.declined,
            "ask_teacher": self.ask_teacher,
            "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What a tutor message stores besides its text."""

    confidence: str
    factors: Mapping[str, float]
    engine: str
    cached: bool
    notice: str | None
    declined: bool
    ask_teacher: bool


@dataclass(frozen=True, slots=True)
class Piece:
    match_id: str
    text: str
    focus: str
    traits: Mapping[str, int]


_ESC_COLUMNS = "id, thread_id, student_id, reason, created_at, answered_at"


def _escalation(r: asyncpg.Record | None) -> Escalation | None:
    if r is None or r["id"] is None:
        return None
    return Escalation(
        id=str(r["id"]),
        thread_id=str(r["thread_id"]),
        student_id=str(r["student_id"]),
        reason=r["reason"],
        created_at=r["created_at"],
        answered_at=r["answered_at"],
    )


_THREAD_SELECT = (
    "SELECT t.id, t.user_id, u.display_name, t.title, t.match_id, t.messages, t.created_at, "
    "t.updated_at, e.id AS e_id, e.reason AS e_reason, e.created_at AS e_created_at, "
    "e.answered_at AS e_answered_at "
    "FROM tutor_threads t JOIN users u ON u.id = t.user_id "
    "LEFT JOIN LATERAL (SELECT * FROM tutor_escalations x WHERE x.thread_id = t.id "
    "ORDER BY (x.answered_at IS NULL) DESC, x.created_at DESC LIMIT 1) e ON true "
)


def _thread(r: asyncpg.Record) -> Thread:
    esc = None
    if r["e_id"] is not None:
        esc = Escalation(
            id=str(r["e_id"]),
            thread_id=str(r["id"]),
            student_id=str(r["user_id"]),
            reason=r["e_reason"],
            created_at=r["e_created_at"],
            answered_at=r["e_answered_at"],
        )
    return Thread(
        id=str(r["id"]),
        user_id=str(r["user_id"]),
        student_name=r["display_name"],
        title=r["title"],
        match_id=None if r["match_id"] is None else str(r["match_id"]),
        messages=r["messages"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        escalation=esc,
    )


def _message(r: asyncpg.Record) -> Message:
    factors = r["factors"]
    if isinstance(factors, str | bytes):
        factors = orjson.loads(factors)
    return Message(
        id=str(r["id"]),
        seq=r["seq"],
        author=r["author"],
        author_id=None if r["author_id"] is None else str(r["author_id"]),
        author_name=r["author_name"],
        text=r["text"],
        confidence=r["confidence"],
        factors=factors,
        engine=r["engine"],
        cached=r["cached"],
        notice=r["notice"],
        declined=r["declined"],
        ask_teacher=r["ask_teacher"],
        created_at=r["created_at"],
    )


# --- threads ------------------------------------------------------------------------------


async def create_thread(
    conn: asyncpg.Connection, user_id: str, title: str, match_id: str | None
) -> str:
    thread_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO tutor_threads (id, user_id, title, match_id) VALUES ($1, $2, $3, $4)",
        thread_id,
        uuid.UUID(user_id),
        title,
        None if match_id is None else uuid.UUID(match_id),
    )
    return str(thread_id)


async def thread(db: Db, thread_id: str) -> Thread | None:
    r = await db.fetchrow(_THREAD_SELECT + "WHERE t.id = $1", uuid.UUID(thread_id))
    return None if r is None else _thread(r)


async def threads_of(
    db: Db, user_id: str, *, limit: int, before: tuple[datetime, str] | None = None
) -> list[Thread]:
    """A student's threads, the most recently active first."""
    rows = await db.fetch(
        _THREAD_SELECT + "WHERE t.user_id = $1 "
        "AND ($2::timestamptz IS NULL OR (t.updated_at, t.id) < ($2, $3::uuid)) "
        "ORDER BY t.updated_at DESC, t.id DESC LIMIT $4",
        uuid.UUID(user_id),
        before[0] if before else None,
        uuid.UUID(before[1]) if before else None,
        limit,
    )
    return [_thread(r) for r in rows]


# --- messages -----------------------------------------------------------------------------

_MESSAGE_SELECT = (
    "SELECT m.id, m.seq, m.author, m.author_id, a.display_name AS author_name, m.text, "
    "m.confidence, m.factors, m.engine, m.cached, m.notice, m.declined, m.ask_teacher, "
    "m.created_at FROM tutor_messages m LEFT JOIN users a ON a.id = m.author_id "
)


async def messages(db: Db, thread_id: str) -> list[Message]:
    rows = await db.fetch(
        _MESSAGE_SELECT + "WHERE m.thread_id = $1 ORDER BY m.seq", uuid.UUID(thread_id)
    )
    return [_message(r) for r in rows]


async def lock_thread(conn: asyncpg.Connection, thread_id: str) -> int | None:
    """Lock the thread's row for this transaction; its message count (None: gone)."""
    n = await conn.fetchval(
        "SELECT messages FROM tutor_threads WHERE id = $1 FOR UPDATE", uuid.UUID(thread_id)
    )
    return None if n is None else int(n)


async def add_message(
    conn: asyncpg.Connection,
    thread_id: str,
    author: str,
    text: str,
    *,
    author_id: str | None = None,
    answer: Answer | None = None,
) -> Message:
    """Append a message (call inside a transaction, after :func:`lock_thread`)."""
    tid = uuid.UUID(thread_id)
    seq = await conn.fetchval(
        "UPDATE tutor_threads SET messages = messages + 1, updated_at = now() WHERE id = $1 "
        "RETURNING messages",
        tid,
    )
    r = await conn.fetchrow(
        "WITH m AS (INSERT INTO tutor_messages (id, thread_id, seq, author, author_id, text, "
        "confidence, factors, engine, cached, notice, declined, ask_teacher) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13) RETURNING *) "
        "SELECT m.id, m.seq, m.author, m.author_id, a.display_name AS author_name, m.text, "
        "m.confidence, m.factors, m.engine, m.cached, m.notice, m.declined, m.ask_teacher, "
        "m.created_at FROM m LEFT JOIN users a ON a.id = m.author_id",
        uuid.uuid4(),
        tid,
        seq,
        author,
        None if author_id is None else uuid.UUID(author_id),
        text,
        None if answer is None else answer.confidence,
        None if answer is None else orjson.dumps(dict(answer.factors)).decode(),
        None if answer is None else answer.engine,
        False if answer is None else answer.cached,
        None if answer is None else answer.notice,
        False if answer is None else answer.declined,
        False if answer is None else answer.ask_teacher,
    )
    assert r is not None
    return _message(r)


# --- escalations --------------------------------------------------------------------------


async def escalate(
    conn: asyncpg.Connection, thread_id: str, student_id: str, reason: str
) -> tuple[Escalation, bool]:
    """The thread's open escalation: a new one (True), or the one already open (False)."""
    r = await conn.fetchrow(
        f"INSERT INTO tutor_escalations (id, thread_id, student_id, reason) "
        f"VALUES ($1, $2, $3, $4) ON CONFLICT (thread_id) WHERE answered_at IS NULL "
        f"DO NOTHING RETURNING {_ESC_COLUMNS}",
        uuid.uuid4(),
        uuid.UUID(thread_id),
        uuid.UUID(student_id),
        reason,
    )
    if r is not None:
        made = _escalation(r)
        assert made is not None
        return made, True
    r = await conn.fetchrow(
        f"SELECT {_ESC_COLUMNS} FROM tutor_escalations WHERE thread_id = $1 "
        "AND answered_at IS NULL",
        uuid.UUID(thread_id),
    )
    found = _escalation(r)
    assert found is not None
    return found, False


async def answer_escalation(conn: asyncpg.Connection, thread_id: str, by: str) -> Escalation | None:
    """Close the thread's open escalation (answered by ``by``); None if none was open."""
    r = await conn.fetchrow(
        f"UPDATE tutor_escalations SET answered_at = now(), answered_by = $2 "
        f"WHERE thread_id = $1 AND answered_at IS NULL RETURNING {_ESC_COLUMNS}",
        uuid.UUID(thread_id),
        uuid.UUID(by),
    )
    return _escalation(r)


@dataclass(frozen=True, slots=True)
class QueueItem:
    escalation: Escalation
    thread: Thread
    question: str  # the student's last question before the escalation
    classes: tuple[tuple[str, str], ...]  # (id, name) of the caller's classes the student is in

    def plain(self) -> dict[str, Any]:
        return {
            **self.escalation.plain(),
            "thread_id": self.thread.id,
            "thread_title": self.thread.title,
            "student": {"id": self.thread.user_id, "display_name": self.thread.student_name},
            "classes": [{"id": i, "name": n} for i, n in self.classes],
            "question": self.question,
        }


async def open_escalations(db: Db, teacher_id: str | None, limit: int) -> list[QueueItem]:
    """Open escalations, oldest first: of students in ``teacher_id``'s classes, or every
    one (``None``: an admin)."""
    rows = await db.fetch(
        "SELECT e.id, e.thread_id, e.student_id, e.reason, e.created_at, e.answered_at, "
        "(SELECT q.text FROM tutor_messages q WHERE q.thread_id = e.thread_id "
        " AND q.author = 'student' AND q.created_at <= e.created_at "
        " ORDER BY q.seq DESC LIMIT 1) AS question, "
        "ARRAY(SELECT c.id::text || '|' || c.name FROM classes c "
        " JOIN class_members cm ON cm.class_id = c.id "
        " WHERE cm.user_id = e.student_id AND ($1::uuid IS NULL OR c.teacher_id = $1) "
        " ORDER BY c.name) AS classes "
        "FROM tutor_escalations e WHERE e.answered_at IS NULL AND ($1::uuid IS NULL OR "
        "EXISTS (SELECT 1 FROM class_members cm JOIN classes c ON c.id = cm.class_id "
        " WHERE cm.user_id = e.student_id AND c.teacher_id = $1)) "
        "ORDER BY e.created_at, e.id LIMIT $2",
        None if teacher_id is None else uuid.UUID(teacher_id),
        limit,
    )
    items = []
    for r in rows:
        esc = _escalation(r)
        assert esc is not None
        found = await thread(db, esc.thread_id)
        if found is None:
            continue
        pairs = tuple(tuple(c.split("|", 1)) for c in r["classes"])
        items.append(QueueItem(esc, found, r["question"] or "", tuple((a, b) for a, b in pairs)))
    return items


# --- who teaches whom, the class switch ---------------------------------------------------


async def teachers_of(db: Db, student_id: str) -> list[str]:
    rows = await db.fetch(
        "SELECT DISTINCT c.teacher_id FROM classes c JOIN class_members cm "
        "ON cm.class_id = c.id WHERE cm.user_id = $1 ORDER BY c.teacher_id",
        uuid.UUID(student_id),
    )
    return [str(r["teacher_id"]) for r in rows]


async def teaches(db: Db, teacher_id: str, student_id: str) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM classes c JOIN class_members cm ON cm.class_id = c.id "
        "WHERE c.teacher_id = $1 AND cm.user_id = $2 LIMIT 1",
        uuid.UUID(teacher_id),
        uuid.UUID(student_id),
    )
    return found is not None


async def tutor_off(db: Db, student_id: str) -> bool:
    """True when any class of the student has the tutor switched off."""
    found = await db.fetchval(
        "SELECT 1 FROM classes c JOIN class_members cm ON cm.class_id = c.id "
        "WHERE cm.user_id = $1 AND NOT c.tutor_enabled LIMIT 1",
        uuid.UUID(student_id),
    )
    return found is not None


async def class_tutor(db: Db, class_id: uuid.UUID) -> bool | None:
    value = await db.fetchval("SELECT tutor_enabled FROM classes WHERE id = $1", class_id)
    return None if value is None else bool(value)


async def set_class_tutor(db: Db, class_id: uuid.UUID, enabled: bool) -> None:
    await db.execute(
        "UPDATE classes SET tutor_enabled = $2, updated_at = now() WHERE id = $1",
        class_id,
        enabled,
    )


# --- the student's pieces -----------------------------------------------------------------


async def _traits(db: Db, keys: list[tuple[uuid.UUID, str]]) -> dict[uuid.UUID, dict[str, int]]:
    if not keys:
        return {}
    rows = await db.fetch(
        "SELECT s.match_id, s.trait, s.value FROM scores s "
        "JOIN unnest($1::uuid[], $2::text[]) AS k(match_id, player_id) "
        "ON k.match_id = s.match_id AND k.player_id = s.player_id",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    out: dict[uuid.UUID, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["match_id"], {})[r["trait"]] = int(r["value"])
    return out


_PIECES = (
    "SELECT s.match_id, s.player_id, sub.text, m.focus FROM seats s "
    "JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
    "JOIN matches m ON m.id = s.match_id WHERE s.user_id = $1 AND NOT s.is_bot "
)


async def own_piece(db: Db, user_id: str, match_id: str) -> Piece | None:
    """The piece ``user_id`` wrote in ``match_id``, with its trait scores; None if they
    held no seat there (or wrote nothing that was kept)."""
    r = await db.fetchrow(_PIECES + "AND s.match_id = $2", uuid.UUID(user_id), uuid.UUID(match_id))
    if r is None:
        return None
    traits = await _traits(db, [(r["match_id"], r["player_id"])])
    return Piece(str(r["match_id"]), r["text"], r["focus"], traits.get(r["match_id"], {}))


async def recent_pieces(db: Db, user_id: str, limit: int) -> list[Piece]:
    """The student's latest non-empty pieces, newest first, with their trait scores."""
    rows = await db.fetch(
        _PIECES + "AND NOT sub.empty ORDER BY m.finished_at DESC, m.id DESC LIMIT $2",
        uuid.UUID(user_id),
        limit,
    )
    traits = await _traits(db, [(r["match_id"], r["player_id"]) for r in rows])
    return [
        Piece(str(r["match_id"]), r["text"], r["focus"], traits.get(r["match_id"], {}))
        for r in rows
    ]

"""Reports in PostgreSQL (migrations/0014_reports.sql): filing one, who may see the content
reported, the review queue and its actions, and forgetting a deleted account.

A report names its content by a public id (docs/reports.md#targets):

- a piece: ``<match_id>/<alias>`` (the alias the match gave the writer's seat);
- a review: ``<match_id>/<review_id>``.

Neither carries an account id, so a reporter who saw a piece anonymously learns nothing
from its id.  The moderators of a report are admins, the teacher of the lobby the match
was played in, and the teachers of the author's classes (:func:`moderates_sql`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from server.access.facts import viewer_and_lobby
from server.access.watch import MatchFacts, decide

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

KINDS = ("piece", "review")
REASONS = (
    "bullying",  # unkind, mocking or threatening someone
    "hate",  # attacks a group of people
    "sexual",  # sexual content
    "self_harm",  # a writer who may be at risk
    "personal_info",  # a name, address, phone number, ...
    "spam",  # nonsense, advertising, copied text
    "cheating",  # not the writer's own work
    "other",  # the note says
)
ACTIONS = ("dismiss", "hide", "warn", "unhide")
STATUS_OF = {"dismiss": "dismissed", "hide": "hidden", "warn": "warned", "unhide": "restored"}
STATUSES = ("open", "dismissed", "hidden", "warned", "restored")


def may_act(status: str, action: str) -> bool:
    """Whether ``action`` applies to a report in ``status``: the first three close an
    open report; ``unhide`` undoes a hide (on a report closed as ``hidden``)."""
    return status == "hidden" if action == "unhide" else status == "open"


@dataclass(frozen=True, slots=True)
class Target:
    """Reported content, resolved from its public id."""

    kind: str
    public_id: str
    match_id: uuid.UUID
    item: str  # piece: the writer's player id; review: the review id
    author_id: str | None  # the account that wrote it (None: a bot, a deleted account)


def parse_public_id(public_id: str) -> tuple[uuid.UUID, str] | None:
    match, sep, rest = public_id.partition("/")
    if not sep or not rest:
        return None
    try:
        return uuid.UUID(match), rest
    except ValueError:
        return None


def piece_id(match_id: object, alias: str) -> str:
    return f"{match_id}/{alias}"


def review_public_id(match_id: object, review_id: str) -> str:
    return f"{match_id}/{review_id}"


async def resolve(db: Db, kind: str, public_id: str) -> Target | None:
    parsed = parse_public_id(public_id)
    if parsed is None:
        return None
    match_id, rest = parsed
    if kind == "piece":
        row = await db.fetchrow(
            "SELECT s.player_id, s.user_id FROM seats s JOIN submissions sub "
            "ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
            "WHERE s.match_id = $1 AND s.alias = $2 AND NOT sub.empty",
            match_id,
            rest,
        )
        if row is None:
            return None
        item = row["player_id"]
    else:
        row = await db.fetchrow(
            "SELECT r.review_id, s.user_id FROM reviews r LEFT JOIN seats s "
            "ON s.match_id = r.match_id AND s.player_id = r.reviewer_id "
            "WHERE r.match_id = $1 AND r.review_id = $2 AND NOT r.withheld",
            match_id,
            rest,
        )
        if row is None:
            return None
        item = row["review_id"]
    author = None if row["user_id"] is None else str(row["user_id"])
    return Target(kind, public_id, match_id, item, author)


def moderates_sql(report: str, viewer: str) -> str:
    """SQL true when the account ``viewer`` (a parameter) moderates the report aliased
    ``report``: the teacher of the match's lobby or of a class of the author."""
    return (
        f"(EXISTS (SELECT 1 FROM lobby_matches lm JOIN lobbies l ON l.id = lm.lobby_id "
        f"WHERE lm.match_id = {report}.match_id AND l.teacher_id = {viewer}) "
        f"OR EXISTS (SELECT 1 FROM class_members cm JOIN classes c ON c.id = cm.class_id "
        f"WHERE cm.user_id = {report}.author_id AND c.teacher_id = {viewer}))"
    )


async def teaches(db: Db, teacher_id: str, student_id: str) -> bool:
    """Whether ``teacher_id`` teaches a class ``student_id`` is in."""
    found = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM class_members cm JOIN classes c ON c.id = cm.class_id "
        "WHERE cm.user_id = $1 AND c.teacher_id = $2)",
        uuid.UUID(student_id),
        uuid.UUID(teacher_id),
    )
    return bool(found)


async def may_see(conn: asyncpg.Connection, viewer_id: str, role: str, target: Target) -> bool:
    """Whether the viewer could have seen the content: an admin, its author, a player of
    the match, someone who may watch the match's replay (server/access/watch.py), the
    lobby's teacher or a teacher of the author.  Hidden content only its author and its
    moderators see."""
    if role == "admin" or viewer_id == target.author_id:
        return True
    vid = uuid.UUID(viewer_id)
    moderator = await conn.fetchval(
        f"SELECT {moderates_sql('t', '$3')} FROM (SELECT $1::uuid AS match_id, "
        "$2::uuid AS author_id) t",
        target.match_id,
        None if target.author_id is None else uuid.UUID(target.author_id),
        vid,
    )
    if moderator:
        return True
    hidden = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM hidden_content WHERE match_id = $1 AND kind = $2 "
        "AND item = $3)",
        target.match_id,
        target.kind,
        target.item,
    )
    if hidden:
        return False
    players = await conn.fetch(
        "SELECT user_id FROM seats WHERE match_id = $1 AND user_id IS NOT NULL", target.match_id
    )
    user_ids = frozenset(str(r["user_id"]) for r in players)
    if viewer_id in user_ids:
        return True
    ranked = await conn.fetchval("SELECT ranked FROM matches WHERE id = $1", target.match_id)
    viewer, lobby = await viewer_and_lobby(conn, target.match_id, viewer_id)
    if viewer is None or ranked is None:
        return False
    facts = MatchFacts(ranked=bool(ranked), finished=True, players=user_ids, lobby=lobby)
    return decide(viewer, facts, 0.0) is not None


async def create(
    db: Db, reporter_id: str, target: Target, reason: str, note: str
) -> asyncpg.Record | None:
    """File a report; None when this reporter reported this content already."""
    try:
        row: asyncpg.Record | None = await db.fetchrow(
            "INSERT INTO reports (id, reporter_id, kind, match_id, item, target, author_id, "
            "reason, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "RETURNING id, kind, target, reason, note, status, created_at",
            uuid.uuid4(),
            uuid.UUID(reporter_id),
            target.kind,
            target.match_id,
            target.item,
            target.public_id,
            None if target.author_id is None else uuid.UUID(target.author_id),
            reason,
            note,
        )
    except asyncpg.UniqueViolationError:
        return None
    return row


_QUEUE_COLS = (
    "r.id, r.kind, r.match_id, r.item, r.target, r.author_id, r.reason, r.note, r.status, "
    "r.created_at, r.closed_at, r.action_note, u.display_name AS author_name, "
    "m.focus, m.prompt_id, "
    "(SELECT s.alias FROM seats s WHERE s.match_id = r.match_id AND s.player_id = "
    "CASE WHEN r.kind = 'piece' THEN r.item ELSE (SELECT rv.reviewer_id FROM reviews rv "
    "WHERE rv.match_id = r.match_id AND rv.review_id = r.item) END) AS alias, "
    "CASE WHEN r.kind = 'piece' THEN (SELECT sub.text FROM submissions sub "
    "WHERE sub.match_id = r.match_id AND sub.player_id = r.item) END AS piece_text, "
    "(SELECT rv.strength FROM reviews rv WHERE r.kind = 'review' AND rv.match_id = r.match_id "
    "AND rv.review_id = r.item) AS strength, "
    "(SELECT rv.suggestion FROM reviews rv WHERE r.kind = 'review' "
    "AND rv.match_id = r.match_id AND rv.review_id = r.item) AS suggestion, "
    "EXISTS (SELECT 1 FROM hidden_content h WHERE h.match_id = r.match_id AND h.kind = r.kind "
    "AND h.item = r.item) AS hidden, "
    "(SELECT count(*) FROM reports o WHERE o.match_id = r.match_id AND o.kind = r.kind "
    "AND o.item = r.item) AS reports_on_content"
)
_QUEUE_FROM = (
    "FROM reports r JOIN matches m ON m.id = r.match_id "
    "LEFT JOIN users u ON u.id = r.author_id AND u.deleted_at IS NULL"
)


async def queue(
    db: Db,
    viewer_id: str,
    role: str,
    *,
    status: str,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[asyncpg.Record]:
    """The reports the viewer moderates, newest first; ``status`` open, closed or all."""
    rows: list[asyncpg.Record] = await db.fetch(
        f"SELECT {_QUEUE_COLS} {_QUEUE_FROM} "
        f"WHERE ($1 = 'admin' OR {moderates_sql('r', '$2')}) "
        "AND ($3 = 'all' OR ($3 = 'open' AND r.status = 'open') "
        "OR ($3 = 'closed' AND r.status <> 'open')) "
        "AND ($4::timestamptz IS NULL OR (r.created_at, r.id) < ($4, $5::uuid)) "
        "ORDER BY r.created_at DESC, r.id DESC LIMIT $6",
        role,
        uuid.UUID(viewer_id),
        status,
        None if before is None else before[0],
        None if before is None else before[1],
        limit,
    )
    return rows


async def moderated(
    conn: asyncpg.Connection, report_id: uuid.UUID, viewer_id: str, role: str, *, lock: bool
) -> asyncpg.Record | None:
    """One report the viewer moderates (locked for update when ``lock``), else None."""
    if lock:
        found = await conn.fetchval("SELECT id FROM reports WHERE id = $1 FOR UPDATE", report_id)
        if found is None:
            return None
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_QUEUE_COLS} {_QUEUE_FROM} "
        f"WHERE r.id = $3 AND ($1 = 'admin' OR {moderates_sql('r', '$2')})",
        role,
        uuid.UUID(viewer_id),
        report_id,
    )
    return row


async def close(
    conn: asyncpg.Connection, report: asyncpg.Record, action: str, actor_id: str, note: str
) -> list[uuid.UUID]:
    """Carry out ``action`` on a report (:func:`may_act`; in the caller's transaction);
    the ids of the reports it closed: hiding closes every open report on the same
    content, unhiding turns every report that stood ``hidden`` on it to ``restored``."""
    status = STATUS_OF[action]
    actor = uuid.UUID(actor_id)
    if action == "unhide":
        await conn.execute(
            "DELETE FROM hidden_content WHERE match_id = $1 AND kind = $2 AND item = $3",
            report["match_id"],
            report["kind"],
            report["item"],
        )
        return await _move_all(conn, report, "hidden", "restored", actor, note)
    if action == "hide":
        await conn.execute(
            "INSERT INTO hidden_content (match_id, kind, item, report_id, hidden_by) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            report["match_id"],
            report["kind"],
            report["item"],
            report["id"],
            actor,
        )
        return await _move_all(conn, report, "open", "hidden", actor, note)
    await conn.execute(
        "UPDATE reports SET status = $2, closed_at = now(), closed_by = $3, action_note = $4 "
        "WHERE id = $1",
        report["id"],
        status,
        actor,
        note,
    )
    return [report["id"]]


async def _move_all(
    conn: asyncpg.Connection,
    report: asyncpg.Record,
    was: str,
    now: str,
    actor: uuid.UUID,
    note: str,
) -> list[uuid.UUID]:
    """Every report on ``report``'s content in status ``was`` goes to ``now``, closed by
    ``actor``; ``note`` is kept on ``report`` itself.  Their ids."""
    rows = await conn.fetch(
        "UPDATE reports SET status = $7, closed_at = now(), closed_by = $4, "
        "action_note = CASE WHEN id = $5 THEN $6 ELSE action_note END "
        "WHERE match_id = $1 AND kind = $2 AND item = $3 AND status = $8 RETURNING id",
        report["match_id"],
        report["kind"],
        report["item"],
        actor,
        report["id"],
        note,
        now,
        was,
    )
    return [r["id"] for r in rows]


async def mine(db: Db, reporter_id: str, limit: int) -> list[asyncpg.Record]:
    """The reports a user filed (their own data export), newest first."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT id, kind, target, reason, note, status, created_at, closed_at FROM reports "
        "WHERE reporter_id = $1 ORDER BY created_at DESC LIMIT $2",
        uuid.UUID(reporter_id),
        limit,
    )
    return rows


async def forget_user(conn: asyncpg.Connection, user_id: str) -> None:
    """An account is being deleted: its reports stay for the moderators, anonymous and
    without its note; reports about its content lose the link to it; a moderator's
    action notes are blanked.  Call inside the deletion's transaction."""
    uid = uuid.UUID(user_id)
    await conn.execute(
        "UPDATE reports SET reporter_id = NULL, note = '' WHERE reporter_id = $1", uid
    )
    await conn.execute("UPDATE reports SET author_id = NULL WHERE author_id = $1", uid)
    await conn.execute(
        "UPDATE reports SET closed_by = NULL, action_note = '' WHERE closed_by = $1", uid
    )
    await conn.execute("UPDATE hidden_content SET hidden_by = NULL WHERE hidden_by = $1", uid)


def plain_report(r: asyncpg.Record, iso: Any) -> dict[str, Any]:
    """A queue entry as the API shows it (never the reporter)."""
    if r["kind"] == "piece":
        content: dict[str, Any] = {"text": r["piece_text"] or ""}
    else:
        content = {"strength": r["strength"] or "", "suggestion": r["suggestion"] or ""}
    return {
        "id": str(r["id"]),
        "target": {"kind": r["kind"], "id": r["target"]},
        "reason": r["reason"],
        "note": r["note"],
        "status": r["status"],
        "created_at": iso(r["created_at"]),
        "closed_at": None if r["closed_at"] is None else iso(r["closed_at"]),
        "action_note": r["action_note"],
        "match_id": str(r["match_id"]),
        "focus": r["focus"],
        "alias": r["alias"] or "",
        "author": None
        if r["author_id"] is None or r["author_name"] is None
        else {"user_id": str(r["author_id"]), "display_name": r["author_name"]},
        "content": content,
        "hidden": bool(r["hidden"]),
        "reports_on_content": int(r["reports_on_content"]),
    }

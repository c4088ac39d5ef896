"""Solo practice rounds in PostgreSQL (``practice_rounds``, migrations/0015), and the
finished piece as a match of one seat (``matches.mode = 'practice-solo'``, not ranked)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
MODE = "practice-solo"  # matches.mode of a solo practice piece
MAX_EDITS = 2000  # draft snapshots kept per round for the edit log (the latest win)


@dataclass(frozen=True, slots=True)
class Round:
    id: str
    user_id: str
    prompt_id: str
    focus: str
    focus_from: str
    level: str
    seconds: int
    started_at: datetime
    deadline: datetime
    draft: str
    seq: int
    submitted_at: datetime | None
    match_id: str | None


def _round(r: asyncpg.Record) -> Round:
    return Round(
        id=str(r["id"]),
        user_id=str(r["user_id"]),
        prompt_id=r["prompt_id"],
        focus=r["focus"],
        focus_from=r["focus_from"],
        level=r["level"],
        seconds=r["seconds"],
        started_at=r["started_at"],
        deadline=r["deadline"],
        draft=r["draft"],
        seq=r["draft_seq"],
        submitted_at=r["submitted_at"],
        match_id=None if r["match_id"] is None else str(r["match_id"]),
    )


async def open_goal(db: Db, user_id: str) -> str | None:
    """The trait of the user's oldest open goal, if the goals table exists (another part
    owns it, migrations/0012_goals.sql) and they have one."""
    if await db.fetchval("SELECT to_regclass('public.goals')") is None:
        return None
    value = await db.fetchval(
        "SELECT trait FROM goals WHERE user_id = $1 AND met_at IS NULL "
        "ORDER BY created_at, id LIMIT 1",
        uuid.UUID(user_id),
    )
    return None if value is None else str(value)


async def create(
    db: Db,
    round_id: str,
    user_id: str,
    prompt_id: str,
    focus: str,
    focus_from: str,
    level: str,
    seconds: int,
    started_at: datetime,
    deadline: datetime,
) -> Round | None:
    """A new round; None if the user has an unsubmitted one (one at a time)."""
    try:
        row = await db.fetchrow(
            "INSERT INTO practice_rounds (id, user_id, prompt_id, focus, focus_from, level, "
            "seconds, started_at, deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "RETURNING *",
            uuid.UUID(round_id),
            uuid.UUID(user_id),
            prompt_id,
            focus,
            focus_from,
            level,
            seconds,
            started_at,
            deadline,
        )
    except asyncpg.UniqueViolationError:
        return None
    assert row is not None
    return _round(row)


async def get(db: Db, round_id: str) -> Round | None:
    row = await db.fetchrow("SELECT * FROM practice_rounds WHERE id = $1", uuid.UUID(round_id))
    return None if row is None else _round(row)


async def open_round(db: Db, user_id: str) -> Round | None:
    row = await db.fetchrow(
        "SELECT * FROM practice_rounds WHERE user_id = $1 AND submitted_at IS NULL",
        uuid.UUID(user_id),
    )
    return None if row is None else _round(row)


async def save_draft(db: Db, round_id: str, text: str, seq: int, at: float) -> bool:
    """Keep ``text`` as the draft if ``seq`` is newer than the stored one and the round is
    not submitted; False otherwise.  The edit log keeps a snapshot per save."""
    entry = orjson.dumps([{"at": at, "seq": seq, "snapshot": text}]).decode()
    done = await db.fetchval(
        "UPDATE practice_rounds SET draft = $2, draft_seq = $3, "
        "edit_log = CASE WHEN jsonb_array_length(edit_log) < $5 THEN edit_log || $4::jsonb "
        "ELSE edit_log END "
        "WHERE id = $1 AND submitted_at IS NULL AND draft_seq < $3 RETURNING 1",
        uuid.UUID(round_id),
        text,
        seq,
        entry,
        MAX_EDITS,
    )
    return done is not None


async def claim_submit(
    conn: asyncpg.Connection, round_id: str, at: datetime, text: str | None, seq: int | None
) -> Round | None:
    """Mark the round submitted (with ``text`` as its last draft when given and newer);
    None if it was submitted already.  Call inside the transaction that stores the piece."""
    row = await conn.fetchrow(
        "UPDATE practice_rounds SET submitted_at = $2, "
        "draft = CASE WHEN $3::text IS NOT NULL AND $4::int > draft_seq THEN $3 ELSE draft END, "
        "draft_seq = GREATEST(draft_seq, coalesce($4::int, 0)) "
        "WHERE id = $1 AND submitted_at IS NULL RETURNING *",
        uuid.UUID(round_id),
        at,
        text,
        seq,
    )
    return None if row is None else _round(row)


async def edit_log(db: Db, round_id: str) -> list[dict[str, Any]]:
    raw = await db.fetchval(
        "SELECT edit_log FROM practice_rounds WHERE id = $1", uuid.UUID(round_id)
    )
    return list(orjson.loads(raw)) if raw else []


async def link_match(conn: asyncpg.Connection, round_id: str, match_id: str) -> None:
    await conn.execute(
        "UPDATE practice_rounds SET match_id = $2 WHERE id = $1",
        uuid.UUID(round_id),
        uuid.UUID(match_id),
    )


@dataclass(frozen=True, slots=True)
class Result:
    match_id: str
    text: str
    words: int
    overall: float
    traits: dict[str, int]
    rationale: str
    suggestions: list[dict[str, str]]
    flags: list[str]
    engine: str
    provisional: bool


async def result(db: Db, match_id: str, player_id: str) -> Result | None:
    """The stored piece and its scores (with a teacher's override, as every reader)."""
    row = await db.fetchrow(
        "SELECT s.text, s.words, p.overall, p.rationale, p.suggestions, p.flags, p.engine, "
        "p.provisional FROM submissions s JOIN piece_scores p "
        "ON p.match_id = s.match_id AND p.player_id = s.player_id "
        "WHERE s.match_id = $1 AND s.player_id = $2",
        uuid.UUID(match_id),
        player_id,
    )
    if row is None:
        return None
    traits = await db.fetch(
        "SELECT trait, value FROM scores WHERE match_id = $1 AND player_id = $2",
        uuid.UUID(match_id),
        player_id,
    )
    return Result(
        match_id=match_id,
        text=row["text"],
        words=row["words"],
        overall=float(row["overall"]),
        traits={t["trait"]: int(t["value"]) for t in traits},
        rationale=row["rationale"],
        suggestions=[
            {"sentence": str(s.get("sentence", "")), "advice": str(s.get("advice", ""))}
            for s in orjson.loads(row["suggestions"])
        ],
        flags=list(row["flags"]),
        engine=row["engine"],
        provisional=row["provisional"],
    )

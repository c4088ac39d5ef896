"""Goals in PostgreSQL (migrations/0012_goals.sql) and the check after stored scores.

:func:`check_goals` is what runs after a writer's scores are stored (a match's end in
server/realtime/runner.py, a solo practice round, a teacher's override): for each of
the users it marks their open goals whose trait's recent average reached the target as
met and stores a ``goal_met`` notification with three suggestions for the next goal
(:func:`server.goals.rules.suggestions`), one user per transaction; the caller publishes
the notifications it returns (:func:`server.notifications.store.publish`).  Marking is
``WHERE met_at IS NULL``, so two checks at once notify once.  :func:`after_scores` is the
fire-and-forget form for the match runner: it never raises.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg
import structlog
from redis.asyncio import Redis

from server.goals import rules
from server.notifications import store as notes
from server.progress.store import recent_traits
from server.progress.summary import TraitProgress

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Goal:
    id: str
    user_id: str
    trait: str
    target: float
    due: dt.date | None
    baseline: float | None
    set_by: str | None
    created_at: dt.datetime
    met_at: dt.datetime | None
    met_value: float | None


_COLUMNS = "id, user_id, trait, target, due, baseline, set_by, created_at, met_at, met_value"


def _goal(r: asyncpg.Record) -> Goal:
    return Goal(
        id=str(r["id"]),
        user_id=str(r["user_id"]),
        trait=r["trait"],
        target=float(r["target"]),
        due=r["due"],
        baseline=r["baseline"],
        set_by=None if r["set_by"] is None else str(r["set_by"]),
        created_at=r["created_at"],
        met_at=r["met_at"],
        met_value=r["met_value"],
    )


async def create(
    db: Db,
    *,
    user_id: str,
    trait: str,
    target: float,
    due: dt.date | None,
    baseline: float | None,
    set_by: str,
) -> Goal:
    r = await db.fetchrow(
        f"INSERT INTO goals (id, user_id, trait, target, due, baseline, set_by) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
        uuid.uuid4(),
        uuid.UUID(user_id),
        trait,
        target,
        due,
        baseline,
        uuid.UUID(set_by),
    )
    assert r is not None
    return _goal(r)


async def goals_of(db: Db, user_id: str, *, limit: int) -> list[Goal]:
    """Open goals first (oldest first), then met ones (latest met first), ``limit`` in all."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM goals WHERE user_id = $1 "
        "ORDER BY met_at IS NOT NULL, met_at DESC, created_at, id LIMIT $2",
        uuid.UUID(user_id),
        limit,
    )
    return [_goal(r) for r in rows]


async def open_on(db: Db, user_id: str, trait: str) -> Goal | None:
    r = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM goals WHERE user_id = $1 AND trait = $2 AND met_at IS NULL",
        uuid.UUID(user_id),
        trait,
    )
    return None if r is None else _goal(r)


async def count_open(db: Db, user_id: str) -> int:
    n = await db.fetchval(
        "SELECT count(*) FROM goals WHERE user_id = $1 AND met_at IS NULL", uuid.UUID(user_id)
    )
    return int(n or 0)


async def get(db: Db, user_id: str, goal_id: str) -> Goal | None:
    r = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM goals WHERE id = $1 AND user_id = $2",
        uuid.UUID(goal_id),
        uuid.UUID(user_id),
    )
    return None if r is None else _goal(r)


async def delete(db: Db, user_id: str, goal_id: str) -> bool:
    status = await db.execute(
        "DELETE FROM goals WHERE id = $1 AND user_id = $2",
        uuid.UUID(goal_id),
        uuid.UUID(user_id),
    )
    return str(status).endswith(" 1")


def _recent(traits: Iterable[TraitProgress], trait: str) -> float | None:
    return next((t.recent for t in traits if t.trait == trait), None)


async def _check_one(conn: asyncpg.Connection, user_id: str) -> list[notes.Notification]:
    open_goals = await conn.fetch(
        f"SELECT {_COLUMNS} FROM goals WHERE user_id = $1 AND met_at IS NULL "
        "ORDER BY created_at, id",
        uuid.UUID(user_id),
    )
    if not open_goals:
        return []
    traits = await recent_traits(conn, user_id)
    out = []
    for goal in map(_goal, open_goals):
        recent = _recent(traits, goal.trait)
        if not rules.is_met(goal.target, recent):
            continue
        marked = await conn.fetchval(
            "UPDATE goals SET met_at = now(), met_value = $2 WHERE id = $1 AND met_at IS NULL "
            "RETURNING true",
            uuid.UUID(goal.id),
            recent,
        )
        if not marked:
            continue
        nexts = rules.suggestions(goal.trait, goal.target, traits)
        out.append(
            await notes.notify(
                conn,
                user_id,
                "goal_met",
                {
                    "goal_id": goal.id,
                    "trait": goal.trait,
                    "target": goal.target,
                    "reached": recent,
                    "suggestions": [s.plain() for s in nexts],
                },
            )
        )
    return out


async def check_goals(db: Db, user_ids: Iterable[str]) -> list[notes.Notification]:
    """Mark the users' goals their stored scores now meet; the ``goal_met`` notifications
    stored (the caller publishes them after its transaction, if it passed one)."""
    out: list[notes.Notification] = []
    for user_id in dict.fromkeys(user_ids):
        try:
            uuid.UUID(user_id)
        except ValueError:
            continue  # a bot or a pseudonymised seat
        if isinstance(db, asyncpg.Pool):
            async with db.acquire() as conn, conn.transaction():
                out += await _check_one(conn, user_id)
        else:
            async with db.transaction():
                out += await _check_one(db, user_id)
    return out


async def after_scores(pool: asyncpg.Pool, redis: Redis, user_ids: Iterable[str]) -> None:
    """:func:`check_goals` then publish; logs and swallows any failure (a courtesy after a
    match's results are stored, which it must never hold up or undo)."""
    try:
        found = await check_goals(pool, list(user_ids))
    except Exception as exc:
        log.warning("goal_check_failed", error=repr(exc))
        return
    if found:
        log.info("goals_met", goals=len(found))
    try:
        await notes.publish(redis, found)
    except Exception as exc:  # stored anyway: the list shows it
        log.warning("notification_publish_failed", error=repr(exc))

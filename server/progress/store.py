"""A writer's finished matches read from PostgreSQL as :class:`summary.Played` rows.

What counts: every match in which the writer held a seat and took part (a seat with a
rank; a no-show has none), newest :data:`MAX_MATCHES` of them.  A piece is *scored* when
it was not empty and has trait scores (a teacher's override is already in ``scores``).
Writing time comes from the stored edit log (:func:`summary.writing_seconds`), read for
the recent scored pieces only; review helpfulness from the reviews the writer gave.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
import msgpack

from server.progress.summary import RECENT, Played, TraitProgress, trait_progress, writing_seconds

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
MAX_MATCHES = 1000  # streaks and bests look this far back
RECENT_PROMPTS = 5  # what to practise avoids the prompts of this many last matches


@dataclass(frozen=True, slots=True)
class History:
    played: list[Played]
    current: tuple[float, float] | None  # (mu, sigma) now; None: never rated
    grade: int | None  # the grade of the writer's class, if in one
    recent_prompts: tuple[str, ...]


def edit_times(edit_log: bytes | None) -> list[float]:
    """The server times of a stored edit log (server/storage/matches.encode_edits)."""
    if not edit_log:
        return []
    try:
        records = msgpack.unpackb(edit_log, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return []
    if not isinstance(records, list):
        return []
    return [
        float(r["at"])
        for r in records
        if isinstance(r, dict) and isinstance(r.get("at"), int | float)
    ]


async def history(db: Db, user_id: str) -> History:
    user = uuid.UUID(user_id)
    rows = await db.fetch(
        "SELECT m.id, m.finished_at, m.ranked, m.prompt_id, s.player_id, s.rank, "
        "coalesce(sub.words, 0) AS words, coalesce(sub.empty, true) AS empty, ps.overall, "
        "rh.mu_after, rh.sigma_after "
        "FROM seats s JOIN matches m ON m.id = s.match_id "
        "LEFT JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN piece_scores ps ON ps.match_id = s.match_id AND ps.player_id = s.player_id "
        "LEFT JOIN rating_history rh ON rh.match_id = s.match_id AND rh.player_id = s.player_id "
        "WHERE s.user_id = $1 AND s.rank IS NOT NULL "
        "ORDER BY m.finished_at DESC, m.id DESC LIMIT $2",
        user,
        MAX_MATCHES,
    )
    ids = [r["id"] for r in rows]
    traits: dict[uuid.UUID, dict[str, int]] = {}
    for r in await db.fetch(
        "SELECT sc.match_id, sc.trait, sc.value FROM scores sc JOIN seats s "
        "ON s.match_id = sc.match_id AND s.player_id = sc.player_id "
        "WHERE s.user_id = $1 AND sc.match_id = ANY($2::uuid[])",
        user,
        ids,
    ):
        traits.setdefault(r["match_id"], {})[r["trait"]] = r["value"]
    scored = [r for r in rows if not r["empty"] and traits.get(r["id"])]
    timed = scored[:RECENT]
    seconds: dict[uuid.UUID, float] = {}
    for r in await db.fetch(
        "SELECT sub.match_id, sub.edit_log FROM submissions sub JOIN seats s "
        "ON s.match_id = sub.match_id AND s.player_id = sub.player_id "
        "WHERE s.user_id = $1 AND sub.match_id = ANY($2::uuid[])",
        user,
        [r["id"] for r in timed],
    ):
        seconds[r["match_id"]] = writing_seconds(edit_times(r["edit_log"]))
    helpful: dict[uuid.UUID, list[int]] = {}
    for r in await db.fetch(
        "SELECT rv.match_id, rv.helpfulness FROM reviews rv JOIN seats s "
        "ON s.match_id = rv.match_id AND s.player_id = rv.reviewer_id "
        "WHERE s.user_id = $1 AND rv.match_id = ANY($2::uuid[])",
        user,
        ids[:RECENT],
    ):
        helpful.setdefault(r["match_id"], []).append(r["helpfulness"])
    played = [
        Played(
            match_id=str(r["id"]),
            finished_at=r["finished_at"],
            ranked=r["ranked"],
            rank=r["rank"],
            words=r["words"],
            write_seconds=seconds.get(r["id"], 0.0),
            traits={} if r["empty"] else traits.get(r["id"], {}),
            overall=None if r["empty"] or r["overall"] is None else round(r["overall"], 2),
            helpfulness=tuple(helpful.get(r["id"], ())),
            rating_after=None
            if r["mu_after"] is None
            else (float(r["mu_after"]), float(r["sigma_after"])),
        )
        for r in rows
    ]
    current = await db.fetchrow("SELECT mu, sigma FROM ratings WHERE user_id = $1", user)
    grade = await db.fetchval(
        "SELECT c.grade_level FROM class_members cm JOIN classes c ON c.id = cm.class_id "
        "WHERE cm.user_id = $1 ORDER BY cm.joined_at DESC LIMIT 1",
        user,
    )
    return History(
        played=played,
        current=None if current is None else (float(current["mu"]), float(current["sigma"])),
        grade=grade,
        recent_prompts=tuple(r["prompt_id"] for r in rows[:RECENT_PROMPTS]),
    )


async def recent_traits(db: Db, user_id: str) -> tuple[TraitProgress, ...]:
    """Per trait, the recent and earlier averages of the last 2 × RECENT scored pieces
    (what goals are checked against; the same numbers as Me shows)."""
    rows = await db.fetch(
        "SELECT sc.match_id, sc.trait, sc.value, m.finished_at FROM scores sc "
        "JOIN seats s ON s.match_id = sc.match_id AND s.player_id = sc.player_id "
        "JOIN matches m ON m.id = sc.match_id "
        "JOIN submissions sub ON sub.match_id = sc.match_id AND sub.player_id = sc.player_id "
        "WHERE s.user_id = $1 AND s.rank IS NOT NULL AND NOT sub.empty AND sc.match_id IN ("
        "  SELECT s2.match_id FROM seats s2 JOIN matches m2 ON m2.id = s2.match_id "
        "  JOIN submissions sub2 ON sub2.match_id = s2.match_id AND sub2.player_id = s2.player_id "
        "  WHERE s2.user_id = $1 AND s2.rank IS NOT NULL AND NOT sub2.empty "
        "  ORDER BY m2.finished_at DESC, m2.id DESC LIMIT $2)",
        uuid.UUID(user_id),
        2 * RECENT,
    )
    return trait_progress(_pieces(rows))


def _pieces(rows: Sequence[Any]) -> list[Played]:
    by_match: dict[uuid.UUID, tuple[dt.datetime, dict[str, int]]] = {}
    for r in rows:
        by_match.setdefault(r["match_id"], (r["finished_at"], {}))[1][r["trait"]] = r["value"]
    ordered = sorted(by_match.items(), key=lambda kv: (kv[1][0], str(kv[0])))
    return [Played(str(mid), at, False, None, 0, 0.0, traits) for mid, (at, traits) in ordered]

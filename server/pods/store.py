"""Study pods in PostgreSQL (migrations/0010_pods.sql): profiles, pods, members, waitlist.

The forming itself is pure (:mod:`server.pods.forming`); this module reads what it needs
and writes what it decided.  Deleted and disabled accounts are never read as members or
candidates (their rows are removed at deletion; a disabled account keeps its rows).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import asyncpg
import orjson

from server.accounts.store import shared_name_sql
from server.pods.forming import Candidate, local_window

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool

# The conservative rating (mu - 3 sigma) of someone who has not played yet: TrueSkill's
# starting mu 25, sigma 25/3.
START_RATING = 0.0


@dataclass(frozen=True, slots=True)
class LocalWindow:
    day: int  # 0 = Monday
    start: int  # minute of the day
    minutes: int

    def plain(self) -> dict[str, int]:
        return {"day": self.day, "start": self.start, "minutes": self.minutes}


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    time_zone: str
    windows: tuple[LocalWindow, ...]
    goals: tuple[str, ...]
    updated_at: datetime

    def plain(self) -> dict[str, Any]:
        return {
            "time_zone": self.time_zone,
            "windows": [w.plain() for w in self.windows],
            "goals": list(self.goals),
            "updated_at": self.updated_at.isoformat(),
        }


def utc_offset_minutes(time_zone: str, at: datetime) -> int:
    """The zone's offset from UTC at ``at``, in minutes east."""
    offset = at.astimezone(ZoneInfo(time_zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def candidate(
    profile: Profile, rating: float, at: datetime, avoid: frozenset[str] = frozenset()
) -> Candidate:
    """The writer as pod forming sees them, with the zone's offset as it is at ``at``."""
    offset = utc_offset_minutes(profile.time_zone, at)
    return Candidate(
        user=profile.user_id,
        rating=rating,
        utc_offset=offset,
        windows=tuple(local_window(w.day, w.start, w.minutes, offset) for w in profile.windows),
        goals=frozenset(profile.goals),
        avoid=avoid,
    )


def _profile(row: asyncpg.Record) -> Profile:
    windows = orjson.loads(row["windows"])
    return Profile(
        user_id=str(row["user_id"]),
        time_zone=row["time_zone"],
        windows=tuple(LocalWindow(w["day"], w["start"], w["minutes"]) for w in windows),
        goals=tuple(row["goals"]),
        updated_at=row["updated_at"],
    )


_LIVE = "JOIN users u ON u.id = {t}.user_id AND u.deleted_at IS NULL AND u.disabled_at IS NULL"


async def profile(db: Db, user_id: str) -> Profile | None:
    row = await db.fetchrow("SELECT * FROM pod_profiles WHERE user_id = $1", uuid.UUID(user_id))
    return None if row is None else _profile(row)


async def save_profile(
    db: Db, user_id: str, time_zone: str, windows: Sequence[LocalWindow], goals: Sequence[str]
) -> Profile:
    row = await db.fetchrow(
        "INSERT INTO pod_profiles (user_id, time_zone, windows, goals) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_id) DO UPDATE SET time_zone = $2, windows = $3, goals = $4, "
        "updated_at = now() RETURNING *",
        uuid.UUID(user_id),
        time_zone,
        orjson.dumps([w.plain() for w in windows]).decode(),
        list(goals),
    )
    assert row is not None
    return _profile(row)


async def ratings(db: Db, user_ids: Sequence[str]) -> dict[str, float]:
    """Each user's conservative rating (mu - 3 sigma); :data:`START_RATING` if none."""
    rows = await db.fetch(
        "SELECT user_id, mu - 3 * sigma AS r FROM ratings WHERE user_id = ANY($1::uuid[])",
        [uuid.UUID(u) for u in user_ids],
    )
    found = {str(r["user_id"]): float(r["r"]) for r in rows}
    return {u: found.get(u, START_RATING) for u in user_ids}


async def avoided(db: Db, user_ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """Whom each user must not be put with: the members of every pod they left with a
    rematch (the most recent ten departures)."""
    rows = await db.fetch(
        "SELECT user_id, former FROM ("
        "  SELECT user_id, former, row_number() OVER (PARTITION BY user_id "
        "  ORDER BY left_at DESC) AS n FROM pod_departures "
        "  WHERE user_id = ANY($1::uuid[]) AND rematch) d WHERE n <= 10",
        [uuid.UUID(u) for u in user_ids],
    )
    out: dict[str, set[str]] = {u: set() for u in user_ids}
    for r in rows:
        out[str(r["user_id"])].update(str(x) for x in r["former"])
    return {u: frozenset(v - {u}) for u, v in out.items()}


@dataclass(frozen=True, slots=True)
class PodRow:
    id: str
    name: str
    time_zone: str
    slot_start: int
    created_at: datetime
    members: tuple[tuple[str, str], ...]  # (user id, display name), by joining order


async def pods(db: Db, pod_ids: Sequence[str] | None = None) -> list[PodRow]:
    """Pods with their live members (every pod when ``pod_ids`` is None), oldest first."""
    rows = await db.fetch(
        "SELECT p.id, p.name, p.time_zone, p.slot_start, p.created_at, "
        "coalesce(array_agg(m.user_id ORDER BY m.joined_at, m.user_id) "
        "  FILTER (WHERE u.id IS NOT NULL), '{}') AS ids, "
        f"coalesce(array_agg({shared_name_sql()} ORDER BY m.joined_at, m.user_id) "
        "  FILTER (WHERE u.id IS NOT NULL), '{}') AS names "
        "FROM pods p LEFT JOIN pod_members m ON m.pod_id = p.id "
        "LEFT JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL "
        "AND u.disabled_at IS NULL "
        "WHERE $1::uuid[] IS NULL OR p.id = ANY($1::uuid[]) "
        "GROUP BY p.id ORDER BY p.created_at, p.id",
        None if pod_ids is None else [uuid.UUID(p) for p in pod_ids],
    )
    return [
        PodRow(
            id=str(r["id"]),
            name=r["name"],
            time_zone=r["time_zone"],
            slot_start=r["slot_start"],
            created_at=r["created_at"],
            members=tuple(zip((str(i) for i in r["ids"]), r["names"], strict=True)),
        )
        for r in rows
    ]


async def pod_of(db: Db, user_id: str) -> str | None:
    value = await db.fetchval(
        "SELECT pod_id FROM pod_members WHERE user_id = $1", uuid.UUID(user_id)
    )
    return None if value is None else str(value)


async def profiles(db: Db, user_ids: Sequence[str]) -> dict[str, Profile]:
    rows = await db.fetch(
        "SELECT * FROM pod_profiles WHERE user_id = ANY($1::uuid[])",
        [uuid.UUID(u) for u in user_ids],
    )
    return {str(r["user_id"]): _profile(r) for r in rows}


async def waiting(db: Db) -> list[str]:
    """The live accounts on the waitlist, longest waiting first."""
    rows = await db.fetch(
        "SELECT w.user_id FROM pod_waitlist w "
        + _LIVE.format(t="w")
        + " ORDER BY w.since, w.user_id"
    )
    return [str(r["user_id"]) for r in rows]


async def add_waiting(db: Db, user_id: str) -> None:
    await db.execute(
        "INSERT INTO pod_waitlist (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
        uuid.UUID(user_id),
    )


async def create_pod(
    conn: asyncpg.Connection, name: str, time_zone: str, slot_start: int, members: Sequence[str]
) -> str:
    """A new pod of ``members`` (taken off the waitlist); call inside a transaction."""
    pod_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO pods (id, name, time_zone, slot_start) VALUES ($1, $2, $3, $4)",
        pod_id,
        name,
        time_zone,
        slot_start,
    )
    ids = [uuid.UUID(m) for m in members]
    await conn.executemany(
        "INSERT INTO pod_members (pod_id, user_id) VALUES ($1, $2)", [(pod_id, m) for m in ids]
    )
    await conn.execute("DELETE FROM pod_waitlist WHERE user_id = ANY($1::uuid[])", ids)
    return str(pod_id)


async def join(conn: asyncpg.Connection, pod_id: str, user_id: str) -> None:
    await conn.execute(
        "INSERT INTO pod_members (pod_id, user_id) VALUES ($1, $2)",
        uuid.UUID(pod_id),
        uuid.UUID(user_id),
    )
    await conn.execute("DELETE FROM pod_waitlist WHERE user_id = $1", uuid.UUID(user_id))


async def leave(
    conn: asyncpg.Connection, pod: PodRow, user_id: str, reason: str, rematch: bool
) -> None:
    """Leave ``pod`` (recording whom with, for a rematch); call inside a transaction."""
    uid = uuid.UUID(user_id)
    await conn.execute(
        "DELETE FROM pod_members WHERE pod_id = $1 AND user_id = $2", uuid.UUID(pod.id), uid
    )
    await conn.execute(
        "INSERT INTO pod_departures (user_id, pod_id, former, reason, rematch) "
        "VALUES ($1, $2, $3, $4, $5)",
        uid,
        uuid.UUID(pod.id),
        [uuid.UUID(m) for m, _ in pod.members if m != user_id],
        reason,
        rematch,
    )


@dataclass(frozen=True, slots=True)
class CheckIn:
    user_id: str
    display_name: str
    session_start: datetime
    attended: bool
    win: str
    change: str

    def plain(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "display_name": self.display_name,
            "session_start": self.session_start.isoformat(),
            "attended": self.attended,
            "win": self.win,
            "change": self.change,
        }


async def check_in(
    db: Db,
    pod_id: str,
    user_id: str,
    session_start: datetime,
    attended: bool,
    win: str,
    change: str,
) -> bool:
    """Record a check-in; False if the member already checked in for this session."""
    done = await db.fetchval(
        "INSERT INTO pod_checkins (pod_id, user_id, session_start, attended, win, change) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
        uuid.UUID(pod_id),
        uuid.UUID(user_id),
        session_start,
        attended,
        win,
        change,
    )
    return done is not None


async def check_ins(db: Db, pod_id: str, since: datetime) -> list[CheckIn]:
    """The pod's check-ins of sessions from ``since`` on, newest session first; only
    current, live members' (a member who left takes their check-ins with them)."""
    rows = await db.fetch(
        f"SELECT c.*, {shared_name_sql()} AS display_name FROM pod_checkins c "
        "JOIN pod_members m ON m.pod_id = c.pod_id AND m.user_id = c.user_id "
        + _LIVE.format(t="c")
        + " WHERE c.pod_id = $1 AND c.session_start >= $2 "
        "ORDER BY c.session_start DESC, c.created_at, c.user_id",
        uuid.UUID(pod_id),
        since,
    )
    return [
        CheckIn(
            str(r["user_id"]),
            r["display_name"],
            r["session_start"],
            r["attended"],
            r["win"],
            r["change"],
        )
        for r in rows
    ]


RECENT_PIECES = 10  # trait averages are over a writer's last this many scored pieces


async def trait_averages(db: Db, user_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each user's average per trait over their last :data:`RECENT_PIECES` scored pieces
    (matches and solo practice alike); a user with none has an empty mapping."""
    rows = await db.fetch(
        "WITH recent AS ("
        "  SELECT se.user_id, se.match_id, se.player_id, row_number() OVER ("
        "    PARTITION BY se.user_id ORDER BY m.finished_at DESC, m.id) AS n "
        "  FROM seats se JOIN matches m ON m.id = se.match_id "
        "  WHERE se.user_id = ANY($1::uuid[]) AND EXISTS (SELECT 1 FROM scores x "
        "    WHERE x.match_id = se.match_id AND x.player_id = se.player_id)) "
        "SELECT r.user_id, s.trait, avg(s.value)::float8 AS v FROM recent r "
        "JOIN scores s ON s.match_id = r.match_id AND s.player_id = r.player_id "
        "WHERE r.n <= $2 GROUP BY r.user_id, s.trait",
        [uuid.UUID(u) for u in user_ids],
        RECENT_PIECES,
    )
    out: dict[str, dict[str, float]] = {u: {} for u in user_ids}
    for r in rows:
        out[str(r["user_id"])][r["trait"]] = float(r["v"])
    return out


@dataclass(frozen=True, slots=True)
class SessionRow:
    pod_id: str
    session_start: datetime
    lobby_id: str
    lobby_code: str
    lobby_closed: bool
    prompt_id: str
    focus: str
    node_id: str
    started_at: datetime | None
    closed_at: datetime | None


_SESSIONS = (
    "SELECT s.*, l.code, l.closed_at AS lobby_closed_at FROM pod_sessions s "
    "JOIN lobbies l ON l.id = s.lobby_id"
)


def _session_row(r: asyncpg.Record) -> SessionRow:
    return SessionRow(
        pod_id=str(r["pod_id"]),
        session_start=r["session_start"],
        lobby_id=str(r["lobby_id"]),
        lobby_code=r["code"],
        lobby_closed=r["lobby_closed_at"] is not None,
        prompt_id=r["prompt_id"],
        focus=r["focus"],
        node_id=r["node_id"],
        started_at=r["started_at"],
        closed_at=r["closed_at"],
    )


async def open_session_of(db: Db, pod_id: str) -> SessionRow | None:
    """The pod's session whose lobby is open now (the latest), if any."""
    row = await db.fetchrow(
        f"{_SESSIONS} WHERE s.pod_id = $1 AND s.closed_at IS NULL "
        "ORDER BY s.session_start DESC LIMIT 1",
        uuid.UUID(pod_id),
    )
    return None if row is None else _session_row(row)


async def sessions_held(db: Db, pod_id: str, starts: Sequence[datetime]) -> set[datetime]:
    """Which of ``starts`` had a session opened for the pod."""
    rows = await db.fetch(
        "SELECT session_start FROM pod_sessions WHERE pod_id = $1 "
        "AND session_start = ANY($2::timestamptz[])",
        uuid.UUID(pod_id),
        list(starts),
    )
    return {r["session_start"] for r in rows}


async def open_sessions_on(db: Db, node_id: str) -> list[SessionRow]:
    """The sessions this node opened and has not closed yet, oldest first."""
    rows = await db.fetch(
        f"{_SESSIONS} WHERE s.node_id = $1 AND s.closed_at IS NULL ORDER BY s.session_start",
        node_id,
    )
    return [_session_row(r) for r in rows]


async def record_session(
    conn: asyncpg.Connection,
    pod_id: str,
    start: datetime,
    lobby_id: str,
    prompt_id: str,
    focus: str,
    node_id: str,
) -> bool:
    """Claim the pod's session at ``start`` for this node: False if a node has already
    (the primary key is the lock between nodes)."""
    done = await conn.fetchval(
        "INSERT INTO pod_sessions (pod_id, session_start, lobby_id, prompt_id, focus, node_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
        uuid.UUID(pod_id),
        start,
        uuid.UUID(lobby_id),
        prompt_id,
        focus,
        node_id,
    )
    return done is not None


async def mark_session(db: Db, pod_id: str, start: datetime, column: str, at: datetime) -> None:
    """Set ``started_at`` or ``closed_at`` of a session."""
    if column not in ("started_at", "closed_at"):
        raise ValueError(column)
    await db.execute(
        f"UPDATE pod_sessions SET {column} = $3 WHERE pod_id = $1 AND session_start = $2",
        uuid.UUID(pod_id),
        start,
        at,
    )

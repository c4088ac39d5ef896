"""SQL for lobbies, their members, rounds and matches (asyncpg); see migrations/0005.

A lobby's rules are its ``settings`` JSON, except ``class_may_watch``, which lives in its
own column (migration 0008: what the watch rules read, ``server/access/``); it is taken
out of the JSON when rules are written and put back from the column when they are read,
so the column is the only place it is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

from server.classes.codes import CLASS_LENGTH, new_code, show
from server.lobbies.rules import LobbyRules

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
CODE_LENGTH = CLASS_LENGTH  # 6 symbols, like a class code: K7M-QXP


@dataclass(frozen=True, slots=True)
class LobbyRow:
    id: str
    teacher_id: str
    teacher_name: str
    class_id: str | None
    name: str
    code: str
    rules: LobbyRules
    locked: bool
    node_id: str
    created_at: datetime
    closed_at: datetime | None
    rounds: int
    playing: bool  # the latest round has not ended
    pod_id: str | None = None  # opened for a study pod (migration 0015): its members only

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> LobbyRow:
        return cls(
            id=str(row["id"]),
            teacher_id=str(row["teacher_id"]),
            teacher_name=row["teacher_name"],
            class_id=None if row["class_id"] is None else str(row["class_id"]),
            name=row["name"],
            code=row["code"],
            rules=LobbyRules.from_plain(
                {**orjson.loads(row["settings"]), "class_may_watch": row["class_may_watch"]}
            ),
            locked=row["locked"],
            node_id=row["node_id"],
            created_at=row["created_at"],
            closed_at=row["closed_at"],
            rounds=row["rounds"],
            playing=row["playing"],
            pod_id=None if row.get("pod_id") is None else str(row["pod_id"]),
        )

    @property
    def status(self) -> str:
        return "closed" if self.closed_at else ("playing" if self.playing else "open")

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "code": show(self.code),
            "class_id": self.class_id,
            "teacher": {"id": self.teacher_id, "display_name": self.teacher_name},
            "status": self.status,
            "locked": self.locked,
            "rounds": self.rounds,
            "settings": self.rules.plain(),
            "created_at": self.created_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
        }


_SELECT = (
    "SELECT l.*, t.display_name AS teacher_name, "
    "(SELECT count(*) FROM lobby_rounds r WHERE r.lobby_id = l.id)::int AS rounds, "
    "EXISTS (SELECT 1 FROM lobby_rounds r WHERE r.lobby_id = l.id AND r.ended_at IS NULL) "
    "AS playing FROM lobbies l JOIN users t ON t.id = l.teacher_id"
)


def _settings(rules: LobbyRules) -> str:
    """The rules as the ``settings`` column holds them (without ``class_may_watch``)."""
    plain = rules.plain()
    plain.pop("class_may_watch", None)
    return orjson.dumps(plain).decode()


@dataclass(frozen=True, slots=True)
class MemberRow:
    user_id: str
    name: str
    username: str | None
    joined_at: datetime
    left_at: datetime | None
    kicked_at: datetime | None
    banned: bool

    @property
    def active(self) -> bool:
        return self.left_at is None and self.kicked_at is None


async def create_lobby(
    conn: asyncpg.Connection,
    *,
    teacher_id: str,
    class_id: str | None,
    name: str,
    rules: LobbyRules,
    node_id: str,
    pod_id: str | None = None,
) -> LobbyRow:
    """A new open lobby with a code no other open lobby holds (drawn again if taken).
    Each draw is a transaction of its own, or a savepoint inside the caller's."""
    for _ in range(16):
        try:
            async with conn.transaction():
                lobby_id = await conn.fetchval(
                    "INSERT INTO lobbies (teacher_id, class_id, name, code, settings, node_id, "
                    "class_may_watch, pod_id) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) "
                    "RETURNING id",
                    uuid.UUID(teacher_id),
                    None if class_id is None else uuid.UUID(class_id),
                    name,
                    new_code(CODE_LENGTH),
                    _settings(rules),
                    node_id,
                    rules.class_may_watch,
                    None if pod_id is None else uuid.UUID(pod_id),
                )
        except asyncpg.UniqueViolationError:
            continue
        found = await lobby_by_id(conn, lobby_id)
        assert found is not None
        return found
    raise RuntimeError("no free lobby code after 16 draws")


async def lobby_by_id(db: Db, lobby_id: uuid.UUID) -> LobbyRow | None:
    row = await db.fetchrow(f"{_SELECT} WHERE l.id = $1", lobby_id)
    return None if row is None else LobbyRow.from_row(row)


async def open_lobby_by_code(db: Db, code: str) -> LobbyRow | None:
    row = await db.fetchrow(f"{_SELECT} WHERE l.code = $1 AND l.closed_at IS NULL", code)
    return None if row is None else LobbyRow.from_row(row)


async def list_lobbies(db: Db, *, teacher_id: str | None, limit: int) -> list[LobbyRow]:
    where, args = "", []
    if teacher_id is not None:
        where, args = "WHERE l.teacher_id = $1", [uuid.UUID(teacher_id)]
    rows = await db.fetch(
        f"{_SELECT} {where} ORDER BY l.closed_at IS NOT NULL, l.created_at DESC, l.id "
        f"LIMIT {int(limit)}",
        *args,
    )
    return [LobbyRow.from_row(r) for r in rows]


async def count_open(db: Db, teacher_id: str) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM lobbies WHERE teacher_id = $1 AND closed_at IS NULL",
        uuid.UUID(teacher_id),
    )
    return count


async def update_lobby(
    db: Db, lobby_id: str, *, name: str | None = None, rules: LobbyRules | None = None
) -> None:
    await db.execute(
        "UPDATE lobbies SET name = coalesce($2, name), settings = coalesce($3::jsonb, settings), "
        "class_may_watch = coalesce($4, class_may_watch), updated_at = now() WHERE id = $1",
        uuid.UUID(lobby_id),
        name,
        None if rules is None else _settings(rules),
        None if rules is None else rules.class_may_watch,
    )


async def set_locked(db: Db, lobby_id: str, locked: bool) -> None:
    await db.execute(
        "UPDATE lobbies SET locked = $2, updated_at = now() WHERE id = $1",
        uuid.UUID(lobby_id),
        locked,
    )


async def close_lobby(db: Db, lobby_id: str) -> None:
    await db.execute(
        "UPDATE lobbies SET closed_at = coalesce(closed_at, now()), updated_at = now() "
        "WHERE id = $1",
        uuid.UUID(lobby_id),
    )


async def members(db: Db, lobby_id: str) -> list[MemberRow]:
    rows = await db.fetch(
        "SELECT m.*, u.display_name, u.handle FROM lobby_members m "
        "JOIN users u ON u.id = m.user_id WHERE m.lobby_id = $1 "
        "ORDER BY m.joined_at, m.user_id",
        uuid.UUID(lobby_id),
    )
    return [
        MemberRow(
            user_id=str(r["user_id"]),
            name=r["display_name"],
            username=r["handle"],
            joined_at=r["joined_at"],
            left_at=r["left_at"],
            kicked_at=r["kicked_at"],
            banned=r["banned"],
        )
        for r in rows
    ]


async def join(db: Db, lobby_id: str, user_id: str) -> None:
    await db.execute(
        "INSERT INTO lobby_members (lobby_id, user_id) VALUES ($1, $2) "
        "ON CONFLICT (lobby_id, user_id) DO UPDATE SET joined_at = now(), left_at = NULL, "
        "kicked_at = NULL",
        uuid.UUID(lobby_id),
        uuid.UUID(user_id),
    )


async def leave(db: Db, lobby_id: str, user_id: str, *, kicked: bool, banned: bool) -> None:
    column = "kicked_at" if kicked else "left_at"
    await db.execute(
        f"UPDATE lobby_members SET {column} = now(), banned = banned OR $3 "
        "WHERE lobby_id = $1 AND user_id = $2",
        uuid.UUID(lobby_id),
        uuid.UUID(user_id),
        banned,
    )


@dataclass(frozen=True, slots=True)
class PartyRecord:
    match_id: str
    party: int
    players: Sequence[str]
    bots: int


async def start_round(
    conn: asyncpg.Connection,
    lobby_id: str,
    round_no: int,
    prompt_id: str,
    started_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO lobby_rounds (lobby_id, round, prompt_id, started_by) VALUES ($1, $2, $3, $4)",
        uuid.UUID(lobby_id),
        round_no,
        prompt_id,
        uuid.UUID(started_by),
    )


async def record_matches(
    db: Db, lobby_id: str, round_no: int, parties: Sequence[PartyRecord]
) -> None:
    await db.executemany(
        "INSERT INTO lobby_matches (match_id, lobby_id, round, party, players, bots) "
        "VALUES ($1, $2, $3, $4, $5::uuid[], $6) ON CONFLICT (match_id) DO NOTHING",
        [
            (
                uuid.UUID(p.match_id),
                uuid.UUID(lobby_id),
                round_no,
                p.party,
                [uuid.UUID(x) for x in p.players],
                p.bots,
            )
            for p in parties
        ],
    )


async def end_round(db: Db, lobby_id: str, round_no: int) -> None:
    await db.execute(
        "UPDATE lobby_rounds SET ended_at = coalesce(ended_at, now()) "
        "WHERE lobby_id = $1 AND round = $2",
        uuid.UUID(lobby_id),
        round_no,
    )


async def delete_round(db: Db, lobby_id: str, round_no: int) -> None:
    """A round that could not start (no match was created)."""
    await db.execute(
        "DELETE FROM lobby_rounds WHERE lobby_id = $1 AND round = $2",
        uuid.UUID(lobby_id),
        round_no,
    )


async def rounds(db: Db, lobby_id: str) -> list[dict[str, Any]]:
    """Every round with its matches: where a lobby's results are found."""
    lid = uuid.UUID(lobby_id)
    rows = await db.fetch(
        "SELECT round, prompt_id, started_at, ended_at FROM lobby_rounds WHERE lobby_id = $1 "
        "ORDER BY round",
        lid,
    )
    matches = await db.fetch(
        "SELECT match_id, round, party, players, bots FROM lobby_matches WHERE lobby_id = $1 "
        "ORDER BY round, party",
        lid,
    )
    out = []
    for r in rows:
        out.append(
            {
                "round": r["round"],
                "prompt_id": r["prompt_id"],
                "started_at": r["started_at"].isoformat(),
                "ended_at": None if r["ended_at"] is None else r["ended_at"].isoformat(),
                "matches": [
                    {
                        "match_id": str(m["match_id"]),
                        "party": m["party"],
                        "players": [str(p) for p in m["players"]],
                        "bots": m["bots"],
                    }
                    for m in matches
                    if m["round"] == r["round"]
                ],
            }
        )
    return out


async def round_matches(db: Db, lobby_id: str, round_no: int) -> list[PartyRecord]:
    rows = await db.fetch(
        "SELECT match_id, party, players, bots FROM lobby_matches WHERE lobby_id = $1 "
        "AND round = $2 ORDER BY party",
        uuid.UUID(lobby_id),
        round_no,
    )
    return [
        PartyRecord(str(r["match_id"]), r["party"], [str(p) for p in r["players"]], r["bots"])
        for r in rows
    ]


async def user_brief(db: Db, user_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT id, display_name, handle, role, is_guest FROM users "
        "WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL",
        uuid.UUID(user_id),
    )
    return row

"""What the watch rules (:mod:`server.access.watch`) need to know, read from PostgreSQL:
who the viewer is and how they stand to the match's lobby, and each seat's names.  The
role is read here at every request, not taken from the token."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from server.access.watch import LobbyFacts, SeatFacts, Viewer


async def viewer_and_lobby(
    conn: asyncpg.Connection, match_id: uuid.UUID, viewer_id: str
) -> tuple[Viewer | None, LobbyFacts | None]:
    try:
        uid = uuid.UUID(viewer_id)
    except ValueError:
        return None, None
    role = await conn.fetchval(
        "SELECT role FROM users WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL",
        uid,
    )
    if role is None:
        return None, None
    lobby = await conn.fetchrow(
        "SELECT l.id, l.teacher_id, l.class_id, l.class_may_watch FROM lobby_matches lm "
        "JOIN lobbies l ON l.id = lm.lobby_id WHERE lm.match_id = $1",
        match_id,
    )
    if lobby is None:
        return Viewer(str(uid), role), None
    if lobby["class_id"] is not None:
        in_class = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM class_members WHERE class_id = $1 AND user_id = $2)",
            lobby["class_id"],
            uid,
        )
    else:
        in_class = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM lobby_members WHERE lobby_id = $1 AND user_id = $2 "
            "AND NOT banned)",
            lobby["id"],
            uid,
        )
    return (
        Viewer(str(uid), role, in_class=bool(in_class)),
        LobbyFacts(str(lobby["teacher_id"]), bool(lobby["class_may_watch"])),
    )


async def seat_facts(
    pool: asyncpg.Pool,
    players: Sequence[str],
    aliases: Sequence[str],
    shown: Sequence[str],
    bots: Sequence[bool],
) -> list[SeatFacts]:
    """What the access rules need of each seat: its names, a deleted account, a bot."""
    ids = []
    for p in players:
        try:
            ids.append(uuid.UUID(p))
        except ValueError:
            continue
    rows = await pool.fetch(
        "SELECT id, display_name, deleted_at IS NOT NULL AS deleted FROM users "
        "WHERE id = ANY($1::uuid[])",
        ids,
    )
    users = {str(r["id"]): r for r in rows}
    seats = []
    for i, p in enumerate(players):
        user = users.get(p)
        seats.append(
            SeatFacts(
                player=p,
                alias=aliases[i],
                shown=shown[i],
                real_name=None if user is None or user["deleted"] else user["display_name"],
                # an id that is no account (a deleted one's pseudonym) shows its alias only
                deleted=not bots[i] and (user is None or bool(user["deleted"])),
                bot=bots[i],
            )
        )
    return seats


async def lobbies_of(
    conn: asyncpg.Connection, viewer_id: uuid.UUID, match_ids: Sequence[uuid.UUID]
) -> dict[str, tuple[LobbyFacts, bool]]:
    """For each of these matches that is a lobby's: its facts, and whether the viewer is
    in the lobby's class (as :func:`viewer_and_lobby` decides it), in one query."""
    rows = await conn.fetch(
        "SELECT lm.match_id, l.teacher_id, l.class_may_watch, "
        "CASE WHEN l.class_id IS NOT NULL THEN EXISTS (SELECT 1 FROM class_members cm "
        "WHERE cm.class_id = l.class_id AND cm.user_id = $2) "
        "ELSE EXISTS (SELECT 1 FROM lobby_members x WHERE x.lobby_id = l.id "
        "AND x.user_id = $2 AND NOT x.banned) END AS in_class "
        "FROM lobby_matches lm JOIN lobbies l ON l.id = lm.lobby_id "
        "WHERE lm.match_id = ANY($1::uuid[])",
        list(match_ids),
        viewer_id,
    )
    return {
        str(r["match_id"]): (
            LobbyFacts(str(r["teacher_id"]), bool(r["class_may_watch"])),
            bool(r["in_class"]),
        )
        for r in rows
    }


async def lobby_matches(conn: asyncpg.Connection, match_ids: Sequence[uuid.UUID]) -> frozenset[str]:
    """Which of these matches are lobbies' (one query)."""
    if not match_ids:
        return frozenset()
    rows = await conn.fetch(
        "SELECT match_id FROM lobby_matches WHERE match_id = ANY($1::uuid[])", list(match_ids)
    )
    return frozenset(str(r["match_id"]) for r in rows)


async def role_of(conn: asyncpg.Connection, viewer_id: uuid.UUID) -> str | None:
    """The account's role, or None for a deleted or disabled one."""
    role: str | None = await conn.fetchval(
        "SELECT role FROM users WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL",
        viewer_id,
    )
    return role

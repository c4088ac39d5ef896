"""A deleted account's seats in stored matches, made anonymous.

Used when an account is deleted (``server.accounts.store.delete_user``: every match it
played) and when a match is saved whose player deleted their account while it was being
played (:func:`scrub_deleted_seats`, from ``save_outcome``): the seat is kept for the
other players — rank, scores, trait scores, the reviews — under a random per-match
pseudonym ``deleted:<hex>`` with no account; the piece's text, edit log, the AI's
rationale and suggestions on it, the text of the reviews the user wrote (their rating
stays with the recipient), moderation details and the match's replay go: no answer may
show a deleted user's words (docs/privacy.md).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence

import asyncpg

PSEUDONYM_PREFIX = "deleted:"  # the player id a deleted user's seats are given, per match
_EMPTY_EDIT_LOG = b"\x90"  # msgpack []


async def pseudonymize(conn: asyncpg.Connection, player: str, matches: Sequence[uuid.UUID]) -> None:
    """Give ``player``'s seats in ``matches`` a pseudonym each and drop their personal
    data (module docstring), and the replays of those matches.  Call in a transaction."""
    matches = list(matches)
    if not matches:
        return
    pseudonyms = [PSEUDONYM_PREFIX + secrets.token_hex(8) for _ in matches]
    mapping = "unnest($2::uuid[], $3::text[]) AS m (match_id, pseudo)"
    args = (player, matches, pseudonyms)
    await conn.execute(
        "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, writing, "
        "review, left_match, dropped) "
        "SELECT s.match_id, m.pseudo, NULL, s.alias, s.is_bot, s.rank, s.score, s.writing, "
        f"s.review, s.left_match, s.dropped FROM seats s JOIN {mapping} "
        "ON s.match_id = m.match_id WHERE s.player_id = $1",
        *args,
    )
    await conn.execute(
        "UPDATE submissions x SET player_id = m.pseudo, text = '', edit_log = $4, "
        f"moderation = NULL, moderation_flags = '{{}}' FROM {mapping} "
        "WHERE x.match_id = m.match_id AND x.player_id = $1",
        *args,
        _EMPTY_EDIT_LOG,
    )
    await conn.execute(
        "UPDATE piece_scores x SET player_id = m.pseudo, rationale = '', "
        f"suggestions = '[]'::jsonb FROM {mapping} "
        "WHERE x.match_id = m.match_id AND x.player_id = $1",
        *args,
    )
    await conn.execute(
        f"UPDATE scores x SET player_id = m.pseudo FROM {mapping} "
        "WHERE x.match_id = m.match_id AND x.player_id = $1",
        *args,
    )
    await conn.execute(
        "UPDATE reviews SET strength = '', suggestion = '', shown_strength = '', "
        "shown_suggestion = '' WHERE reviewer_id = $1 AND match_id = ANY($2::uuid[])",
        player,
        matches,
    )
    await conn.execute(
        "UPDATE reviews x SET "
        "reviewer_id = CASE WHEN x.reviewer_id = $1 THEN m.pseudo ELSE x.reviewer_id END, "
        "writer_id = CASE WHEN x.writer_id = $1 THEN m.pseudo ELSE x.writer_id END "
        f"FROM {mapping} WHERE x.match_id = m.match_id "
        "AND (x.reviewer_id = $1 OR x.writer_id = $1)",
        *args,
    )
    await conn.execute(
        "DELETE FROM seats WHERE player_id = $1 AND match_id = ANY($2::uuid[])", player, matches
    )
    await conn.execute("DELETE FROM replays WHERE match_id = ANY($1::uuid[])", matches)


async def scrub_deleted_seats(conn: asyncpg.Connection, match_id: uuid.UUID) -> int:
    """A match just saved: the seats of accounts deleted while it was played get the same
    treatment as a deletion gives (with their rating history of this match and the
    rating the save gave them).  How many.  Call in the saving transaction, after
    :func:`lock_players`."""
    rows = await conn.fetch(
        "SELECT s.player_id, s.user_id FROM seats s JOIN users u ON u.id = s.user_id "
        "WHERE s.match_id = $1 AND u.deleted_at IS NOT NULL",
        match_id,
    )
    for r in rows:
        await conn.execute(
            "DELETE FROM rating_history WHERE match_id = $1 AND player_id = $2",
            match_id,
            r["player_id"],
        )
        await conn.execute("DELETE FROM ratings WHERE user_id = $1", r["user_id"])
        await pseudonymize(conn, r["player_id"], [match_id])
    return len(rows)


async def lock_players(conn: asyncpg.Connection, users: Sequence[uuid.UUID]) -> None:
    """Share-lock the players' account rows until the saving transaction ends: a deletion
    (which locks the row for update) then either finished before — the save sees the
    account deleted and scrubs it — or waits for the save and finds its seats."""
    if users:
        await conn.execute(
            "SELECT 1 FROM users WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE",
            sorted(set(users)),
        )

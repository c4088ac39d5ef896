"""Writing a finished match in one transaction, ratings, and replays.

``save_outcome`` is idempotent: the ``matches`` row is inserted first with
``ON CONFLICT DO NOTHING`` and, when it already exists, nothing else is written, so a
runner that retries after a lost answer cannot double anything (ratings included).
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgpack
import orjson

from server.game.draft import EditRecord
from server.game.results import MatchOutcome
from server.protocol.schema import to_plain
from server.storage.pseudonyms import PSEUDONYM_PREFIX, lock_players, scrub_deleted_seats
from server.types import PlayerId

DEFAULT_MU = 25.0
DEFAULT_SIGMA = 25.0 / 3.0
REPLAY_ENCODING = "msgpack+zlib"


def is_bot(player: str) -> bool:
    return player.startswith("bot:")


def _user_uuid(player: str) -> uuid.UUID | None:
    if is_bot(player):
        return None
    try:
        return uuid.UUID(player)
    except ValueError:
        return None


def _ts(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def ratings_for(
    pool: asyncpg.Pool | asyncpg.Connection, players: Iterable[str]
) -> dict[str, tuple[float, float]]:
    """Current (mu, sigma) of each player; the TrueSkill default for anyone unrated."""
    players = list(players)
    users = [u for p in players if (u := _user_uuid(p)) is not None]
    bots = [p for p in players if is_bot(p)]
    found: dict[str, tuple[float, float]] = {}
    for r in await pool.fetch(
        "SELECT user_id, mu, sigma FROM ratings WHERE user_id = ANY($1::uuid[])", users
    ):
        found[str(r["user_id"])] = (r["mu"], r["sigma"])
    for r in await pool.fetch(
        "SELECT bot_id, mu, sigma FROM bot_ratings WHERE bot_id = ANY($1::text[])", bots
    ):
        found[r["bot_id"]] = (r["mu"], r["sigma"])
    return {p: found.get(p, (DEFAULT_MU, DEFAULT_SIGMA)) for p in players}


def encode_edits(edits: Sequence[EditRecord]) -> bytes:
    """A seat's edit log as stored with its submission (what ``to_plain(asdict(e))``
    gives, written out: a long match has thousands of edits)."""
    return bytes(
        msgpack.packb(
            [
                {
                    "at": e.at,
                    "seq": e.seq,
                    "ops": None
                    if e.ops is None
                    else [{"pos": o.pos, "insert": o.insert, "delete": o.delete} for o in e.ops],
                    "snapshot": e.snapshot,
                    "paste": e.paste,
                }
                for e in edits
            ]
        )
    )


async def save_outcome(
    pool: asyncpg.Pool,
    outcome: MatchOutcome,
    *,
    node_id: str,
    mode: str,
    edits: Mapping[PlayerId, Sequence[EditRecord]],
) -> bool:
    """Write the match, its seats, submissions, scores, reviews and rating changes at once.

    Returns False (and writes nothing) when the match was already saved.
    """
    match_id = uuid.UUID(outcome.match_id)
    users = [u for s in outcome.seats if not s.is_bot and (u := _user_uuid(s.player)) is not None]
    async with pool.acquire() as conn, conn.transaction():
        await lock_players(conn, users)
        inserted = await conn.fetchval(
            "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, provisional, "
            "started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
            "ON CONFLICT (id) DO NOTHING RETURNING true",
            match_id,
            node_id,
            mode,
            outcome.ranked,
            outcome.prompt_id,
            str(outcome.focus),
            outcome.provisional,
            _ts(outcome.started_at),
            _ts(outcome.finished_at),
        )
        if not inserted:
            return False
        await conn.executemany(
            "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, "
            "writing, review, left_match, dropped) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            [
                (
                    match_id,
                    s.player,
                    _user_uuid(s.player),
                    s.alias,
                    s.is_bot,
                    s.rank,
                    s.score,
                    s.writing,
                    s.review,
                    s.left,
                    s.dropped,
                )
                for s in outcome.seats
            ],
        )
        await conn.executemany(
            "INSERT INTO submissions (match_id, player_id, text, words, empty, paste_count, "
            "pasted_chars, withheld, moderation, edit_log, moderation_flags) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            [
                (
                    match_id,
                    s.player,
                    s.text,
                    s.words,
                    s.empty,
                    s.paste_count,
                    s.pasted_chars,
                    s.withheld,
                    s.moderation,
                    encode_edits(edits.get(s.player, ())),
                    list(s.moderation_flags),
                )
                for s in outcome.seats
            ],
        )
        scored = [s for s in outcome.seats if s.piece_score is not None]
        await conn.executemany(
            "INSERT INTO piece_scores (match_id, player_id, overall, rationale, suggestions, "
            "flags, engine, provisional) VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7,$8)",
            [
                (
                    match_id,
                    s.player,
                    ps.overall,
                    ps.rationale,
                    orjson.dumps([asdict(x) for x in ps.suggestions]).decode(),
                    sorted(ps.flags),
                    ps.engine,
                    ps.provisional,
                )
                for s in scored
                if (ps := s.piece_score) is not None
            ],
        )
        await conn.executemany(
            "INSERT INTO scores (match_id, player_id, trait, value, engine, provisional) "
            "VALUES ($1,$2,$3,$4,$5,$6)",
            [
                (match_id, s.player, str(trait), int(value), ps.engine, ps.provisional)
                for s in scored
                if (ps := s.piece_score) is not None
                for trait, value in ps.traits.items()
            ],
        )
        await conn.executemany(
            "INSERT INTO reviews (match_id, review_id, reviewer_id, writer_id, strength, "
            "suggestion, rating, shown_strength, shown_suggestion, withheld, helpfulness, "
            "judged, engine, provisional, written_at) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13,$14,$15)",
            [
                (
                    match_id,
                    r.review_id,
                    r.reviewer,
                    r.writer,
                    r.strength,
                    r.suggestion,
                    r.rating,
                    r.shown_strength,
                    r.shown_suggestion,
                    r.withheld,
                    r.helpfulness,
                    None if r.score is None else orjson.dumps(_judged(r.score)).decode(),
                    None if r.score is None else r.score.engine,
                    False if r.score is None else r.score.provisional,
                    _ts(r.at),
                )
                for r in outcome.reviews
            ],
        )
        ranks = {s.player: s.rank for s in outcome.seats}
        for ch in outcome.ratings:
            await conn.execute(
                "INSERT INTO rating_history (match_id, player_id, user_id, is_bot, rank, "
                "mu_before, sigma_before, mu_after, sigma_after) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                match_id,
                ch.player,
                _user_uuid(ch.player),
                ch.is_bot,
                ranks.get(PlayerId(ch.player)),
                ch.mu_before,
                ch.sigma_before,
                ch.mu_after,
                ch.sigma_after,
            )
            if ch.is_bot:
                await conn.execute(
                    "INSERT INTO bot_ratings (bot_id, mu, sigma, matches) VALUES ($1,$2,$3,1) "
                    "ON CONFLICT (bot_id) DO UPDATE SET mu = $2, sigma = $3, "
                    "matches = bot_ratings.matches + 1, updated_at = now()",
                    ch.player,
                    ch.mu_after,
                    ch.sigma_after,
                )
            elif (user := _user_uuid(ch.player)) is not None:
                await conn.execute(
                    "INSERT INTO ratings (user_id, mu, sigma, matches) VALUES ($1,$2,$3,1) "
                    "ON CONFLICT (user_id) DO UPDATE SET mu = $2, sigma = $3, "
                    "matches = ratings.matches + 1, updated_at = now()",
                    user,
                    ch.mu_after,
                    ch.sigma_after,
                )
        # a player who deleted their account while the match was played
        await scrub_deleted_seats(conn, match_id)
    return True


def _judged(score: Any) -> dict[str, Any]:
    return {
        "specificity": score.specificity,
        "actionability": score.actionability,
        "justification": score.justification,
        "tone": score.tone,
        "reasons": list(score.reasons),
    }


def encode_replay(log: Sequence[Mapping[str, Any]]) -> bytes:
    return zlib.compress(bytes(msgpack.packb([to_plain(dict(r)) for r in log])), 6)


def encode_packed_replay(records: Sequence[bytes]) -> bytes:
    """:func:`encode_replay` of records that are already msgpack each (as the match log in
    Redis holds them): the same bytes, without unpacking and packing them again."""
    header = msgpack.Packer().pack_array_header(len(records))
    return zlib.compress(header + b"".join(records), 6)


def decode_replay(data: bytes) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = msgpack.unpackb(zlib.decompress(data), strict_map_key=False)
    return records


async def save_replay(pool: asyncpg.Pool, match_id: str, log: Sequence[Mapping[str, Any]]) -> None:
    """Store the match's event log compressed; a second save of the same match is a no-op.

    Needs the ``matches`` row (saved by :func:`save_outcome`); an aborted match that never
    reached results has no row and so keeps no replay.
    """
    await _insert_replay(pool, match_id, len(log), encode_replay(log))


async def save_packed_replay(pool: asyncpg.Pool, match_id: str, records: Sequence[bytes]) -> None:
    """:func:`save_replay` of the log as Redis holds it; compressed on a thread (zlib lets
    go of the GIL), so a long match's replay never holds up the event loop."""
    data = await asyncio.to_thread(encode_packed_replay, records)
    await _insert_replay(pool, match_id, len(records), data)


async def _insert_replay(pool: asyncpg.Pool, match_id: str, records: int, data: bytes) -> None:
    # Not for a match with a deleted account's seat (the replay holds its keystrokes): the
    # deletion took the replay, or the save found the account deleted and made the seat
    # anonymous.
    await pool.execute(
        "INSERT INTO replays (match_id, encoding, records, data) SELECT $1, $2, $3, $4 "
        "WHERE NOT EXISTS (SELECT 1 FROM seats WHERE match_id = $1 AND player_id LIKE $5) "
        "ON CONFLICT (match_id) DO NOTHING",
        uuid.UUID(match_id),
        REPLAY_ENCODING,
        records,
        data,
        PSEUDONYM_PREFIX + "%",
    )


async def load_replay(pool: asyncpg.Pool, match_id: str) -> list[dict[str, Any]] | None:
    row = await pool.fetchrow(
        "SELECT encoding, data FROM replays WHERE match_id = $1", uuid.UUID(match_id)
    )
    if row is None:
        return None
    if row["encoding"] != REPLAY_ENCODING:
        raise ValueError(f"unknown replay encoding {row['encoding']!r}")
    return decode_replay(row["data"])

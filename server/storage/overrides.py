"""A teacher's override of a piece's score, and the match's ranking and ratings after it.

:func:`override_score` writes, in one transaction: the piece's trait scores and overall
(``piece_scores``, ``scores``: the values in force), the override itself
(``score_overrides``: what the teacher set, the AI's original, the reason), the seat's
writing component and match score, every seat's rank, and — for a ranked match — the
match's TrueSkill update computed again from the ratings its players came in with, plus
the audit entry (``lobby.score.override``: actor, before, after, reason).  An override
replaces the earlier one of the same piece: it is applied to the AI's original values,
never on top of an earlier override.  :func:`remove_override` takes it away the same way:
the AI's values are back, and the seat, the ranking and the ratings are recomputed from
them in one transaction (``lobby.score.override.delete``); a later override starts again
from revision 1 (the audit log keeps every one).

Ratings and later matches: the match's recorded update (``rating_history``: before and
after) is recomputed from the same *before* values with the new ranks, and each player's
current rating (``ratings``, ``bot_ratings``) is shifted by the difference between the new
and the old *after* (mu and sigma).  Matches played after this one are not replayed: their
recorded before/after stay as they were played (they were rated against what was known
then), and the correction reaches the player's current rating exactly once, whatever came
since.  Replaying every later match of every player involved would rewrite other
classes' and other players' histories for a teacher's correction in one lesson.

The first half of the module is pure (table-tested); the second does the SQL.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from server.accounts import store as accounts
from server.ai.types import TRAITS, PieceScore, Trait
from server.config import MatchSettings
from server.game.rating import RatingChange, RatingEntry, RatingModel, rate_ffa
from server.game.scoring import MIN_SCORE, rank_with_ties, writing_score

TRAIT_NAMES: tuple[str, ...] = tuple(str(t) for t in TRAITS)
SCORE_MIN = 1
SCORE_MAX = 6
MIN_SIGMA = 1e-3
"""A shifted sigma never goes below this (a rating's uncertainty stays positive)."""
REASON_CHARS = 500
ACTION = "lobby.score.override"
REMOVE_ACTION = "lobby.score.override.delete"
MODEL = RatingModel()  # what every match is rated with (server/game/state.py)

# --- pure: the seat's score, the ranking and the rating update again -------------------


@dataclass(frozen=True, slots=True)
class SeatScores:
    """What a ranked seat holds: its components, its score, and how many reviews it wrote."""

    player: str
    writing: float
    review: float
    score: float
    empty: bool
    reviews_written: int


def rescored(
    seat: SeatScores,
    traits: Mapping[str, int],
    overall: float,
    focus: str,
    settings: MatchSettings,
) -> SeatScores:
    """The seat with its writing component and score computed from new piece scores.

    The review component stays as stored (it comes from the reviews the seat wrote),
    except for a seat that had nothing to review: its review component *is* its writing
    component (server/game/scoring.py), so it follows the new writing.  Such a seat is
    recognised by having written no review while its review equals its writing; a seat
    that skipped every review with a writing of exactly the minimum is read as skipping
    (the more common case), so its review stays the minimum.
    """
    if seat.empty:
        return seat
    piece = PieceScore(
        traits={Trait(t): v for t, v in traits.items()},
        overall=overall,
        rationale="",
        suggestions=(),
        engine="offline",
    )
    writing = writing_score(piece, Trait(focus))
    follows = (
        seat.reviews_written == 0
        and math.isclose(seat.review, seat.writing, abs_tol=1e-9)
        and not math.isclose(seat.writing, MIN_SCORE, abs_tol=1e-9)
    )
    review = writing if follows else seat.review
    score = settings.writing_weight * writing + settings.review_weight * review
    return SeatScores(seat.player, writing, review, score, seat.empty, seat.reviews_written)


def rerank(scores: Mapping[str, float]) -> dict[str, int]:
    """Competition ranks of the seats' scores, as at the end of a match."""
    players = list(scores)
    return dict(zip(players, rank_with_ties([scores[p] for p in players]), strict=True))


def rerate(
    recorded: Sequence[RatingChange], ranks: Mapping[str, int], model: RatingModel = MODEL
) -> list[RatingChange]:
    """The match's rating update again: the same ratings before, the new ranks."""
    entries = [
        RatingEntry(r.player, r.mu_before, r.sigma_before, ranks[r.player], r.is_bot)
        for r in recorded
    ]
    return rate_ffa(entries, model)


def shifted(
    current: tuple[float, float], old: RatingChange, new: RatingChange
) -> tuple[float, float]:
    """A player's current (mu, sigma) moved by what the corrected update changes."""
    mu = current[0] + (new.mu_after - old.mu_after)
    sigma = current[1] + (new.sigma_after - old.sigma_after)
    return mu, max(sigma, MIN_SIGMA)


def effective(
    ai_traits: Mapping[str, int],
    ai_overall: float,
    traits: Mapping[str, int],
    overall: float | None,
) -> tuple[dict[str, int], float]:
    """The piece's scores in force: the override where it set a value, the AI's elsewhere."""
    merged = {t: int(traits.get(t, ai_traits.get(t, SCORE_MIN))) for t in TRAIT_NAMES}
    return merged, ai_overall if overall is None else float(overall)


# --- SQL ---------------------------------------------------------------------------------


class PieceNotFound(Exception):
    """No scored, ranked piece of this player in this match of this lobby."""


class PieceEmpty(Exception):
    """The player submitted nothing: an empty piece scores 0 whatever its scores."""


class OverrideNotFound(Exception):
    """The piece has no override to take away."""


@dataclass(frozen=True, slots=True)
class Override:
    traits: dict[str, int]  # only those the teacher set
    overall: float | None  # None: the AI's overall stands
    reason: str


@dataclass(frozen=True, slots=True)
class Who:
    actor_id: str
    request_id: str | None
    ip: str | None


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class _Piece:
    """A scored, ranked piece of a lobby's match, its seats locked (see :func:`_piece`)."""

    match_id: uuid.UUID
    player: str
    focus: str
    ranked_match: bool
    ranks: dict[str, int]  # every ranked seat's rank as stored
    seats: dict[str, SeatScores]  # every ranked seat as stored
    traits: dict[str, int]  # the piece's trait scores in force
    overall: float  # and its overall
    earlier: asyncpg.Record | None  # the override in force, if any


async def _piece(
    conn: asyncpg.Connection, lobby_id: uuid.UUID, match_id: uuid.UUID, player_id: str
) -> _Piece:
    """The piece, with every seat of its match locked until the transaction ends (one
    change of a match's scores at a time); :class:`PieceNotFound` when the match is not
    the lobby's or the player has no ranked, scored seat in it."""
    match = await conn.fetchrow(
        "SELECT m.id, m.focus, m.ranked FROM lobby_matches lm JOIN matches m "
        "ON m.id = lm.match_id WHERE lm.match_id = $1 AND lm.lobby_id = $2",
        match_id,
        lobby_id,
    )
    if match is None:
        raise PieceNotFound
    seats = await conn.fetch(
        "SELECT s.player_id, s.rank, s.score, s.writing, s.review, s.user_id, "
        "coalesce(sub.empty, true) AS empty, "
        "(SELECT count(*) FROM reviews r WHERE r.match_id = s.match_id "
        "AND r.reviewer_id = s.player_id)::int AS written "
        "FROM seats s LEFT JOIN submissions sub "
        "ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "WHERE s.match_id = $1 ORDER BY s.player_id FOR UPDATE OF s",
        match_id,
    )
    ranked = {s["player_id"]: s for s in seats if s["rank"] is not None}
    piece = await conn.fetchrow(
        "SELECT overall FROM piece_scores WHERE match_id = $1 AND player_id = $2",
        match_id,
        player_id,
    )
    if player_id not in ranked or piece is None:
        raise PieceNotFound
    traits = {
        r["trait"]: int(r["value"])
        for r in await conn.fetch(
            "SELECT trait, value FROM scores WHERE match_id = $1 AND player_id = $2",
            match_id,
            player_id,
        )
    }
    earlier = await conn.fetchrow(
        "SELECT overall, traits, ai_overall, ai_traits, reason, revision "
        "FROM score_overrides WHERE match_id = $1 AND player_id = $2",
        match_id,
        player_id,
    )
    return _Piece(
        match_id=match_id,
        player=player_id,
        focus=match["focus"],
        ranked_match=match["ranked"],
        ranks={p: s["rank"] for p, s in ranked.items()},
        seats={
            p: SeatScores(p, s["writing"], s["review"], s["score"], s["empty"], s["written"])
            for p, s in ranked.items()
        },
        traits=traits,
        overall=float(piece["overall"]),
        earlier=earlier,
    )


async def _rescore(
    conn: asyncpg.Connection,
    piece: _Piece,
    traits: Mapping[str, int],
    overall: float,
    settings: MatchSettings,
    model: RatingModel,
) -> dict[str, Any]:
    """Give the piece these scores and recompute the match from them: the seat's writing
    and score, every rank, the rating update (ranked matches).  The audit entry's
    ``before``, ``after``, ``ranks`` and ``ratings``."""
    match_id, me = piece.match_id, piece.player
    new = dict(piece.seats)
    new[me] = rescored(piece.seats[me], traits, overall, piece.focus, settings)
    ranks = rerank({p: s.score for p, s in new.items()})
    await conn.execute(
        "UPDATE piece_scores SET overall = $3 WHERE match_id = $1 AND player_id = $2",
        match_id,
        me,
        overall,
    )
    await conn.execute(
        "DELETE FROM scores WHERE match_id = $1 AND player_id = $2 AND NOT trait = ANY($3)",
        match_id,
        me,
        list(traits),
    )
    await conn.executemany(
        "INSERT INTO scores (match_id, player_id, trait, value, engine, provisional) "
        "VALUES ($1, $2, $3, $4, 'offline', false) ON CONFLICT (match_id, player_id, trait) "
        "DO UPDATE SET value = excluded.value",
        [(match_id, me, t, v) for t, v in traits.items()],
    )
    await conn.executemany(
        "UPDATE seats SET rank = $3, score = $4, writing = $5, review = $6 "
        "WHERE match_id = $1 AND player_id = $2",
        [(match_id, p, ranks[p], s.score, s.writing, s.review) for p, s in new.items()],
    )
    rating = await _rerate(conn, match_id, ranks, model) if piece.ranked_match else {}
    return {
        "before": {
            "traits": piece.traits,
            "overall": piece.overall,
            "rank": piece.ranks[me],
            "score": piece.seats[me].score,
        },
        "after": {
            "traits": dict(traits),
            "overall": overall,
            "rank": ranks[me],
            "score": new[me].score,
        },
        "ranks": {p: [piece.ranks[p], ranks[p]] for p in ranks if piece.ranks[p] != ranks[p]},
        "ratings": rating,
    }


async def _audit(conn: asyncpg.Connection, action: str, who: Who, details: dict[str, Any]) -> None:
    await accounts.audit(
        conn,
        action,
        actor_id=who.actor_id,
        target_type="match",
        target_id=details["match_id"],
        details=details,
        request_id=who.request_id,
        ip=who.ip,
    )


async def override_score(
    pool: asyncpg.Pool,
    *,
    lobby_id: str,
    match_id: uuid.UUID,
    player_id: str,
    override: Override,
    who: Who,
    settings: MatchSettings,
    model: RatingModel = MODEL,
) -> dict[str, Any]:
    """Apply ``override`` and recompute the match (see the module docstring); returns the
    audit entry's details (before, after)."""
    lid = uuid.UUID(lobby_id)
    async with pool.acquire() as conn, conn.transaction():
        piece = await _piece(conn, lid, match_id, player_id)
        if piece.seats[player_id].empty:
            raise PieceEmpty
        earlier = piece.earlier
        if earlier is None:
            ai_traits, ai_overall, revision = piece.traits, piece.overall, 1
        else:
            ai_traits = {k: int(v) for k, v in _json(earlier["ai_traits"]).items()}
            ai_overall, revision = float(earlier["ai_overall"]), earlier["revision"] + 1
        traits, overall = effective(ai_traits, ai_overall, override.traits, override.overall)
        await conn.execute(
            "INSERT INTO score_overrides (match_id, player_id, lobby_id, overall, traits, "
            "ai_overall, ai_traits, reason, actor_id, revision) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10) "
            "ON CONFLICT (match_id, player_id) DO UPDATE SET overall = excluded.overall, "
            "traits = excluded.traits, reason = excluded.reason, actor_id = excluded.actor_id, "
            "revision = excluded.revision, updated_at = now()",
            match_id,
            player_id,
            lid,
            override.overall,
            orjson.dumps(override.traits).decode(),
            ai_overall,
            orjson.dumps(ai_traits).decode(),
            override.reason,
            uuid.UUID(who.actor_id),
            revision,
        )
        changed = await _rescore(conn, piece, traits, overall, settings, model)
        changed["before"]["replaced_reason"] = None if earlier is None else earlier["reason"]
        details: dict[str, Any] = {
            "lobby_id": lobby_id,
            "match_id": str(match_id),
            "player_id": player_id,
            "reason": override.reason,
            "revision": revision,
            "set": {"traits": override.traits, "overall": override.overall},
            **changed,
        }
        await _audit(conn, ACTION, who, details)
    return details


async def remove_override(
    pool: asyncpg.Pool,
    *,
    lobby_id: str,
    match_id: uuid.UUID,
    player_id: str,
    who: Who,
    settings: MatchSettings,
    model: RatingModel = MODEL,
) -> dict[str, Any]:
    """Take the piece's override away: the AI's trait scores and overall are back and
    the match is recomputed from them exactly as an override recomputes it (the seat's
    score, every rank, the rating update, current ratings shifted by the difference), in
    one transaction, audited as :data:`REMOVE_ACTION`.  :class:`OverrideNotFound` when
    the piece has none; returns the audit entry's details."""
    lid = uuid.UUID(lobby_id)
    async with pool.acquire() as conn, conn.transaction():
        piece = await _piece(conn, lid, match_id, player_id)
        earlier = piece.earlier
        if earlier is None:
            raise OverrideNotFound
        ai_traits = {k: int(v) for k, v in _json(earlier["ai_traits"]).items()}
        ai_overall = float(earlier["ai_overall"])
        await conn.execute(
            "DELETE FROM score_overrides WHERE match_id = $1 AND player_id = $2",
            match_id,
            player_id,
        )
        changed = await _rescore(conn, piece, ai_traits, ai_overall, settings, model)
        details: dict[str, Any] = {
            "lobby_id": lobby_id,
            "match_id": str(match_id),
            "player_id": player_id,
            "removed": {
                "traits": _json(earlier["traits"]),
                "overall": earlier["overall"],
                "reason": earlier["reason"],
                "revision": earlier["revision"],
            },
            **changed,
        }
        await _audit(conn, REMOVE_ACTION, who, details)
    return details


async def _rerate(
    conn: asyncpg.Connection, match_id: uuid.UUID, ranks: Mapping[str, int], model: RatingModel
) -> dict[str, dict[str, float]]:
    """Recompute the match's recorded rating update and shift current ratings by the
    difference; what moved, by player (mu and sigma deltas)."""
    rows = await conn.fetch(
        "SELECT player_id, user_id, is_bot, mu_before, sigma_before, mu_after, sigma_after "
        "FROM rating_history WHERE match_id = $1 ORDER BY id",
        match_id,
    )
    recorded = [
        RatingChange(
            r["player_id"],
            r["is_bot"],
            r["mu_before"],
            r["sigma_before"],
            r["mu_after"],
            r["sigma_after"],
        )
        for r in rows
        if r["player_id"] in ranks
    ]
    if not recorded:
        return {}
    moved: dict[str, dict[str, float]] = {}
    user_of = {r["player_id"]: r["user_id"] for r in rows}
    for old, new in zip(recorded, rerate(recorded, ranks, model), strict=True):
        await conn.execute(
            "UPDATE rating_history SET rank = $3, mu_after = $4, sigma_after = $5 "
            "WHERE match_id = $1 AND player_id = $2",
            match_id,
            old.player,
            ranks[old.player],
            new.mu_after,
            new.sigma_after,
        )
        d_mu, d_sigma = new.mu_after - old.mu_after, new.sigma_after - old.sigma_after
        if d_mu == 0.0 and d_sigma == 0.0:
            continue
        moved[old.player] = {"mu": d_mu, "sigma": d_sigma}
        table, key = ("bot_ratings", "bot_id") if old.is_bot else ("ratings", "user_id")
        subject = old.player if old.is_bot else user_of.get(old.player)
        if subject is None:  # a seat whose account is gone
            continue
        now = await conn.fetchrow(
            f"SELECT mu, sigma FROM {table} WHERE {key} = $1 FOR UPDATE", subject
        )
        if now is None:
            continue
        mu, sigma = shifted((now["mu"], now["sigma"]), old, new)
        await conn.execute(
            f"UPDATE {table} SET mu = $2, sigma = $3, updated_at = now() WHERE {key} = $1",
            subject,
            mu,
            sigma,
        )
    return moved

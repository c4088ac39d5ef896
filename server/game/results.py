"""The outcome of a match: per-seat scores and ranks, reviews, rating changes.

:func:`compute_outcome` is called once, when scoring is complete (or its deadline passed
and the fallback filled the gaps).  The :class:`MatchOutcome` it returns is what the
runner persists in one transaction (``MatchFinished``) and what the results views show.
Players appear by id here; the views turn them into aliases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.ai.types import PieceScore, ReviewScore, Trait
from server.game.rating import RatingChange, RatingEntry, rate_ffa
from server.game.scoring import MIN_SCORE, empty_piece_score, rank_with_ties, seat_score
from server.types import MatchId, PlayerId

if TYPE_CHECKING:
    from server.game.state import GameState, MatchConfig


@dataclass(frozen=True, slots=True)
class SeatOutcome:
    player: PlayerId
    alias: str
    is_bot: bool
    rank: int | None  # None for a dropped seat (no-show, left in the lobby)
    score: float
    writing: float
    review: float
    text: str
    words: int
    empty: bool
    left: bool
    dropped: str | None
    paste_count: int
    pasted_chars: int
    assigned: int  # pieces it was given to review
    written: int  # reviews it wrote
    withheld: bool  # its piece was not shown to reviewers
    moderation: str | None  # the piece's verdict
    piece_score: PieceScore | None
    # the moderation reasons a teacher was flagged for (self_harm, harassment), any verdict
    moderation_flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    review_id: str
    reviewer: PlayerId
    writer: PlayerId
    strength: str
    suggestion: str
    rating: int
    at: float
    shown_strength: str  # moderated text, "" when withheld
    shown_suggestion: str
    withheld: bool
    helpfulness: int  # as counted in the score (1 when blocked)
    score: ReviewScore | None


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    match_id: MatchId
    ranked: bool
    focus: Trait
    prompt_id: str
    started_at: float | None
    finished_at: float
    provisional: bool
    seats: tuple[SeatOutcome, ...]
    reviews: tuple[ReviewOutcome, ...]
    ratings: tuple[RatingChange, ...]  # empty for practice matches; ``is_bot`` on each


def compute_outcome(config: MatchConfig, state: GameState, now: float) -> MatchOutcome:
    focus = config.trait
    pieces = {p.writer: p for p in state.pieces}
    writer_of = {p.piece_id: p.writer for p in state.pieces}
    assigned: dict[PlayerId, int] = {}
    for a in state.assignments:
        assigned[a.reviewer] = assigned.get(a.reviewer, 0) + 1
    helps: dict[PlayerId, list[int]] = {}
    reviews: list[ReviewOutcome] = []
    for r in state.reviews:
        help_ = MIN_SCORE if r.blocked or r.score is None else r.score.helpfulness
        helps.setdefault(r.reviewer, []).append(int(help_))
        shown = r.moderated and not r.blocked
        reviews.append(
            ReviewOutcome(
                review_id=r.review_id,
                reviewer=r.reviewer,
                writer=writer_of[r.piece_id],
                strength=r.strength,
                suggestion=r.suggestion,
                rating=r.rating,
                at=r.at,
                shown_strength=r.strength_mod.text if shown and r.strength_mod else "",
                shown_suggestion=r.suggestion_mod.text if shown and r.suggestion_mod else "",
                withheld=not shown,
                helpfulness=int(help_),
                score=r.score,
            )
        )
    playing = [s for s in state.seats if s.dropped is None]
    scores = {}
    for s in playing:
        written = pieces[s.player]
        scores[s.player] = seat_score(
            written.score or empty_piece_score(),
            focus,
            helps.get(s.player, []),
            assigned.get(s.player, 0),
            written.empty,
            config.settings,
        )
    ranks = dict(
        zip(
            [s.player for s in playing],
            rank_with_ties([scores[s.player].score for s in playing]),
            strict=True,
        )
    )
    ratings: tuple[RatingChange, ...] = ()
    if config.ranked:
        entries = [RatingEntry(s.player, s.mu, s.sigma, ranks[s.player], s.is_bot) for s in playing]
        ratings = tuple(rate_ffa(entries, config.rating))
    seats = []
    for s in state.seats:
        piece = pieces.get(s.player)
        sc = scores.get(s.player)
        seats.append(
            SeatOutcome(
                player=s.player,
                alias=s.alias,
                is_bot=s.is_bot,
                rank=ranks.get(s.player),
                score=sc.score if sc else 0.0,
                writing=sc.writing if sc else 0.0,
                review=sc.review if sc else 0.0,
                text=piece.text if piece else s.draft.text,
                words=piece.words if piece else 0,
                empty=piece.empty if piece else True,
                left=s.left,
                dropped=s.dropped,
                paste_count=s.draft.paste_count,
                pasted_chars=s.draft.pasted_chars,
                assigned=assigned.get(s.player, 0),
                written=len(helps.get(s.player, [])),
                withheld=piece.withheld if piece else True,
                moderation=piece.moderation.verdict if piece and piece.moderation else None,
                piece_score=piece.score if piece else None,
                moderation_flags=(
                    tuple(piece.moderation.reasons)
                    if piece and piece.moderation and piece.moderation.flag_teacher
                    else ()
                ),
            )
        )
    provisional = any(p.score is not None and p.score.provisional for p in state.pieces) or any(
        r.score is not None and r.score.provisional for r in state.reviews
    )
    return MatchOutcome(
        match_id=config.match_id,
        ranked=config.ranked,
        focus=focus,
        prompt_id=config.prompt.id,
        started_at=state.write_started_at,
        finished_at=now,
        provisional=provisional,
        seats=tuple(seats),
        reviews=tuple(reviews),
        ratings=ratings,
    )

"""Match scores and ranking.  Pure functions over ``server.ai.types`` results.

Writing component (1–6): ``0.75 · overall + 0.25 · traits[focus]`` — the AI's overall
judgement, with the round's focus trait counted once more at a quarter of the weight.

Review component (1–6): the mean helpfulness over the reviews the seat was assigned, a
review it skipped counting as the minimum (1), so skipping one never pays; a review
blocked by moderation counts as helpfulness 1.  A seat that had nothing to review (no visible pieces) gets its
writing component here, so the missing task neither helps nor hurts it.

Match score: ``writing_weight · writing + review_weight · review`` (``MatchSettings``).
An empty submission scores 0 whatever its reviews, below every non-empty piece.

Ranking: scores are rounded to 4 decimals; equal rounded scores share a rank and the
next rank skips ("1, 2, 2, 4", competition ranking).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from server.ai.types import TRAITS, PieceRequest, PieceScore, ReviewRequest, ReviewScore, Trait
from server.config import MatchSettings

FOCUS_SHARE = 0.25
MIN_SCORE = 1.0
EMPTY_SCORE = 0.0
RANK_DECIMALS = 4


@dataclass(frozen=True, slots=True)
class SeatScore:
    writing: float
    review: float
    score: float
    empty: bool


def writing_score(score: PieceScore, focus: Trait) -> float:
    """The writing component of a piece's AI score (1–6)."""
    focus_score = score.traits.get(focus, score.overall)
    return (1 - FOCUS_SHARE) * score.overall + FOCUS_SHARE * focus_score


def review_component(helpfulness: Sequence[int], assigned: int, writing: float) -> float:
    """Mean helpfulness over the reviews assigned; see the module docstring for edge cases."""
    if assigned == 0:
        return writing
    missing = max(0, assigned - len(helpfulness))  # each review skipped counts as the minimum
    return (sum(helpfulness) + missing * MIN_SCORE) / (len(helpfulness) + missing)


def seat_score(
    piece: PieceScore,
    focus: Trait,
    helpfulness: Sequence[int],
    assigned: int,
    empty: bool,
    settings: MatchSettings,
) -> SeatScore:
    """All components of one seat's match score."""
    writing = MIN_SCORE if empty else writing_score(piece, focus)
    review = review_component(helpfulness, assigned, writing)
    total = settings.writing_weight * writing + settings.review_weight * review
    return SeatScore(writing, review, EMPTY_SCORE if empty else total, empty)


def rank_with_ties(scores: Sequence[float]) -> list[int]:
    """Competition ranks (1 = best) for ``scores``, higher is better, ties share a rank."""
    keys = [round(s, RANK_DECIMALS) for s in scores]
    return [1 + sum(1 for other in keys if other > k) for k in keys]


def empty_piece_score() -> PieceScore:
    """The score of an empty submission: the lowest on every trait; the AI is not asked."""
    return PieceScore(
        traits={t: 1 for t in TRAITS},
        overall=1.0,
        rationale="Nothing was submitted.",
        suggestions=(),
        engine="offline",
        flags=frozenset({"empty"}),
    )


class Fallback(Protocol):
    """Synchronous scorers the engine uses for results still missing at the scoring deadline.

    The runner passes one built on the deterministic offline engine; results it returns
    should be marked ``provisional``.
    """

    def score_piece(self, req: PieceRequest) -> PieceScore: ...

    def judge_review(self, req: ReviewRequest) -> ReviewScore: ...


class NeutralFallback:
    """A last-resort fallback: the middle of the scale, marked provisional."""

    def score_piece(self, req: PieceRequest) -> PieceScore:
        return PieceScore(
            traits={t: 3 for t in TRAITS},
            overall=3.0,
            rationale="The scorer did not answer in time; a neutral score was used.",
            suggestions=(),
            engine="offline",
            provisional=True,
        )

    def judge_review(self, req: ReviewRequest) -> ReviewScore:
        return ReviewScore(
            helpfulness=3,
            specificity=3,
            actionability=3,
            justification=3,
            tone=3,
            reasons=("the judge did not answer in time",),
            engine="offline",
            provisional=True,
        )


def trait_dict(score: PieceScore) -> Mapping[str, int]:
    return {t.value: int(score.traits.get(t, 1)) for t in TRAITS}

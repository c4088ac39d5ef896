"""Match score components and ranking with ties."""

from __future__ import annotations

import pytest

from server.ai.types import Trait
from server.config import MatchSettings
from server.game.scoring import (
    EMPTY_SCORE,
    MIN_SCORE,
    NeutralFallback,
    empty_piece_score,
    rank_with_ties,
    review_component,
    seat_score,
    writing_score,
)
from tests.game.helpers import PROMPT, piece_score


@pytest.mark.parametrize(
    ("scores", "ranks"),
    [
        ([5.0, 4.0, 3.0, 2.0], [1, 2, 3, 4]),
        ([2.0, 3.0, 4.0, 5.0], [4, 3, 2, 1]),
        ([4.0, 4.0, 3.0, 2.0], [1, 1, 3, 4]),
        ([5.0, 4.0, 4.0, 2.0], [1, 2, 2, 4]),
        ([5.0, 4.0, 2.0, 2.0], [1, 2, 3, 3]),
        ([3.0, 3.0, 3.0, 3.0], [1, 1, 1, 1]),
        ([3.0, 3.0, 1.0, 1.0, 1.0], [1, 1, 3, 3, 3]),
        ([0.0, 0.0, 6.0], [2, 2, 1]),
        ([4.00001, 4.00002, 1.0], [1, 1, 3]),  # equal at 4 decimals
        ([4.0001, 4.0002, 1.0], [2, 1, 3]),
        ([2.5], [1]),
        ([], []),
    ],
)
def test_rank_with_ties(scores: list[float], ranks: list[int]) -> None:
    assert rank_with_ties(scores) == ranks


@pytest.mark.parametrize(
    ("overall", "focus_value", "expected"),
    [(4.0, 4, 4.0), (4.0, 6, 4.5), (4.0, 2, 3.5), (1.0, 1, 1.0), (6.0, 6, 6.0)],
)
def test_focus_trait_counts_extra(overall: float, focus_value: int, expected: float) -> None:
    assert writing_score(piece_score(overall, focus=focus_value), Trait.VOICE) == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    ("helpfulness", "assigned", "writing", "expected"),
    [
        ([4, 6], 2, 3.0, 5.0),
        ([5], 2, 3.0, 3.0),  # one of two skipped: it counts as the minimum
        ([5, 5, 5], 2, 3.0, 5.0),  # more than assigned (a reassignment): the mean
        ([], 2, 3.0, MIN_SCORE),  # given pieces, wrote none: the minimum
        ([], 0, 3.7, 3.7),  # nothing to review: neutral (its writing score)
    ],
)
def test_review_component(
    helpfulness: list[int], assigned: int, writing: float, expected: float
) -> None:
    assert review_component(helpfulness, assigned, writing) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("overall", "helps", "assigned", "empty", "score"),
    [
        (5.0, [5, 5], 2, False, 0.8 * 5 + 0.2 * 5),
        (5.0, [], 2, False, 0.8 * 5 + 0.2 * 1),
        (2.0, [6, 6], 2, False, 0.8 * 2 + 0.2 * 6),
        (6.0, [6, 6], 2, True, EMPTY_SCORE),  # an empty submission scores lowest
        (1.0, [], 2, False, 1.0),
    ],
)
def test_seat_score(
    overall: float, helps: list[int], assigned: int, empty: bool, score: float
) -> None:
    got = seat_score(piece_score(overall), Trait.VOICE, helps, assigned, empty, MatchSettings())
    assert got.score == pytest.approx(score)
    assert got.empty is empty


def test_empty_beats_nothing_even_with_great_reviews() -> None:
    settings = MatchSettings()
    empty = seat_score(empty_piece_score(), Trait.VOICE, [6, 6], 2, True, settings)
    weakest = seat_score(piece_score(1.0), Trait.VOICE, [], 2, False, settings)
    assert empty.score < weakest.score


def test_weights_come_from_settings() -> None:
    settings = MatchSettings(writing_weight=0.5, review_weight=0.5)
    got = seat_score(piece_score(2.0), Trait.VOICE, [6], 1, False, settings)
    assert got.score == pytest.approx(4.0)


def test_neutral_fallback_is_provisional() -> None:
    from server.ai.types import PieceRequest, ReviewRequest

    fb = NeutralFallback()
    assert fb.score_piece(PieceRequest(prompt=PROMPT, text="x")).provisional
    judged = fb.judge_review(
        ReviewRequest(prompt=PROMPT, piece_text="x", strength="a", suggestion="b", rating=3)
    )
    assert judged.provisional

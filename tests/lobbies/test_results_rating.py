"""The pure half of a score override: the seat's score, the ranking, the rating update
again, and the shift of a player's current rating (server/storage/overrides.py)."""

from __future__ import annotations

import pytest

from server.config import MatchSettings
from server.game.rating import RatingChange, RatingEntry, rate_ffa
from server.storage.overrides import (
    MIN_SIGMA,
    TRAIT_NAMES,
    SeatScores,
    effective,
    rerank,
    rerate,
    rescored,
    shifted,
)

SETTINGS = MatchSettings()  # writing 0.8, review 0.2
ALL = dict.fromkeys(TRAIT_NAMES, 3)


@pytest.mark.parametrize(
    ("seat", "traits", "overall", "want"),
    [
        # writing = 0.75·overall + 0.25·focus (ideas); review kept: 0.8·w + 0.2·r
        (SeatScores("a", 3.0, 4.0, 3.2, False, 2), {**ALL, "ideas": 6}, 6.0, (6.0, 4.0, 5.6)),
        (SeatScores("a", 3.0, 4.0, 3.2, False, 2), ALL, 5.0, (4.5, 4.0, 4.4)),
        # nothing to review: the review component is the writing component, and follows it
        (SeatScores("a", 3.0, 3.0, 3.0, False, 0), ALL, 5.0, (4.5, 4.5, 4.5)),
        # skipped every review with the minimum writing: the review stays the minimum
        (SeatScores("a", 1.0, 1.0, 1.0, False, 0), ALL, 5.0, (4.5, 1.0, 3.8)),
        # an empty piece keeps its zero
        (SeatScores("a", 1.0, 1.0, 0.0, True, 0), ALL, 6.0, (1.0, 1.0, 0.0)),
    ],
)
def test_rescored_seat(
    seat: SeatScores, traits: dict[str, int], overall: float, want: tuple[float, float, float]
) -> None:
    got = rescored(seat, traits, overall, "ideas", SETTINGS)
    assert (got.writing, got.review, got.score) == pytest.approx(want)


@pytest.mark.parametrize(
    ("scores", "ranks"),
    [
        ({"a": 4.0, "b": 3.0, "c": 2.0}, {"a": 1, "b": 2, "c": 3}),
        ({"a": 2.0, "b": 3.0, "c": 3.0, "d": 1.0}, {"a": 3, "b": 1, "c": 1, "d": 4}),
        ({"a": 3.00001, "b": 3.00002}, {"a": 1, "b": 1}),  # equal to 4 decimals: a tie
    ],
)
def test_rerank(scores: dict[str, float], ranks: dict[str, int]) -> None:
    assert rerank(scores) == ranks


def _played(ratings: list[tuple[str, float, float]], ranks: dict[str, int]) -> list[RatingChange]:
    return rate_ffa([RatingEntry(p, mu, sigma, ranks[p]) for p, mu, sigma in ratings])


PLAYERS = [("a", 25.0, 8.333), ("b", 27.0, 6.0), ("c", 22.0, 7.0), ("d", 25.0, 8.333)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"a": 4, "b": 1, "c": 2, "d": 3}, {"a": 1, "b": 2, "c": 3, "d": 4}),
        ({"a": 1, "b": 2, "c": 3, "d": 4}, {"a": 1, "b": 2, "c": 3, "d": 4}),  # no change
        ({"a": 2, "b": 1, "c": 3, "d": 4}, {"a": 1, "b": 1, "c": 3, "d": 4}),  # now a tie
    ],
)
def test_rerate_is_the_update_with_the_new_ranks(
    before: dict[str, int], after: dict[str, int]
) -> None:
    recorded = _played(PLAYERS, before)
    again = rerate(recorded, after)
    assert again == _played(PLAYERS, after)  # the same ratings before, the new ranks
    assert [(c.mu_before, c.sigma_before) for c in again] == [(mu, s) for _, mu, s in PLAYERS]
    if before == after:
        assert again == recorded


@pytest.mark.parametrize(
    ("current", "old", "new", "want"),
    [
        # no later match: current is the old after, so it becomes the new after
        ((26.0, 7.0), (26.0, 7.0), (24.0, 6.9), (24.0, 6.9)),
        # a later match moved the player on: the correction is added to where they are now
        ((30.0, 5.0), (26.0, 7.0), (24.0, 6.9), (28.0, 4.9)),
        ((30.0, 5.0), (26.0, 7.0), (27.5, 7.1), (31.5, 5.1)),
        # sigma never goes to zero or below
        ((30.0, 0.05), (26.0, 7.0), (26.0, 6.0), (30.0, MIN_SIGMA)),
    ],
)
def test_shifted_current_rating(
    current: tuple[float, float],
    old: tuple[float, float],
    new: tuple[float, float],
    want: tuple[float, float],
) -> None:
    was = RatingChange("a", False, 25.0, 8.0, *old)
    now = RatingChange("a", False, 25.0, 8.0, *new)
    assert shifted(current, was, now) == pytest.approx(want)


def test_shift_after_a_later_match_equals_the_later_match_from_the_shifted_start() -> None:
    """Why shifting is a fair stand-in for replaying: the later match's own update is
    kept as played, and the correction of the earlier one is carried across it once."""
    first = _played(PLAYERS, {"a": 4, "b": 1, "c": 2, "d": 3})
    later_start = [(c.player, c.mu_after, c.sigma_after) for c in first]
    later = _played(later_start, {"a": 2, "b": 1, "c": 4, "d": 3})
    corrected = rerate(first, {"a": 1, "b": 2, "c": 3, "d": 4})
    for f, c, lt in zip(first, corrected, later, strict=True):
        mu, sigma = shifted((lt.mu_after, lt.sigma_after), f, c)
        assert mu - lt.mu_after == pytest.approx(c.mu_after - f.mu_after)
        assert sigma - lt.sigma_after == pytest.approx(c.sigma_after - f.sigma_after)
    a = next(c for c in corrected if c.player == "a")
    assert a.mu_after > next(f for f in first if f.player == "a").mu_after


@pytest.mark.parametrize(
    ("traits", "overall", "want_traits", "want_overall"),
    [
        ({}, 5.5, ALL, 5.5),
        ({"voice": 6}, None, {**ALL, "voice": 6}, 3.5),
        ({"voice": 1, "ideas": 2}, 2.0, {**ALL, "voice": 1, "ideas": 2}, 2.0),
    ],
)
def test_effective_scores_replace_the_ai_where_set(
    traits: dict[str, int],
    overall: float | None,
    want_traits: dict[str, int],
    want_overall: float,
) -> None:
    assert effective(ALL, 3.5, traits, overall) == (want_traits, want_overall)

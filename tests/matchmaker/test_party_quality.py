"""The closed-form free-for-all quality against trueskill.quality and the matrix formula."""

from __future__ import annotations

import math

import pytest
import trueskill
from hypothesis import given, settings
from hypothesis import strategies as st

from matchmaker.quality import (
    BETA,
    ffa_log_quality,
    ffa_quality,
    ffa_quality_matrix,
    normalized_quality,
)

ENV = trueskill.TrueSkill()  # default environment: mu 25, sigma 25/3, beta 25/6

players = st.lists(
    st.tuples(
        st.floats(min_value=-10.0, max_value=60.0, allow_nan=False),
        st.floats(min_value=0.05, max_value=12.0, allow_nan=False),
    ),
    min_size=2,
    max_size=8,
)


def reference(mus: list[float], sigmas: list[float]) -> float:
    groups = [(ENV.create_rating(mu, sigma),) for mu, sigma in zip(mus, sigmas, strict=True)]
    return float(ENV.quality(groups))


@settings(max_examples=300, deadline=None, database=None)
@given(players)
def test_closed_form_matches_trueskill(pairs: list[tuple[float, float]]) -> None:
    mus = [m for m, _ in pairs]
    sigmas = [s for _, s in pairs]
    expected = reference(mus, sigmas)
    assert ffa_quality(mus, sigmas) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert ffa_quality_matrix(mus, sigmas) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@settings(max_examples=200, deadline=None, database=None)
@given(players)
def test_log_quality_and_spread_term(pairs: list[tuple[float, float]]) -> None:
    mus = [m for m, _ in pairs]
    sigmas = [s for _, s in pairs]
    log_q, spread_term = ffa_log_quality(mus, sigmas)
    assert spread_term >= 0.0
    # Same σs, all μ equal: only the σ part is left, and it is the larger quality.
    log_q_flat, flat_term = ffa_log_quality([25.0] * len(mus), sigmas)
    assert flat_term == pytest.approx(0.0, abs=1e-12)
    assert log_q == pytest.approx(log_q_flat - 0.5 * spread_term, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("mus", "sigmas"),
    [
        ([25.0, 25.0], [25 / 3, 25 / 3]),
        ([20.0, 30.0, 25.0, 27.5], [1.5, 8.3, 3.0, 5.0]),
        ([25.0] * 6, [2.0] * 6),
        ([10.0, 40.0, 12.0, 11.0, 9.0, 10.5], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]),
    ],
)
def test_table_against_trueskill(mus: list[float], sigmas: list[float]) -> None:
    assert ffa_quality(mus, sigmas) == pytest.approx(reference(mus, sigmas), rel=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("sigma", [1.5, 4.0, 25 / 3])
def test_normalised_quality_of_equal_players_ignores_size(n: int, sigma: float) -> None:
    quality = ffa_quality([25.0] * n, [sigma] * n)
    expected = math.sqrt(BETA**2 / (BETA**2 + sigma**2))
    assert normalized_quality(quality, n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("quality", "players", "expected"),
    [(0.5, 2, 0.5), (0.25, 3, 0.5), (0.125, 4, 0.5), (0.3, 1, 1.0), (0.0, 5, 0.0)],
)
def test_normalized_quality_table(quality: float, players: int, expected: float) -> None:
    assert normalized_quality(quality, players) == pytest.approx(expected)


def test_single_player_and_mismatched_lengths() -> None:
    assert ffa_quality([25.0], [8.0]) == 1.0
    assert ffa_quality_matrix([25.0], [8.0]) == 1.0
    with pytest.raises(ValueError):
        ffa_quality([25.0, 26.0], [8.0])
    with pytest.raises(ValueError):
        ffa_quality_matrix([25.0, 26.0], [8.0])


def test_stacking_lowers_quality() -> None:
    even = ffa_quality([20.0, 20.0, 20.0, 20.0], [2.0] * 4)
    stacked = ffa_quality([20.0, 20.0, 20.0, 30.0], [2.0] * 4)
    assert stacked < even

"""TrueSkill free-for-all updates and the hand-written match quality against trueskill."""

from __future__ import annotations

import itertools
import math

import pytest
import trueskill
from hypothesis import given, settings
from hypothesis import strategies as st

from server.game.rating import (
    DEFAULT_MU,
    DEFAULT_SIGMA,
    RatingEntry,
    RatingModel,
    cholesky,
    ffa_quality,
    forward_solve,
    rate_ffa,
)


def entries(ranks: list[int], bots: tuple[int, ...] = ()) -> list[RatingEntry]:
    return [
        RatingEntry(f"p{i}", DEFAULT_MU, DEFAULT_SIGMA, r, i in bots) for i, r in enumerate(ranks)
    ]


def test_winner_gains_loser_drops_everyone_more_certain() -> None:
    changes = rate_ffa(entries([1, 2, 3, 4]))
    mus = [c.mu_after for c in changes]
    assert mus == sorted(mus, reverse=True)
    assert changes[0].mu_after > DEFAULT_MU > changes[-1].mu_after
    assert all(c.sigma_after < c.sigma_before for c in changes)
    assert [c.player for c in changes] == ["p0", "p1", "p2", "p3"]


def test_ties_get_nearly_equal_updates() -> None:
    # trueskill's message passing runs along the team order, so a draw is symmetric only
    # up to its convergence tolerance
    changes = rate_ffa(entries([1, 2, 2, 4]))
    assert changes[1].mu_after == pytest.approx(changes[2].mu_after, abs=0.05)
    assert changes[1].sigma_after == pytest.approx(changes[2].sigma_after, abs=0.05)
    assert changes[0].mu_after > changes[1].mu_after > changes[3].mu_after


def test_all_tied_equal_ratings_do_not_move_means() -> None:
    changes = rate_ffa(entries([1, 1, 1, 1]))
    for c in changes:
        assert c.mu_after == pytest.approx(DEFAULT_MU)


def test_matches_trueskill_directly() -> None:
    env = trueskill.TrueSkill()
    ratings = [env.create_rating(30, 4), env.create_rating(20, 6), env.create_rating(25, 2)]
    expected = env.rate([(r,) for r in ratings], ranks=[1, 0, 2])
    got = rate_ffa(
        [
            RatingEntry("a", 30, 4, 2),
            RatingEntry("b", 20, 6, 1),
            RatingEntry("c", 25, 2, 3),
        ]
    )
    for g, (e,) in zip(got, expected, strict=True):
        assert g.mu_after == pytest.approx(e.mu)
        assert g.sigma_after == pytest.approx(e.sigma)


def test_bots_are_rated_and_flagged() -> None:
    changes = rate_ffa(entries([1, 2, 3, 4], bots=(1, 3)))
    assert [c.is_bot for c in changes] == [False, True, False, True]
    assert changes[1].mu_after != DEFAULT_MU


def test_fewer_than_two_change_nothing() -> None:
    assert rate_ffa([]) == []
    (only,) = rate_ffa(entries([1]))
    assert (only.mu_after, only.sigma_after) == (DEFAULT_MU, DEFAULT_SIGMA)


def test_display_rating_is_conservative() -> None:
    (c, _) = rate_ffa(entries([1, 2]))
    assert c.display_before == pytest.approx(DEFAULT_MU - 3 * DEFAULT_SIGMA)
    assert c.display_after == pytest.approx(c.mu_after - 3 * c.sigma_after)


def test_cholesky_and_solve() -> None:
    m = [[4.0, 2.0, 0.0], [2.0, 5.0, 1.0], [0.0, 1.0, 3.0]]
    lower = cholesky(m)
    for i, j in itertools.product(range(3), repeat=2):
        assert sum(lower[i][k] * lower[j][k] for k in range(3)) == pytest.approx(m[i][j])
    y = forward_solve(lower, [1.0, 2.0, 3.0])
    assert [sum(lower[i][k] * y[k] for k in range(3)) for i in range(3)] == pytest.approx([1, 2, 3])
    with pytest.raises(ValueError):
        cholesky([[1.0, 2.0], [2.0, 1.0]])


def reference_quality(ratings: list[tuple[float, float]], beta: float) -> float:
    env = trueskill.TrueSkill(beta=beta)
    return float(env.quality([(env.create_rating(m, s),) for m, s in ratings]))


RATING = st.tuples(st.floats(-10, 60), st.floats(0.3, 12))


@settings(max_examples=150, deadline=None)
@given(st.lists(RATING, min_size=2, max_size=12), st.floats(0.5, 10))
def test_quality_matches_trueskill(ratings: list[tuple[float, float]], beta: float) -> None:
    expected = reference_quality(ratings, beta)
    got = ffa_quality(ratings, beta)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert 0.0 <= got <= 1.0


@pytest.mark.parametrize("n", [2, 4, 5, 6, 12])
def test_quality_of_equal_players_and_order_invariance(n: int) -> None:
    beta = DEFAULT_SIGMA / 2
    equal = [(DEFAULT_MU, DEFAULT_SIGMA)] * n
    assert ffa_quality(equal, beta) == pytest.approx(reference_quality(equal, beta))
    mixed = [(20.0 + 3 * i, 2.0 + i % 3) for i in range(n)]
    assert ffa_quality(mixed, beta) == pytest.approx(ffa_quality(list(reversed(mixed)), beta))


def test_quality_falls_as_skills_spread() -> None:
    close = ffa_quality([(25, 3), (26, 3), (24, 3), (25, 3)])
    wide = ffa_quality([(10, 3), (40, 3), (25, 3), (25, 3)])
    assert close > wide
    assert math.isfinite(wide)


def test_quality_needs_two_players() -> None:
    with pytest.raises(ValueError):
        ffa_quality([(25.0, 8.0)])


def test_model_defaults_match_trueskill() -> None:
    env, default = RatingModel().env(), trueskill.TrueSkill()
    assert (env.mu, env.sigma, env.beta, env.tau, env.draw_probability) == pytest.approx(
        (default.mu, default.sigma, default.beta, default.tau, default.draw_probability)
    )

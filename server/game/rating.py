"""TrueSkill for free-for-all matches: the rating update and the closed-form match quality.

Every seat is a team of one.  :func:`rate_ffa` moves every seat's (mu, sigma) with the
``trueskill`` package from the match ranking (equal ranks are draws); bots are rated like
anyone else so their skill estimate stays honest, and each :class:`RatingChange` says
``is_bot`` so the caller can store bots' updates apart.

:func:`ffa_quality` is TrueSkill's match quality (the draw probability relative to the
most even match) computed by hand for the matchmaker's hot loop — no numpy, no matrix
class.  With ``A`` the n×(n−1) matrix of consecutive differences (column r is
``e_r − e_{r+1}``), ``Σ = diag(σ²)`` and ``μ`` the means::

    M       = β²·AᵀA + AᵀΣA                 (tridiagonal, (n−1)×(n−1))
    quality = sqrt(det(β²·AᵀA) / det(M)) · exp(−½ · (Aᵀμ)ᵀ M⁻¹ (Aᵀμ))

``det(AᵀA) = n`` for this ``A``; ``det(M)`` and ``M⁻¹v`` come from one Cholesky
factorisation ``M = L·Lᵀ``, so ``quality = sqrt(n) · Π(β / L_ii) · exp(−½‖L⁻¹v‖²)``.
The result does not depend on the order of the players.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import trueskill

DEFAULT_MU = 25.0
DEFAULT_SIGMA = DEFAULT_MU / 3


@dataclass(frozen=True, slots=True)
class RatingModel:
    """TrueSkill's parameters (the package's defaults)."""

    mu: float = DEFAULT_MU
    sigma: float = DEFAULT_SIGMA
    beta: float = DEFAULT_SIGMA / 2
    tau: float = DEFAULT_SIGMA / 100
    draw_probability: float = 0.10

    def env(self) -> trueskill.TrueSkill:
        return trueskill.TrueSkill(
            mu=self.mu,
            sigma=self.sigma,
            beta=self.beta,
            tau=self.tau,
            draw_probability=self.draw_probability,
        )


@dataclass(frozen=True, slots=True)
class RatingEntry:
    player: str
    mu: float
    sigma: float
    rank: int  # 1 is best; equal ranks are a draw
    is_bot: bool = False


def conservative(mu: float, sigma: float) -> float:
    """The conservative rating shown to players and ranked on boards: mu − 3σ."""
    return mu - 3 * sigma


@dataclass(frozen=True, slots=True)
class RatingChange:
    player: str
    is_bot: bool
    mu_before: float
    sigma_before: float
    mu_after: float
    sigma_after: float

    @property
    def display_before(self) -> float:
        return conservative(self.mu_before, self.sigma_before)

    @property
    def display_after(self) -> float:
        return conservative(self.mu_after, self.sigma_after)


def rate_ffa(
    entries: Sequence[RatingEntry], model: RatingModel = RatingModel()
) -> list[RatingChange]:
    """New ratings for every entry, in the same order; fewer than two entries change nothing."""
    if len(entries) < 2:
        return [RatingChange(e.player, e.is_bot, e.mu, e.sigma, e.mu, e.sigma) for e in entries]
    env = model.env()
    groups = [(env.create_rating(e.mu, e.sigma),) for e in entries]
    ranks = [e.rank - 1 for e in entries]
    rated = env.rate(groups, ranks=ranks)
    return [
        RatingChange(e.player, e.is_bot, e.mu, e.sigma, float(g[0].mu), float(g[0].sigma))
        for e, g in zip(entries, rated, strict=True)
    ]


def cholesky(m: Sequence[Sequence[float]]) -> list[list[float]]:
    """Lower-triangular ``L`` with ``m = L·Lᵀ`` for a symmetric positive-definite ``m``."""
    n = len(m)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = m[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if s <= 0.0:
                    raise ValueError("matrix is not positive definite")
                lower[i][i] = math.sqrt(s)
            else:
                lower[i][j] = s / lower[j][j]
    return lower


def forward_solve(lower: Sequence[Sequence[float]], b: Sequence[float]) -> list[float]:
    """``y`` with ``L·y = b`` for lower-triangular ``L``."""
    y: list[float] = []
    for i, row in enumerate(lower):
        y.append((b[i] - sum(row[k] * y[k] for k in range(i))) / row[i])
    return y


def ffa_quality(ratings: Sequence[tuple[float, float]], beta: float = DEFAULT_SIGMA / 2) -> float:
    """TrueSkill match quality of one-player teams given as ``(mu, sigma)`` pairs."""
    n = len(ratings)
    if n < 2:
        raise ValueError("quality needs at least two players")
    var = [s * s for _, s in ratings]
    b2 = beta * beta
    size = n - 1
    m = [[0.0] * size for _ in range(size)]
    for r in range(size):
        m[r][r] = 2 * b2 + var[r] + var[r + 1]
        if r + 1 < size:
            m[r][r + 1] = m[r + 1][r] = -(b2 + var[r + 1])
    diff = [ratings[r][0] - ratings[r + 1][0] for r in range(size)]
    lower = cholesky(m)
    y = forward_solve(lower, diff)
    log_ratio = 0.5 * math.log(n) + sum(math.log(beta / lower[i][i]) for i in range(size))
    return math.exp(log_ratio - 0.5 * sum(v * v for v in y))

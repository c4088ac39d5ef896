"""TrueSkill match quality of a free-for-all where every player is a team of one.

TrueSkill's match quality (the draw probability, ``trueskill.quality``) for teams
with skill means ``μ`` and variances ``σ²`` is::

    q = sqrt(det(β²AᵀA) / det(β²AᵀA + AᵀΣA)) · exp(−½ μᵀA (β²AᵀA + AᵀΣA)⁻¹ Aᵀμ)

with ``A`` the n×(n−1) matrix whose column ``j`` is ``e_j − e_(j+1)``.  For one-player
teams ``β²AᵀA + AᵀΣA = AᵀCA`` with ``C = diag(c)``, ``c_i = β² + σ_i²``: the covariance
of the consecutive differences of n independent variables of variance ``c_i``.  The
columns of ``A`` span the vectors orthogonal to ``(1, …, 1)``, which gives, with
``w_i = 1/c_i`` and the precision-weighted mean ``μ̄ = Σ w_i μ_i / Σ w_i``::

    det(β²AᵀA)        = n · β^(2(n−1))
    det(AᵀCA)         = (Π c_i) · (Σ w_i)
    μᵀA (AᵀCA)⁻¹ Aᵀμ  = Σ w_i (μ_i − μ̄)²

so the quality costs O(n).  :func:`ffa_quality_matrix` evaluates the matrix formula
(the engine's Cholesky evaluation) and the tests check both against ``trueskill.quality``.

Parties of different sizes are compared on the normalised quality ``q^(1/(n−1))``: for
n players with equal ``μ`` and ``σ`` it is ``sqrt(β²/c)`` whatever n is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from server.game import rating

BETA = 25.0 / 6.0
"""TrueSkill's default performance deviation β = σ₀/2 with σ₀ = 25/3."""


def ffa_log_quality(
    mus: Sequence[float], sigmas: Sequence[float], beta: float = BETA
) -> tuple[float, float]:
    """Return ``(log q, Σ w_i (μ_i − μ̄)²)`` for a free-for-all of one-player teams.

    The second value is the spread term of the exponent; ``exp(−½·it/(n−1))`` is the
    part of the normalised quality that the matchmaker controls (the rest depends on
    the σs only).  Fewer than two players: ``(0.0, 0.0)`` (quality 1 by convention).
    """
    n = len(mus)
    if n != len(sigmas):
        raise ValueError(f"{n} means but {len(sigmas)} deviations")
    if n < 2:
        return 0.0, 0.0
    beta2 = beta * beta
    cs = [beta2 + s * s for s in sigmas]
    ws = [1.0 / c for c in cs]
    total_w = sum(ws)
    mean = sum(w * m for w, m in zip(ws, mus, strict=True)) / total_w
    spread_term = sum(w * (m - mean) ** 2 for w, m in zip(ws, mus, strict=True))
    log_det_ratio = (
        math.log(n) + (n - 1) * math.log(beta2) - sum(math.log(c) for c in cs) - math.log(total_w)
    )
    return 0.5 * log_det_ratio - 0.5 * spread_term, spread_term


def ffa_quality(mus: Sequence[float], sigmas: Sequence[float], beta: float = BETA) -> float:
    """TrueSkill quality of a free-for-all of one-player teams, in O(n)."""
    return math.exp(ffa_log_quality(mus, sigmas, beta)[0])


def normalized_quality(quality: float, players: int) -> float:
    """``quality^(1/(players−1))``: comparable across party sizes; 1.0 below two players."""
    if players < 2:
        return 1.0
    if quality <= 0.0:
        return 0.0
    return math.exp(math.log(quality) / (players - 1))


def ffa_quality_matrix(mus: Sequence[float], sigmas: Sequence[float], beta: float = BETA) -> float:
    """The same quality from the matrix formula itself: the engine's evaluation
    (``server.game.rating.ffa_quality``, by Cholesky), used by the tests as the reference
    that ties :func:`ffa_quality` to the formula it simplifies.  O(n³)."""
    if len(mus) != len(sigmas):
        raise ValueError(f"{len(mus)} means but {len(sigmas)} deviations")
    if len(mus) < 2:
        return 1.0
    return rating.ffa_quality(list(zip(mus, sigmas, strict=True)), beta)

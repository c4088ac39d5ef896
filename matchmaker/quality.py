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
literally (Gaussian elimination) and the tests check both against ``trueskill.quality``.

Parties of different sizes are compared on the normalised quality ``q^(1/(n−1))``: for
n players with equal ``μ`` and ``σ`` it is ``sqrt(β²/c)`` whatever n is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    """The same quality from the matrix formula, by Gaussian elimination (a reference).

    O(n³); used by the tests to tie :func:`ffa_quality` to the formula it simplifies.
    """
    n = len(mus)
    if n != len(sigmas):
        raise ValueError(f"{n} means but {len(sigmas)} deviations")
    if n < 2:
        return 1.0
    m = n - 1
    # A is n×m with A[j][j] = 1, A[j+1][j] = −1.
    a = [[0.0] * m for _ in range(n)]
    for j in range(m):
        a[j][j] = 1.0
        a[j + 1][j] = -1.0
    beta2 = beta * beta
    ata = [[beta2 * sum(a[k][i] * a[k][j] for k in range(n)) for j in range(m)] for i in range(m)]
    atsa = [
        [sum(a[k][i] * sigmas[k] ** 2 * a[k][j] for k in range(n)) for j in range(m)]
        for i in range(m)
    ]
    middle = [[ata[i][j] + atsa[i][j] for j in range(m)] for i in range(m)]
    at_mu = [sum(a[k][i] * mus[k] for k in range(n)) for i in range(m)]
    det_middle, solved = _det_and_solve(middle, at_mu)
    det_ata, _ = _det_and_solve(ata, [0.0] * m)
    exponent = -0.5 * sum(x * y for x, y in zip(at_mu, solved, strict=True))
    return math.exp(exponent) * math.sqrt(det_ata / det_middle)


def _det_and_solve(matrix: list[list[float]], rhs: list[float]) -> tuple[float, list[float]]:
    """Determinant of a square matrix and the solution of ``matrix · x = rhs``."""
    size = len(matrix)
    rows = [[*row, b] for row, b in zip(matrix, rhs, strict=True)]
    det = 1.0
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        if rows[pivot][col] == 0.0:
            raise ZeroDivisionError("singular matrix")
        if pivot != col:
            rows[col], rows[pivot] = rows[pivot], rows[col]
            det = -det
        p = rows[col][col]
        det *= p
        for r in range(col + 1, size):
            f = rows[r][col] / p
            if f:
                for c in range(col, size + 1):
                    rows[r][c] -= f * rows[col][c]
    x = [0.0] * size
    for r in range(size - 1, -1, -1):
        acc = rows[r][size] - sum(rows[r][c] * x[c] for c in range(r + 1, size))
        x[r] = acc / rows[r][r]
    return det, x

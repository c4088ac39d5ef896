"""WaitEstimator: median of recent waits at the same rating, widening when data is thin."""

from __future__ import annotations

import math

import pytest

from matchmaker.estimate import WaitEstimator


def estimator(samples: list[tuple[float, float]], **options: float) -> WaitEstimator:
    est = WaitEstimator(default_seconds=30.0, min_samples=3, **options)  # type: ignore[arg-type]
    for mu, waited in samples:
        est.record(mu, waited)
    return est


@pytest.mark.parametrize(
    ("samples", "mu", "expected"),
    [
        ([], 25.0, 30.0),  # no data: the default
        ([(25.0, 4.0), (26.0, 6.0), (24.0, 5.0)], 25.0, 5.0),  # 22.5–25 and 25–27.5
        ([(25.0, 4.0), (25.5, 6.0), (26.0, 8.0)], 25.0, 6.0),  # one bucket, median
        ([(25.0, 4.0), (25.5, 6.0), (26.0, 8.0), (26.5, 10.0)], 26.0, 7.0),  # even count
        ([(40.0, 20.0)], 45.0, 20.0),  # two buckets away, still used
        ([(40.0, 20.0)], 48.0, 30.0),  # beyond reach: the default
        ([(25.0, 2.0)] * 3 + [(27.6, 50.0)] * 3, 25.0, 2.0),  # own bucket is enough
        ([(25.0, 2.0)] + [(27.6, 50.0)] * 2, 25.0, 50.0),  # widened to the next bucket
        ([(25.0, -3.0)] * 3, 25.0, 0.0),  # negative waits count as zero
        ([(25.0, 4.0)] * 3, math.nan, 30.0),
    ],
)
def test_estimate_table(samples: list[tuple[float, float]], mu: float, expected: float) -> None:
    assert estimator(samples).estimate(mu) == pytest.approx(expected)


def test_only_recent_samples_count() -> None:
    est = WaitEstimator(default_seconds=30.0, samples=4, min_samples=1)
    for waited in [100.0, 100.0, 100.0, 100.0, 1.0, 2.0, 3.0, 4.0]:
        est.record(25.0, waited)
    assert est.estimate(25.0) == pytest.approx(2.5)


def test_ignores_non_finite_and_bad_options() -> None:
    est = WaitEstimator(default_seconds=7.0)
    est.record(math.inf, 3.0)
    est.record(25.0, math.nan)
    assert est.estimate(25.0) == 7.0
    with pytest.raises(ValueError):
        WaitEstimator(default_seconds=1.0, bucket_width=0.0)

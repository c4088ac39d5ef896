"""Wait estimates from recent matching at the same rating.

The party former records ``(μ, seconds waited)`` for every matched player; the
estimator keeps the last ``samples`` waits per μ bucket of ``bucket_width`` and answers
with the median of the player's bucket.  When that bucket holds fewer than
``min_samples`` waits it adds the neighbouring buckets, one ring at a time up to
``reach`` buckets away; with no data at all it answers ``default_seconds``.  Pure: no
clock, memory bounded by the number of buckets ever seen times ``samples``.
"""

from __future__ import annotations

import math
from collections import deque


class WaitEstimator:
    """Median recent wait, bucketed by rating μ."""

    __slots__ = ("_buckets", "_maxlen", "bucket_width", "default_seconds", "min_samples", "reach")

    def __init__(
        self,
        *,
        default_seconds: float,
        bucket_width: float = 2.5,
        samples: int = 64,
        min_samples: int = 8,
        reach: int = 2,
    ) -> None:
        if bucket_width <= 0 or samples < 1 or min_samples < 1 or reach < 0:
            raise ValueError("need bucket_width > 0, samples ≥ 1, min_samples ≥ 1, reach ≥ 0")
        self.default_seconds = default_seconds
        self.bucket_width = bucket_width
        self.min_samples = min_samples
        self.reach = reach
        self._maxlen = samples
        self._buckets: dict[int, deque[float]] = {}

    def _bucket(self, mu: float) -> int:
        return math.floor(mu / self.bucket_width)

    def record(self, mu: float, waited: float) -> None:
        """Remember that a player of rating ``mu`` was matched after ``waited`` seconds."""
        if not math.isfinite(mu) or not math.isfinite(waited):
            return
        key = self._bucket(mu)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = deque(maxlen=self._maxlen)
        bucket.append(max(0.0, waited))

    def record_many(self, mus: list[float], waits: list[float]) -> None:
        """:meth:`record` for each pair (a formed party)."""
        for mu, waited in zip(mus, waits, strict=True):
            self.record(mu, waited)

    def estimate(self, mu: float) -> float:
        """Expected wait in seconds for a player of rating ``mu`` joining now."""
        if not math.isfinite(mu):
            return self.default_seconds
        center = self._bucket(mu)
        found: list[float] = list(self._buckets.get(center, ()))
        ring = 0
        while len(found) < self.min_samples and ring < self.reach:
            ring += 1
            found.extend(self._buckets.get(center - ring, ()))
            found.extend(self._buckets.get(center + ring, ()))
        if not found:
            return self.default_seconds
        found.sort()
        mid = len(found) // 2
        if len(found) % 2:
            return found[mid]
        return (found[mid - 1] + found[mid]) / 2

"""How long to wait before each reconnect attempt: capped exponential backoff with jitter.

The pause before attempt ``k`` (0-based) is ``min(cap, first · factor**k)`` scaled by a
random factor in ``[1 - jitter, 1]`` ("equal jitter"), so many bots dropped by the same
node restart do not all knock at once, and none waits longer than ``cap``.  After
``attempts`` failed attempts the client gives up.  The random source is passed in, so the
schedule is a pure function (tested by a table).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    first: float = 0.25
    """Base pause before the first attempt (seconds)."""
    factor: float = 2.0
    cap: float = 10.0
    """No base pause is longer than this."""
    attempts: int = 8
    """Attempts before giving up (the defaults span about 45 s at most)."""
    jitter: float = 0.5
    """Share of each pause that is random: 0 is none, 1 is "full jitter"."""

    def __post_init__(self) -> None:
        if self.first < 0 or self.factor < 1 or self.cap < 0 or self.attempts < 1:
            raise ValueError(f"bad backoff {self!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"backoff jitter {self.jitter} is outside 0..1")

    def base(self, attempt: int) -> float:
        """The pause before ``attempt`` (0-based) without jitter."""
        return min(self.cap, self.first * self.factor**attempt)

    def pause(self, attempt: int, draw: float) -> float:
        """The pause before ``attempt`` for a random ``draw`` in ``[0, 1)``."""
        return self.base(attempt) * (1.0 - self.jitter * draw)

    def delays(self, rng: random.Random) -> Iterator[float]:
        """One pause per attempt, ``attempts`` of them."""
        for attempt in range(self.attempts):
            yield self.pause(attempt, rng.random())

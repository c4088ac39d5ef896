"""Human timing for bots: when to ready up, send edits, review, leave.

A bot must not be told apart from a person by its timing, so nothing is instant and
everything has jitter:

- **ready**: a few seconds after the lobby opens (reading the lobby), never later than
  ``ready_share`` of the lobby time left;
- **typing**: the writer engine's timeline (pauses, bursts, typos, fixes), sent through a
  debouncing editor (``bots.timeline``);
- **reviews**: reading the piece at a skill-dependent speed, then typing the review at
  the same speed as the bot writes, so a weak bot is slower; the ``k``-th of ``n``
  reviews is in no later than ``review_share · (k+1)/n`` of the feedback time left (the
  node's own bots use half the phase), and never sooner than ``review_floor`` seconds;
- **results**: it stays a few seconds on the results before it leaves.

Every random draw comes from the ``random.Random`` passed in (seeded per bot), so a run
can be repeated.  Tests pass a :class:`Pace` with small numbers to fit short phases.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.ai.offline.bot_typing import words_per_minute

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic`` by default; tests may pass their own)."""
Sleep = Callable[[float], Awaitable[None]]
"""``asyncio.sleep`` by default."""


@dataclass(frozen=True, slots=True)
class Pace:
    ready: tuple[float, float] = (1.5, 6.0)
    """Seconds between seeing the lobby and readying (uniform)."""
    ready_share: float = 0.4
    quiet: float = 0.75
    """Editor debounce: send after this much silence…"""
    max_wait: float = 2.5
    """…or when the oldest unsent change is this old."""
    stall_seconds: float = 4.0
    """An edit unacknowledged this long while connected is followed by a snapshot."""
    reading_wpm: tuple[float, float] = (120.0, 260.0)
    """Reading speed at skill 0 and at skill 1 (words per minute)."""
    review_share: float = 0.5
    review_floor: float = 4.0
    jitter: float = 0.15
    """Every human delay is scaled by a random factor in ``1 ± jitter``."""
    linger: tuple[float, float] = (2.0, 8.0)
    """Seconds spent on the results before leaving."""

    def jittered(self, seconds: float, rng: random.Random) -> float:
        return max(0.0, seconds * rng.uniform(1.0 - self.jitter, 1.0 + self.jitter))

    def ready_delay(self, lobby_left: float | None, rng: random.Random) -> float:
        delay = rng.uniform(*self.ready)
        if lobby_left is not None:
            delay = min(delay, max(0.0, lobby_left) * self.ready_share)
        return delay

    def review_seconds(self, words: int, review_chars: int, skill: float) -> float:
        """How long a person of ``skill`` takes to read ``words`` and type a review."""
        s = min(1.0, max(0.0, skill))
        lo, hi = self.reading_wpm
        reading = words / (lo + (hi - lo) * s) * 60.0
        typing = review_chars / (words_per_minute(s) * 5.0 / 60.0)
        return reading + typing

    def review_times(
        self,
        durations: list[float],
        feedback_left: float | None,
        rng: random.Random,
    ) -> list[float]:
        """Seconds after the assignments arrived at which each review is sent."""
        n = len(durations)
        times: list[float] = []
        at = 0.0
        for k, took in enumerate(durations):
            at += self.jittered(took, rng)
            when = max(at, self.review_floor * (k + 1))
            if feedback_left is not None:
                when = min(when, max(0.0, feedback_left) * self.review_share * (k + 1) / n)
            times.append(max(when, times[-1] if times else 0.0))
        return times

    def linger_delay(self, rng: random.Random) -> float:
        return rng.uniform(*self.linger)

"""Seasons: fixed-length runs of weeks from a configured first start (``[seasons]``).

Season 1 begins at ``first_start`` (a date, 00:00 UTC) and each season lasts ``weeks``
weeks; season *n* is ``[start + (n-1)·length, start + n·length)``.  Before the first
start there is no season, and with ``weeks = 0`` seasons are off: the boards are
all-time.  Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MAX_SEASONS_LISTED = 100


@dataclass(frozen=True, slots=True)
class Season:
    number: int
    starts_at: datetime
    ends_at: datetime

    def plain(self, now: datetime) -> dict[str, object]:
        return {
            "number": self.number,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "current": self.starts_at <= now < self.ends_at,
        }


def parse_start(text: str) -> datetime:
    """``YYYY-MM-DD`` as midnight UTC; ValueError for anything else."""
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Calendar:
    first_start: datetime
    weeks: int

    @property
    def enabled(self) -> bool:
        return self.weeks > 0

    def season(self, number: int) -> Season:
        if not self.enabled or number < 1:
            raise ValueError(f"no season {number}")
        length = timedelta(weeks=self.weeks)
        start = self.first_start + (number - 1) * length
        return Season(number, start, start + length)

    def current(self, now: datetime) -> Season | None:
        """The season ``now`` is in, or None (seasons off, or before the first)."""
        if not self.enabled or now < self.first_start:
            return None
        number = (now - self.first_start) // timedelta(weeks=self.weeks) + 1
        return self.season(number)

    def past_and_current(self, now: datetime) -> list[Season]:
        """Every season that has begun, newest first (at most :data:`MAX_SEASONS_LISTED`)."""
        here = self.current(now)
        if here is None:
            return []
        low = max(1, here.number - MAX_SEASONS_LISTED + 1)
        return [self.season(n) for n in range(here.number, low - 1, -1)]

"""A pod's weekly sessions and its streak, as pure functions of a clock value.

A pod meets every week at ``slot_start``, a minute of the UTC week (0 = Monday 00:00
UTC; :mod:`server.pods.forming`).  The *latest session* at ``now`` is the most recent
start at or before ``now``; check-ins belong to a session by its start.  The *streak* is
the number of consecutive sessions, back from the latest, that the pod kept: at least
half of its members checked in as having attended.  The latest session does not break
the streak while it is still open for check-ins (the week after it), so a streak does
not drop to 0 the minute a new session begins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from server.pods.forming import MINUTES_PER_WEEK

WEEK = timedelta(weeks=1)
_EPOCH_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday, 00:00 UTC


def latest_session(slot_start: int, now: datetime) -> datetime:
    """The most recent session start at or before ``now`` (an aware datetime)."""
    if not 0 <= slot_start < MINUTES_PER_WEEK:
        raise ValueError("slot_start must be a minute of the week")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    weeks = (now - _EPOCH_MONDAY) // WEEK
    start = _EPOCH_MONDAY + weeks * WEEK + timedelta(minutes=slot_start)
    return start if start <= now else start - WEEK


def next_session(slot_start: int, now: datetime) -> datetime:
    return latest_session(slot_start, now) + WEEK


def kept(attended: int, members: int) -> bool:
    """Whether a session counts for the streak: at least half the members attended."""
    return members > 0 and 2 * attended >= members


def streak(attended_by_session: Mapping[datetime, int], latest: datetime, members: int) -> int:
    """Consecutive kept sessions back from ``latest`` (which may still be open: if it is
    not kept yet, counting starts from the one before)."""
    session = latest if kept(attended_by_session.get(latest, 0), members) else latest - WEEK
    count = 0
    while kept(attended_by_session.get(session, 0), members):
        count += 1
        session -= WEEK
    return count

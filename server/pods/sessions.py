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
from zoneinfo import ZoneInfo

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


def first_session(slot_start: int, formed_at: datetime) -> datetime:
    """A pod's first session: its slot's first start after the pod was formed."""
    return next_session(slot_start, formed_at)


def session_to_open(
    slot_start: int, formed_at: datetime, now: datetime, lead: timedelta, length: timedelta
) -> datetime | None:
    """The session whose lobby should be open at ``now``: the start ``s`` with
    ``s - lead <= now < s + length``, not before the pod's first session; else None."""
    start = latest_session(slot_start, now + lead)
    if now < start + length and start >= first_session(slot_start, formed_at):
        return start
    return None


def local_slot(slot_start: int, time_zone: str, at: datetime) -> tuple[int, int]:
    """The next session after ``at`` as a viewer in ``time_zone`` sees it: (day 0 = Monday,
    minute of the day).  The slot is one UTC instant a week, so across a change of
    daylight-saving time the local hour moves by the change, and across the date line
    the local day differs (Tonga's Monday is Samoa's Sunday)."""
    start = next_session(slot_start, at)
    local = start.astimezone(ZoneInfo(time_zone))
    return local.weekday(), local.hour * 60 + local.minute

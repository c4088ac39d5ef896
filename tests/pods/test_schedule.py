"""When a pod session's lobby opens (pure): the lead, the session's end, the first
session after forming, time zones across the date line and weeks with a DST change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.pods.sessions import WEEK, first_session, local_slot, session_to_open

LEAD = timedelta(minutes=10)
LENGTH = timedelta(minutes=45)
TUE_18 = 1 * 1440 + 18 * 60  # Tuesday 18:00 UTC
SUN_1900 = 6 * 1440 + 19 * 60  # Sunday 19:00 UTC: Monday 08:00 in Tonga, Sunday 08:00 in Samoa
FORMED = datetime(2026, 11, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("slot", "formed", "now", "opens"),
    [
        (TUE_18, FORMED, "2026-12-01 17:49", None),  # 11 minutes early
        (TUE_18, FORMED, "2026-12-01 17:50", "2026-12-01 18:00"),  # the lead
        (TUE_18, FORMED, "2026-12-01 18:00", "2026-12-01 18:00"),
        (TUE_18, FORMED, "2026-12-01 18:44", "2026-12-01 18:00"),  # still on
        (TUE_18, FORMED, "2026-12-01 18:45", None),  # over
        (TUE_18, FORMED, "2026-12-03 12:00", None),  # mid-week
        # formed five minutes before a start: that start is the first session
        (TUE_18, at("2026-12-01 17:55"), "2026-12-01 17:56", "2026-12-01 18:00"),
        # formed during a session: its first session is next week's
        (TUE_18, at("2026-12-01 18:05"), "2026-12-01 18:06", None),
        (TUE_18, at("2026-12-01 18:05"), "2026-12-08 17:55", "2026-12-08 18:00"),
        # a slot at the week's end: the lead reaches back over Sunday midnight UTC
        (0, FORMED, "2026-12-06 23:55", "2026-12-07 00:00"),
        (SUN_1900, FORMED, "2026-12-06 18:50", "2026-12-06 19:00"),
    ],
)
def test_session_to_open(slot: int, formed: datetime, now: str, opens: str | None) -> None:
    found = session_to_open(slot, formed, at(now), LEAD, LENGTH)
    assert found == (None if opens is None else at(opens))


def test_no_lead_opens_at_the_start() -> None:
    assert session_to_open(TUE_18, FORMED, at("2026-12-01 17:59"), timedelta(0), LENGTH) is None
    assert session_to_open(TUE_18, FORMED, at("2026-12-01 18:00"), timedelta(0), LENGTH) == at(
        "2026-12-01 18:00"
    )


def test_first_session() -> None:
    assert first_session(TUE_18, at("2026-12-01 17:59")) == at("2026-12-01 18:00")
    assert first_session(TUE_18, at("2026-12-01 18:00")) == at("2026-12-08 18:00")


@pytest.mark.parametrize(
    ("slot", "zone", "now", "local"),
    [
        # across the date line: one instant, two local days
        (SUN_1900, "Pacific/Tongatapu", "2026-12-01 00:00", (0, 8 * 60)),  # Monday 08:00
        (SUN_1900, "Pacific/Pago_Pago", "2026-12-01 00:00", (6, 8 * 60)),  # Sunday 08:00
        (SUN_1900, "Pacific/Kiritimati", "2026-12-01 00:00", (0, 9 * 60)),  # UTC+14
        # Europe's DST ends on Sunday 25 October 2026: the Tuesday before is 20:00 in
        # Paris (UTC+2), the Tuesday after 19:00 (UTC+1): the slot is one UTC instant
        (TUE_18, "Europe/Paris", "2026-10-19 00:00", (1, 20 * 60)),
        (TUE_18, "Europe/Paris", "2026-10-26 00:00", (1, 19 * 60)),
        # the US's ends a week later (1 November): New York shifts then
        (TUE_18, "America/New_York", "2026-10-26 00:00", (1, 14 * 60)),
        (TUE_18, "America/New_York", "2026-11-02 00:00", (1, 13 * 60)),
        # Sydney's starts on 4 October 2026 (UTC+10 → +11); Tuesday 18:00 UTC is Wednesday
        (TUE_18, "Australia/Sydney", "2026-09-28 00:00", (2, 4 * 60)),
        (TUE_18, "Australia/Sydney", "2026-10-05 00:00", (2, 5 * 60)),
        # a session at Sunday 01:30 UTC in the night Europe's clocks go back
        (6 * 1440 + 90, "Europe/London", "2026-10-20 00:00", (6, 1 * 60 + 30)),
    ],
)
def test_local_slot(slot: int, zone: str, now: str, local: tuple[int, int]) -> None:
    assert local_slot(slot, zone, at(now)) == local


def test_a_dst_week_is_still_seven_days_of_utc() -> None:
    # Sessions across Europe's change are exactly a week apart in UTC (168 hours).
    formed = at("2026-09-01 00:00")
    before = session_to_open(TUE_18, formed, at("2026-10-20 17:55"), LEAD, LENGTH)
    after = session_to_open(TUE_18, formed, at("2026-10-27 17:55"), LEAD, LENGTH)
    # before the first session nothing opens
    assert session_to_open(TUE_18, FORMED, at("2026-10-20 17:55"), LEAD, LENGTH) is None
    assert before is not None and after is not None
    assert after - before == WEEK

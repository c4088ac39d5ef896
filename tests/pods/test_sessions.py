"""A pod's weekly sessions and streak (pure, with clock values given)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.pods.sessions import WEEK, kept, latest_session, next_session, streak

TUE_18 = 1 * 1440 + 18 * 60  # Tuesday 18:00 UTC
SUN_2330 = 6 * 1440 + 23 * 60 + 30


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("slot", "now", "latest"),
    [
        (TUE_18, "2026-12-01 18:00", "2026-12-01 18:00"),  # a Tuesday, at the minute
        (TUE_18, "2026-12-01 17:59", "2026-11-24 18:00"),  # a minute early: last week's
        (TUE_18, "2026-12-06 09:00", "2026-12-01 18:00"),  # the Sunday after
        (SUN_2330, "2026-12-07 00:10", "2026-12-06 23:30"),  # just past the week's end
        (0, "2026-11-30 00:00", "2026-11-30 00:00"),  # Monday midnight
        (TUE_18, "2024-01-01 00:00", "2023-12-26 18:00"),  # before the reference Monday
    ],
)
def test_latest_session(slot: int, now: str, latest: str) -> None:
    assert latest_session(slot, at(now)) == at(latest)
    assert next_session(slot, at(now)) == at(latest) + WEEK


@pytest.mark.parametrize(
    ("attended", "members", "counts"),
    [(0, 3, False), (1, 3, False), (2, 3, True), (2, 4, True), (1, 4, False), (0, 0, False)],
)
def test_a_session_is_kept_when_half_attend(attended: int, members: int, counts: bool) -> None:
    assert kept(attended, members) is counts


def test_streak() -> None:
    latest = at("2026-12-01 18:00")
    weeks = [latest - WEEK * i for i in range(6)]
    # Kept the last four sessions before this one; this one is still open (nobody yet).
    history = {weeks[1]: 3, weeks[2]: 2, weeks[3]: 4, weeks[4]: 2, weeks[5]: 0}
    assert streak(history, latest, 4) == 4
    assert streak({**history, latest: 2}, latest, 4) == 5  # this one kept too
    assert streak({**history, weeks[2]: 1}, latest, 4) == 1  # broken two weeks ago
    assert streak({}, latest, 4) == 0


def test_bad_values() -> None:
    with pytest.raises(ValueError):
        latest_session(10080, at("2026-12-01 00:00"))
    with pytest.raises(ValueError):
        latest_session(0, datetime(2026, 12, 1) + timedelta(0))

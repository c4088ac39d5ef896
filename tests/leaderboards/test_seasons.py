"""Season calendar (pure): numbers, bounds, before the first start, seasons off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.leaderboards.seasons import MAX_SEASONS_LISTED, Calendar, parse_start

START = parse_start("2026-09-07")
TWELVE = Calendar(START, 12)


@pytest.mark.parametrize(
    ("now", "number"),
    [
        (datetime(2026, 9, 6, 23, 59, 59, tzinfo=UTC), None),  # before the first start
        (START, 1),
        (START + timedelta(weeks=12) - timedelta(microseconds=1), 1),
        (START + timedelta(weeks=12), 2),  # the end is the next season's start
        (datetime(2026, 12, 3, tzinfo=UTC), 2),
        (START + timedelta(weeks=12 * 40 + 1), 41),
    ],
)
def test_the_season_of_a_moment(now: datetime, number: int | None) -> None:
    season = TWELVE.current(now)
    assert (season and season.number) == number
    if season is not None:
        assert season.starts_at <= now < season.ends_at
        assert season.ends_at - season.starts_at == timedelta(weeks=12)


def test_seasons_off_and_unknown_numbers() -> None:
    off = Calendar(START, 0)
    assert not off.enabled and off.current(START + timedelta(days=400)) is None
    assert off.past_and_current(START) == []
    for bad in (0, -1):
        with pytest.raises(ValueError):
            TWELVE.season(bad)


def test_listing_is_newest_first_and_bounded() -> None:
    now = START + timedelta(weeks=12 * 2 + 3)
    assert [s.number for s in TWELVE.past_and_current(now)] == [3, 2, 1]
    assert [s.plain(now)["current"] for s in TWELVE.past_and_current(now)] == [True, False, False]
    weekly = Calendar(START, 1)
    many = weekly.past_and_current(START + timedelta(weeks=500))
    assert len(many) == MAX_SEASONS_LISTED and many[0].number == 501


@pytest.mark.parametrize("text", ["2026-13-01", "yesterday", "", "2026-02-30"])
def test_a_start_must_be_a_date(text: str) -> None:
    with pytest.raises(ValueError):
        parse_start(text)

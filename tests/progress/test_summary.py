"""The pure progress summary: tiers, streaks, trait trends, bests, what to practise."""

from __future__ import annotations

import datetime as dt

import pytest

from server.ai.types import TRAITS
from server.progress.summary import (
    RECENT,
    Played,
    streaks,
    summarise,
    tier_of,
    writing_seconds,
)

DAY = dt.date(2026, 12, 2)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def game(n: int, *, day: dt.date = DAY, traits: int | dict[str, int] = 3, **kw: object) -> Played:
    scores = dict.fromkeys((str(t) for t in TRAITS), traits) if isinstance(traits, int) else traits
    base: dict[str, object] = {
        "match_id": f"m{n:03}",
        "finished_at": at(day, hour=n % 24),
        "ranked": True,
        "rank": 2,
        "words": 120,
        "write_seconds": 240.0,
        "traits": scores,
        "overall": 3.0,
    }
    base.update(kw)
    return Played(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rating", "tier", "next_name"),
    [
        (-3.0, "Newcomer", "Apprentice"),
        (0.0, "Newcomer", "Apprentice"),
        (4.999, "Newcomer", "Apprentice"),
        (5.0, "Apprentice", "Storyteller"),
        (14.2, "Storyteller", "Wordsmith"),
        (20.0, "Author", "Laureate"),
        (31.0, "Laureate", None),
    ],
)
def test_tiers(rating: float, tier: str, next_name: str | None) -> None:
    name, nxt = tier_of(rating)
    assert name == tier and (None if nxt is None else nxt[1]) == next_name


D = dt.date


@pytest.mark.parametrize(
    ("days", "current", "best"),
    [
        ([], 0, 0),
        ([DAY], 1, 1),
        ([DAY - dt.timedelta(days=1)], 1, 1),  # yesterday still counts
        ([DAY - dt.timedelta(days=2)], 0, 1),
        ([DAY, DAY, DAY - dt.timedelta(days=1)], 2, 2),  # two matches in one day
        ([D(2026, 11, 1), D(2026, 11, 2), D(2026, 11, 3), D(2026, 12, 1), DAY], 2, 3),
        ([D(2026, 2, 28), D(2026, 3, 1)], 0, 2),  # across a month end
    ],
)
def test_streaks(days: list[dt.date], current: int, best: int) -> None:
    assert streaks(days, DAY) == (current, best)


def test_nothing_played() -> None:
    p = summarise([], DAY, None)
    assert (p.matches, p.rating, p.tier, p.practise) == (0, None, "Newcomer", None)
    assert p.words_per_minute is None and p.review_helpfulness is None
    assert all(t.recent is None and t.series == () for t in p.traits)
    assert p.bests == {"overall": None, "words": None, "first_places": 0, "rating": None}


def test_trend_compares_the_recent_pieces_with_the_ones_before() -> None:
    early = [
        game(
            i,
            day=DAY - dt.timedelta(days=1),
            traits={**dict.fromkeys(map(str, TRAITS), 3), "voice": 2},
        )
        for i in range(RECENT)
    ]
    late = [
        game(100 + i, traits={**dict.fromkeys(map(str, TRAITS), 3), "voice": 4})
        for i in range(RECENT)
    ]
    p = summarise(list(reversed(early + late)), DAY, (25.0, 8.0))  # any order in
    voice = next(t for t in p.traits if t.trait == "voice")
    assert (voice.recent, voice.earlier, voice.trend) == (4.0, 2.0, 2.0)
    assert voice.series == (2,) * RECENT + (4,) * RECENT
    ideas = next(t for t in p.traits if t.trait == "ideas")
    assert (ideas.recent, ideas.earlier, ideas.trend) == (3.0, 3.0, 0.0)


def test_what_to_practise_is_the_weakest_recent_trait_ties_by_rubric_order() -> None:
    scores = dict.fromkeys(map(str, TRAITS), 4)
    scores.update({"conventions": 2, "organization": 2})
    p = summarise([game(1, traits=scores)], DAY, None)
    assert p.practise == "organization"  # before conventions in the rubric


def test_empty_pieces_are_not_scored_but_count_as_played() -> None:
    p = summarise([game(1, traits={}, overall=None, words=0), game(2, traits=5)], DAY, None)
    assert p.matches == 2 and all(t.series == (5,) for t in p.traits)
    assert p.words_per_minute == 30.0  # 120 words in the scored piece's 4 minutes


def test_rating_series_bests_and_helpfulness() -> None:
    games = [
        game(1, rank=1, rating_after=(26.0, 7.0), overall=4.5, words=200, helpfulness=(3, 5)),
        game(2, ranked=False, rank=1, overall=5.5),  # practice: no rating, no first place
        game(3, rank=3, rating_after=(27.0, 6.0), helpfulness=(4,)),
    ]
    p = summarise(games, DAY, (27.0, 6.0))
    assert p.rating == {"mu": 27.0, "sigma": 6.0, "conservative": 9.0}
    assert p.tier == "Apprentice" and p.next_tier == {"name": "Storyteller", "from": 10.0}
    assert [s["conservative"] for s in p.rating_series] == [5.0, 9.0]
    assert p.rating_series[0]["at"] == "2026-12-02T01:00:00Z"
    assert p.bests == {"overall": 5.5, "words": 200, "first_places": 1, "rating": 9.0}
    assert p.review_helpfulness == 4.0
    assert p.streak_days == 1 and p.best_streak_days == 1


@pytest.mark.parametrize(
    ("times", "seconds"),
    [
        ([], 0.0),
        ([100.0], 0.0),  # one edit: a paste, no writing time
        ([100.0, 104.0], 0.0),  # under MIN_WRITING_SECONDS: a burst
        ([100.0, 110.0], 10.0),
        ([100.0, 130.5, 340.0], 240.0),
        ([340.0, 100.0, 200.0], 240.0),  # any order
    ],
)
def test_writing_seconds_from_the_edit_log(times: list[float], seconds: float) -> None:
    assert writing_seconds(times) == seconds


def test_words_per_minute_leaves_out_pieces_without_writing_time() -> None:
    games = [
        game(1, words=120, write_seconds=240.0),
        game(2, words=500, write_seconds=0.0),  # pasted at once: no measurable time
    ]
    assert summarise(games, DAY, None).words_per_minute == 30.0
    assert summarise([game(3, write_seconds=0.0)], DAY, None).words_per_minute is None

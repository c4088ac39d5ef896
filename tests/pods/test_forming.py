"""Pod forming (pure): tables over time zones, availability, sizes and rematches."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.pods.forming import (
    MINUTES_PER_WEEK,
    SESSION_MINUTES,
    Candidate,
    OpenPod,
    Window,
    first_slot,
    form_pods,
    intersect,
    local_window,
    longest_slot,
    score_group,
    suggest,
    tz_distance,
    utc_windows,
)

MON, TUE, WED, SUN = 0, 1, 2, 6
TONGA, SAMOA, KIRIBATI, HAWAII, UTC, PARIS = 780, -660, 840, -600, 0, 60


def person(
    user: str,
    offset: int = UTC,
    windows: tuple[tuple[int, int, int], ...] = ((TUE, 17 * 60, 120),),
    rating: float = 10.0,
    goals: tuple[str, ...] = (),
    avoid: tuple[str, ...] = (),
) -> Candidate:
    """A writer free at ``(day, local start minute, minutes)`` in their own zone."""
    return Candidate(
        user=user,
        rating=rating,
        utc_offset=offset,
        windows=tuple(local_window(d, s, m, offset) for d, s, m in windows),
        goals=frozenset(goals),
        avoid=frozenset(avoid),
    )


@pytest.mark.parametrize(
    ("day", "start", "offset", "utc_start"),
    [
        (MON, 8 * 60, UTC, 8 * 60),
        (MON, 8 * 60, TONGA, (SUN * 1440 + 19 * 60)),  # Monday morning in Tonga: Sunday UTC
        (SUN, 8 * 60, SAMOA, (SUN * 1440 + 19 * 60)),  # Sunday morning in Samoa: the same
        (MON, 0, KIRIBATI, (SUN * 1440 + 10 * 60)),
        (SUN, 20 * 60, HAWAII, 6 * 60),  # Sunday evening in Hawaii is Monday UTC
        (WED, 12 * 60, PARIS, WED * 1440 + 11 * 60),
    ],
)
def test_local_windows_land_on_the_utc_week(
    day: int, start: int, offset: int, utc_start: int
) -> None:
    assert local_window(day, start, 60, offset).start == utc_start


@pytest.mark.parametrize(
    ("a", "b", "minutes"),
    [(TONGA, SAMOA, 0), (720, SAMOA, 60), (PARIS, UTC, 60), (KIRIBATI, HAWAII, 0), (UTC, 720, 720)],
)
def test_time_zone_distance_goes_round_the_clock(a: int, b: int, minutes: int) -> None:
    assert tz_distance(a, b) == tz_distance(b, a) == minutes


def test_a_window_past_sunday_midnight_wraps_to_monday() -> None:
    late = Window(MINUTES_PER_WEEK - 30, 90)
    assert late.segments() == [(MINUTES_PER_WEEK - 30, MINUTES_PER_WEEK), (0, 60)]
    free = utc_windows([late])
    assert longest_slot(free) == 90  # one run across the week's end
    assert first_slot(free, 60) == MINUTES_PER_WEEK - 30
    assert longest_slot(intersect(free, utc_windows([Window(0, 120)]))) == 60


@pytest.mark.parametrize(
    ("people", "pods", "waitlist"),
    [
        # Across the date line: Tonga's Monday morning is Samoa's Sunday morning.
        (
            [
                person("tonga-1", TONGA, ((MON, 8 * 60, 120),)),
                person("tonga-2", TONGA, ((MON, 8 * 60, 90),)),
                person("samoa-1", SAMOA, ((SUN, 8 * 60, 120),)),
                person("samoa-2", SAMOA, ((SUN, 7 * 60, 120),)),
            ],
            [["samoa-1", "samoa-2", "tonga-1", "tonga-2"]],
            [],
        ),
        # Same local hour, different days, no shared minute: nobody can meet.
        (
            [
                person("mon", UTC, ((MON, 18 * 60, 60),)),
                person("tue", UTC, ((TUE, 18 * 60, 60),)),
                person("wed", UTC, ((WED, 18 * 60, 60),)),
            ],
            [],
            ["mon", "tue", "wed"],
        ),
        # Overlap shorter than a session does not count.
        (
            [
                person("a", UTC, ((TUE, 17 * 60, 60),)),
                person("b", UTC, ((TUE, 17 * 60 + 30, 60),)),
                person("c", UTC, ((TUE, 17 * 60, 90),)),
            ],
            [],
            ["a", "b", "c"],
        ),
        # Two people are not a pod.
        ([person("a"), person("b")], [], ["a", "b"]),
        # Five who all fit: one pod of five (the fifth joins the pod of four).
        ([person(u) for u in "abcde"], [["a", "b", "c", "d", "e"]], []),
        # Seven: four and three.
        ([person(u) for u in "abcdefg"], [["a", "b", "c", "d"], ["e", "f", "g"]], []),
        # Eight, one never free with the others: pods, and the odd one waits.
        (
            [person(u) for u in "abcdefg"] + [person("z", UTC, ((WED, 6 * 60, 60),))],
            [["a", "b", "c", "d"], ["e", "f", "g"]],
            ["z"],
        ),
        # Levels: two beginners and two experts are not mixed when each side has a pod.
        (
            [person(f"low-{i}", rating=2.0 + i * 0.1) for i in range(3)]
            + [person(f"high-{i}", rating=30.0 + i * 0.1) for i in range(3)],
            [["high-0", "high-1", "high-2"], ["low-0", "low-1", "low-2"]],
            [],
        ),
    ],
)
def test_form_pods(people: list[Candidate], pods: list[list[str]], waitlist: list[str]) -> None:
    formed = form_pods(people)
    assert formed.pods == pods
    assert formed.waitlist == waitlist


def test_a_rematch_never_puts_the_leaver_back_with_the_same_members() -> None:
    old = ["b", "c", "d"]
    leaver = person("a", avoid=tuple(old))
    others = [person(u) for u in [*old, "e", "f", "g", "h"]]
    formed = form_pods([leaver, *others])
    mine = next(p for p in formed.pods if "a" in p)
    assert not set(mine) & set(old)
    assert len(mine) >= 3


def test_the_avoided_side_is_kept_apart_too() -> None:
    # Only the old members list the leaver: still never together.
    formed = form_pods([person("a"), person("b", avoid=("a",)), person("c"), person("d")])
    assert formed.pods == [["a", "c", "d"]] and formed.waitlist == ["b"]


def test_shared_goals_and_near_zones_score_higher() -> None:
    near = score_group([person("a", PARIS, goals=("voice",)), person("b", PARIS, goals=("voice",))])
    far = score_group(
        [
            person("a", PARIS, goals=("voice",)),
            person("b", PARIS + 300, ((TUE, 22 * 60, 120),), goals=("ideas",)),
        ]
    )
    assert near is not None and far is not None
    assert near.score > far.score
    assert "shared goals" in near.reasons and "shared goals" not in far.reasons
    assert near.parts["time_zone"] == 1.0 and far.parts["time_zone"] < 1.0


def test_suggestions_rank_open_pods_and_skip_full_or_avoided_ones() -> None:
    writer = person("w", rating=10.0, goals=("voice",), avoid=("x1",))
    pods = [
        OpenPod("close", tuple(person(f"c{i}", rating=10.0, goals=("voice",)) for i in range(3))),
        OpenPod("far", tuple(person(f"f{i}", rating=28.0) for i in range(3))),
        OpenPod("full", tuple(person(f"u{i}") for i in range(6))),
        OpenPod("avoided", (person("x1"), person("x2"), person("x3"))),
        OpenPod("never", tuple(person(f"n{i}", UTC, ((WED, 6 * 60, 60),)) for i in range(3))),
    ]
    got = suggest(writer, pods)
    assert [s.pod_id for s in got] == ["close", "far"]
    assert got[0].score > got[1].score
    assert "shared goals" in got[0].reasons
    assert got[0].slot_start == local_window(TUE, 17 * 60, 60, UTC).start


@pytest.mark.parametrize(
    "bad",
    [
        lambda: local_window(7, 0, 60, UTC),
        lambda: local_window(MON, 1440, 60, UTC),
        lambda: local_window(MON, 0, 60, 15 * 60),
        lambda: Window(0, 0),
        lambda: Window(MINUTES_PER_WEEK, 10),
        lambda: form_pods([], target=2),
    ],
)
def test_bad_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]


WINDOWS = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.integers(0, 23).map(lambda h: h * 60),
        st.sampled_from([45, 60, 120, 180]),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def crowds(draw: st.DrawFn) -> list[Candidate]:
    n = draw(st.integers(0, 14))
    users = [f"u{i:02d}" for i in range(n)]
    return [
        person(
            u,
            draw(st.sampled_from([TONGA, SAMOA, KIRIBATI, HAWAII, UTC, PARIS, 330, -300])),
            tuple(draw(WINDOWS)),
            draw(st.floats(0, 40)),
            tuple(draw(st.sets(st.sampled_from(["ideas", "voice", "organization"]), max_size=2))),
            tuple(draw(st.sets(st.sampled_from(users), max_size=3)) if users else ()),
        )
        for u in users
    ]


@settings(max_examples=200, deadline=None)
@given(crowds())
def test_every_formation_keeps_the_rules(people: list[Candidate]) -> None:
    formed = form_pods(people)
    placed = [u for pod in formed.pods for u in pod]
    assert sorted(placed + formed.waitlist) == sorted(p.user for p in people)  # once each
    by_user = {p.user: p for p in people}
    for pod in formed.pods:
        assert 3 <= len(pod) <= 6
        members = [by_user[u] for u in pod]
        fit = score_group(members)
        assert fit is not None  # a shared slot, nobody avoided
        assert longest_slot(fit.shared) >= SESSION_MINUTES
        assert all(not ((set(pod) - {m.user}) & m.avoid) for m in members)
    assert form_pods(list(reversed(people))) == formed  # the order of arrival does not matter

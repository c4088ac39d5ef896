"""Goal rules: met, status, progress toward the target, and the next-goal suggestions."""

from __future__ import annotations

import datetime as dt

import pytest

from server.ai.types import TRAITS
from server.goals.rules import is_met, progress, status, suggestions, valid_target
from server.progress.summary import TraitProgress

DAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("target", "ok"),
    [(1.0, True), (3.5, True), (6.0, True), (0.5, False), (6.5, False), (3.3, False)],
)
def test_valid_target(target: float, ok: bool) -> None:
    assert valid_target(target) is ok


@pytest.mark.parametrize(
    ("target", "recent", "due", "state"),
    [
        (4.0, None, None, "open"),  # nothing scored yet
        (4.0, 3.9, None, "open"),
        (4.0, 4.0, None, "met"),  # reaching the target is enough
        (4.0, 4.6, DAY - dt.timedelta(days=3), "met"),  # met, even when late
        (4.0, 3.0, DAY, "open"),  # the due day itself is not late
        (4.0, 3.0, DAY - dt.timedelta(days=1), "late"),
    ],
)
def test_status(target: float, recent: float | None, due: dt.date | None, state: str) -> None:
    assert status(target, recent, due, DAY) == state
    assert is_met(target, recent) is (state == "met")


@pytest.mark.parametrize(
    ("baseline", "recent", "target", "share"),
    [
        (None, None, 4.0, 0.0),
        (2.0, 2.0, 4.0, 0.0),
        (2.0, 3.0, 4.0, 0.5),
        (2.0, 4.5, 4.0, 1.0),  # capped
        (2.0, 1.0, 4.0, 0.0),  # fell below the start: 0, not negative
        (None, 2.5, 4.0, 0.5),  # no baseline: from 1, the lowest score
        (5.0, 4.0, 4.0, 1.0),  # the baseline was above the target (scores fell since)
    ],
)
def test_progress(
    baseline: float | None, recent: float | None, target: float, share: float
) -> None:
    assert progress(baseline, recent, target) == share


def traits(
    recent: dict[str, float | None], trend: dict[str, float] | None = None
) -> tuple[TraitProgress, ...]:
    trend = trend or {}
    out = []
    for t in map(str, TRAITS):
        r = recent.get(t, 3.0)
        d = trend.get(t, 0.0)
        earlier = None if r is None or t not in trend else r - d
        out.append(TraitProgress(t, r, earlier, d, ()))
    return tuple(out)


def plain(trait: str, target: float, tp: tuple[TraitProgress, ...]) -> list[tuple[str, float, str]]:
    return [(s.trait, s.target, s.why) for s in suggestions(trait, target, tp)]


@pytest.mark.parametrize(
    ("trait", "target", "recent", "trend", "expected"),
    [
        # the same trait a step higher, the weakest, the one falling most
        (
            "voice",
            4.0,
            {"voice": 4.1, "conventions": 2.2, "ideas": 3.4},
            {"ideas": -0.8},
            [("voice", 4.5, "step_up"), ("conventions", 2.5, "weakest"), ("ideas", 4.5, "falling")],
        ),
        # step up lands above where the writer already is
        (
            "voice",
            4.0,
            {"voice": 4.9, "conventions": 2.0},
            {},
            [("voice", 5.0, "step_up"), ("conventions", 2.5, "weakest"), ("ideas", 3.5, "weakest")],
        ),
        # met at the top: no step up; nothing falling: the next weakest fill in
        (
            "voice",
            6.0,
            {"voice": 6.0, "organization": 2.0, "presentation": 2.5},
            {},
            [
                ("organization", 2.5, "weakest"),
                ("presentation", 3.0, "weakest"),
                ("ideas", 3.5, "weakest"),
            ],
        ),
        # the weakest is also the falling one: the next falling takes the third place
        (
            "ideas",
            3.0,
            {"ideas": 3.0, "voice": 1.5, "conventions": 2.9},
            {"voice": -1.0, "conventions": -0.5},
            [("ideas", 3.5, "step_up"), ("voice", 2.0, "weakest"), ("conventions", 3.5, "falling")],
        ),
        # a trait never scored counts as the weakest; it starts at 3
        (
            "voice",
            3.0,
            {"voice": 3.0, "presentation": None},
            {},
            [
                ("voice", 3.5, "step_up"),
                ("presentation", 3.0, "weakest"),
                ("ideas", 3.5, "weakest"),
            ],
        ),
    ],
)
def test_suggestions(
    trait: str,
    target: float,
    recent: dict[str, float | None],
    trend: dict[str, float],
    expected: list[tuple[str, float, str]],
) -> None:
    got = plain(trait, target, traits(recent, trend))
    assert got == expected
    assert len({t for t, _, _ in got}) == 3 and all(1 <= g <= 6 for _, g, _ in got)

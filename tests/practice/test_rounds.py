"""Solo practice's rules (pure): what to practise, and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.ai.types import Prompt, Trait
from server.practice.rounds import Phase, choose, phase

PACK = [
    Prompt("v-mid", "A", "a", focus=Trait.VOICE, level="middle"),
    Prompt("i-mid", "B", "b", focus=Trait.IDEAS, level="middle"),
    Prompt("c-high", "C", "c", focus=Trait.CONVENTIONS, level="high"),
    Prompt("o-elem", "D", "d", focus=Trait.ORGANIZATION, level="elementary"),
]


@pytest.mark.parametrize(
    ("rating", "goal", "averages", "prompt", "focus", "why"),
    [
        (0.0, "voice", {"ideas": 1.0}, "v-mid", "voice", "goal"),  # the goal wins
        (0.0, None, {"ideas": 1.0, "voice": 3.0}, "i-mid", "ideas", "weakest"),
        (15.0, None, {"conventions": 2.0}, "c-high", "conventions", "weakest"),
        (-4.0, None, {}, "o-elem", "organization", "prompt"),  # nothing: a prompt at level
        (30.0, None, {}, "c-high", "conventions", "prompt"),  # adult: nearest level, high
        (0.0, "bogus", {"voice": 1.0}, "v-mid", "voice", "weakest"),  # unknown goal trait
        (-4.0, "voice", {}, "v-mid", "voice", "goal"),  # goal trait, nearest level
    ],
)
def test_choose(
    rating: float, goal: str | None, averages: dict[str, float], prompt: str, focus: str, why: str
) -> None:
    c = choose(PACK, rating, goal, averages, "seed")
    assert (c.prompt.id, c.focus.value, c.why) == (prompt, focus, why)


T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)
G = timedelta(seconds=5)


@pytest.mark.parametrize(
    ("now", "submitted", "expected"),
    [
        (T0 - timedelta(seconds=1), None, Phase.WRITING),
        (T0, None, Phase.WRITING),
        (T0 + G, None, Phase.WRITING),  # the grace
        (T0 + G + timedelta(microseconds=1), None, Phase.OVER),
        (T0 - timedelta(minutes=1), T0, Phase.SUBMITTED),
        (T0 + timedelta(hours=1), T0, Phase.SUBMITTED),
    ],
)
def test_phase(now: datetime, submitted: datetime | None, expected: Phase) -> None:
    assert phase(now, T0, G, submitted) is expected

"""A pod session's agenda (pure): the focus most members are weakest in, a prompt near
the pod's level; and the rating → level table."""

from __future__ import annotations

import pytest

from server.ai.types import Prompt, Trait
from server.pods.agenda import choose_prompt, level_for, pod_focus, pod_level, weakest_trait

P = {
    "ideas-mid": Prompt("ideas-mid", "A", "a", focus=Trait.IDEAS, level="middle"),
    "ideas-high": Prompt("ideas-high", "B", "b", focus=Trait.IDEAS, level="high"),
    "voice-elem": Prompt("voice-elem", "C", "c", focus=Trait.VOICE, level="elementary"),
    "voice-adult": Prompt("voice-adult", "D", "d", focus=Trait.VOICE, level="adult"),
    "voice-mid": Prompt("voice-mid", "E", "e", focus=Trait.VOICE, level="middle"),
    "voice-mid2": Prompt("voice-mid2", "F", "f", focus=Trait.VOICE, level="middle"),
    "conv-high": Prompt("conv-high", "G", "g", focus=Trait.CONVENTIONS, level="high"),
}
ALL = list(P.values())


@pytest.mark.parametrize(
    ("averages", "weakest"),
    [
        ({}, None),
        ({"voice": 2.0, "ideas": 3.0}, "voice"),
        ({"voice": 2.0, "ideas": 2.0}, "ideas"),  # tie: the rubric's order (ideas first)
        ({"conventions": 1.5, "presentation": 1.5, "voice": 4}, "conventions"),
        ({"presentation": 5.9}, "presentation"),
    ],
)
def test_weakest_trait(averages: dict[str, float], weakest: str | None) -> None:
    assert weakest_trait(averages) == weakest


@pytest.mark.parametrize(
    ("members", "goals", "focus"),
    [
        # two of three are weakest in voice
        (
            [{"voice": 2, "ideas": 4}, {"voice": 1, "ideas": 3}, {"ideas": 2, "voice": 5}],
            [],
            "voice",
        ),
        # one vote each: the lower mean over the members wins (ideas 3.0 < voice 3.33)
        (
            [{"voice": 2, "ideas": 4}, {"ideas": 1, "voice": 4}, {"ideas": 4, "voice": 4}],
            [],
            "ideas",
        ),
        # one vote each, same mean: the rubric's order
        ([{"voice": 2, "conventions": 3}, {"conventions": 2, "voice": 3}], [], "voice"),
        # members with no scores do not vote
        ([{}, {}, {"organization": 1, "ideas": 2}], [], "organization"),
        # nobody scored: the goal most often named, then rubric order
        ([{}, {}], [["voice", "conventions"], ["conventions"]], "conventions"),
        ([{}, {}], [["voice"], ["ideas"]], "ideas"),
        ([{}, {}], [], "ideas"),  # nothing at all
    ],
)
def test_pod_focus(members: list[dict[str, float]], goals: list[list[str]], focus: str) -> None:
    assert pod_focus(members, goals) == Trait(focus)


@pytest.mark.parametrize(
    ("rating", "level"),
    [
        (-30.0, "elementary"),
        (-0.01, "elementary"),
        (0.0, "middle"),
        (11.9, "middle"),
        (12.0, "high"),
        (23.99, "high"),
        (24.0, "adult"),
        (60.0, "adult"),
    ],
)
def test_level_for(rating: float, level: str) -> None:
    assert level_for(rating) == level


def test_pod_level_is_the_median() -> None:
    assert pod_level([-5.0, 13.0, 30.0]) == "high"
    assert pod_level([]) == "middle"
    assert pod_level([0.0, 0.0, 25.0, 25.0]) == "high"  # median 12.5


@pytest.mark.parametrize(
    ("focus", "level", "allowed"),
    [
        ("ideas", "middle", {"ideas-mid"}),
        ("ideas", "adult", {"ideas-high"}),  # nearest level that trains ideas
        ("ideas", "elementary", {"ideas-mid"}),
        ("voice", "middle", {"voice-mid", "voice-mid2"}),  # equals: the seed picks
        ("voice", "high", {"voice-adult"}),  # one step either way: the harder one first
        ("conventions", "elementary", {"conv-high"}),
        ("word_choice", "high", {"ideas-high", "conv-high"}),  # none trains it: nearest level
    ],
)
def test_choose_prompt(focus: str, level: str, allowed: set[str]) -> None:
    picked = {choose_prompt(ALL, focus, level, f"seed{i}").id for i in range(40)}  # type: ignore[arg-type]
    assert picked == allowed


def test_choose_prompt_is_deterministic_per_seed() -> None:
    one = choose_prompt(ALL, "voice", "middle", "pod-1:2026-12-01")
    assert all(choose_prompt(ALL, "voice", "middle", "pod-1:2026-12-01") == one for _ in range(5))
    with pytest.raises(ValueError):
        choose_prompt([], "voice", "middle", "x")


def test_the_real_pack_has_a_prompt_for_every_trait_choice() -> None:
    from server.ai.content import load_prompts

    pack = list(load_prompts().values())
    for trait in Trait:
        for lv in ("elementary", "middle", "high", "adult"):
            assert choose_prompt(pack, trait.value, lv, "s") in pack  # type: ignore[arg-type]

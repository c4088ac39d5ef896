"""What to practise next: the player's level, and the prompt chosen for a trait."""

from __future__ import annotations

import pytest

from server.ai.content import load_prompts
from server.ai.types import Level, Prompt, Trait
from server.progress.practise import level_for, pick_prompt


@pytest.mark.parametrize(
    ("rating", "grade", "level"),
    [
        (None, None, "middle"),  # never rated: where most of the pack is
        (-4.0, None, "elementary"),
        (4.99, None, "elementary"),
        (5.0, None, "middle"),
        (15.0, None, "high"),
        (30.0, None, "adult"),
        (30.0, 3, "elementary"),  # a class's grade decides for its students
        (-4.0, 7, "middle"),
        (None, 10, "high"),
        (None, 13, "adult"),
        (None, 0, "elementary"),
    ],
)
def test_level(rating: float | None, grade: int | None, level: str) -> None:
    assert level_for(rating, grade) == level


def p(pid: str, focus: Trait, level: Level) -> Prompt:
    return Prompt(id=pid, title=pid, text="", focus=focus, level=level)


PACK = [
    p("a", Trait.VOICE, "middle"),
    p("b", Trait.VOICE, "high"),
    p("c", Trait.IDEAS, "elementary"),
    p("d", Trait.VOICE, "middle"),
]


@pytest.mark.parametrize(
    ("trait", "level", "recent", "chosen", "trains"),
    [
        ("voice", "middle", (), "a", True),  # nearest level, pack order
        ("voice", "middle", ("a",), "d", True),  # not the one written lately
        ("voice", "middle", ("a", "d"), "a", True),  # the level beats novelty
        ("voice", "adult", (), "b", True),
        ("voice", "elementary", (), "a", True),
        ("ideas", "high", (), "c", True),  # the only one with that focus
        ("presentation", "elementary", (), "c", False),  # none: nearest of any focus
    ],
)
def test_pick_prompt(
    trait: str, level: Level, recent: tuple[str, ...], chosen: str, trains: bool
) -> None:
    assert pick_prompt(PACK, trait, level, recent) is not None
    got, focused = pick_prompt(PACK, trait, level, recent)  # type: ignore[misc]
    assert (got.id, focused) == (chosen, trains)


def test_no_prompts_no_choice() -> None:
    assert pick_prompt([], "voice", "middle") is None


def test_every_trait_gets_a_real_prompt_of_the_pack() -> None:
    pack = load_prompts()
    for trait in Trait:
        picked = pick_prompt(pack.values(), str(trait), "middle")
        assert picked is not None and picked[0].id in pack

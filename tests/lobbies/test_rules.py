"""Round rules: defaults from [match], every problem named, the prompt choices."""

from __future__ import annotations

from typing import Any

import pytest

from server.ai.content import load_prompts
from server.ai.types import Trait
from server.config import MatchSettings
from server.lobbies.rules import ANYTIME_FIELDS, RULE_FIELDS, LobbyRules, parse_rules

PROMPTS = load_prompts()
DEFAULTS = LobbyRules.defaults(MatchSettings(), bots=True)


def parse(raw: Any, bots: bool = True) -> tuple[LobbyRules, dict[str, str]]:
    return parse_rules(raw, DEFAULTS, PROMPTS, bots_allowed=bots)


def test_defaults_come_from_match_settings() -> None:
    assert DEFAULTS.write_seconds == MatchSettings().write_seconds
    assert (DEFAULTS.party_min, DEFAULTS.party_max) == (4, 6)
    assert DEFAULTS.anonymous and not DEFAULTS.ranked and DEFAULTS.prompt.kind == "random"
    assert parse(None) == (DEFAULTS, {})
    assert LobbyRules.from_plain(DEFAULTS.plain()) == DEFAULTS


def test_a_full_valid_body() -> None:
    pid = next(iter(PROMPTS))
    rules, problems = parse(
        {
            "write_seconds": 300,
            "focus": "voice",
            "prompt": {"kind": "pack", "id": pid},
            "party_min": 5,
            "party_max": 5,
            "split": "rating",
            "anonymous": False,
            "ranked": True,
        }
    )
    assert problems == {}
    assert rules.write_seconds == 300.0 and rules.focus is Trait.VOICE
    assert rules.prompt.id == pid and rules.split == "rating" and rules.party_min == 5
    assert rules.prompt_for_round(PROMPTS, "lobby", 1).id == pid
    assert LobbyRules.from_plain(rules.plain()) == rules


BAD = [
    ({"write_seconds": 0}, "settings.write_seconds"),
    ({"write_seconds": "long"}, "settings.write_seconds"),
    ({"lobby_seconds": True}, "settings.lobby_seconds"),
    ({"party_min": 3}, "settings.party_min"),
    ({"party_max": 7}, "settings.party_max"),
    ({"party_min": 6, "party_max": 5}, "settings.party_min"),
    ({"reviews_per_piece": 4}, "settings.reviews_per_piece"),
    ({"focus": "spelling"}, "settings.focus"),
    ({"split": "alphabetical"}, "settings.split"),
    ({"bots": "yes"}, "settings.bots"),
    ({"class_may_watch": "yes"}, "settings.class_may_watch"),
    ({"class_may_watch": None}, "settings.class_may_watch"),
    ({"colour": "red"}, "settings.colour"),
    ({"prompt": "lighthouse"}, "settings.prompt"),
    ({"prompt": {"kind": "pack", "id": "no-such-prompt"}}, "settings.prompt.id"),
    ({"prompt": {"kind": "level", "level": "phd"}}, "settings.prompt.level"),
    ({"prompt": {"kind": "custom", "title": "", "text": "Write."}}, "settings.prompt.title"),
    ({"prompt": {"kind": "custom", "title": "A\nB", "text": "W"}}, "settings.prompt.title"),
    ({"prompt": {"kind": "custom", "title": "T", "text": "x" * 1001}}, "settings.prompt.text"),
    ({"prompt": {"kind": "custom", "title": "T", "text": "a\x00"}}, "settings.prompt.text"),
    (
        {"prompt": {"kind": "custom", "title": "T", "text": "W", "image": "x.png"}},
        "settings.prompt.image",
    ),
    ({"prompt": {"kind": "mystery"}}, "settings.prompt.kind"),
    ({"prompt": {"kind": {}}}, "settings.prompt.kind"),
    ({"prompt": {"kind": "level", "level": {}}}, "settings.prompt.level"),
    ({"focus": {}}, "settings.focus"),
    ({"split": []}, "settings.split"),
]


@pytest.mark.parametrize(("raw", "where"), BAD)
def test_each_problem_is_named(raw: dict[str, Any], where: str) -> None:
    rules, problems = parse(raw)
    assert where in problems, problems
    assert rules == DEFAULTS  # nothing applied


def test_class_may_watch_is_off_until_asked_for_and_not_a_rule_of_the_round() -> None:
    assert DEFAULTS.class_may_watch is False
    rules, problems = parse({"class_may_watch": True})
    assert problems == {} and rules.class_may_watch is True
    assert LobbyRules.from_plain(rules.plain()) == rules
    assert rules.match_settings(MatchSettings()) == DEFAULTS.match_settings(MatchSettings())
    assert ANYTIME_FIELDS == {"class_may_watch"} <= RULE_FIELDS


def test_bots_cannot_be_asked_for_when_the_server_has_none() -> None:
    assert "settings.bots" in parse({"bots": True}, bots=False)[1]


def test_custom_prompt_uses_the_focus_and_leaves_the_image_to_come() -> None:
    rules, problems = parse(
        {
            "focus": "ideas",
            "prompt": {
                "kind": "custom",
                "title": "  Our school garden ",
                "text": "Describe the garden after the rain.",
                "image_description": "Wet tomato plants.",
                "level": "elementary",
            },
        }
    )
    assert problems == {}
    prompt = rules.prompt_for_round(PROMPTS, "3f1c2a9e-0000", 5)
    assert prompt.title == "Our school garden" and prompt.image == ""
    assert prompt.focus is Trait.IDEAS and prompt.level == "elementary"
    assert prompt.id == "custom-3f1c2a9e"


def test_a_level_prompt_changes_with_the_seed_within_the_level() -> None:
    level = next(iter(PROMPTS.values())).level
    rules, _ = parse({"prompt": {"kind": "level", "level": level}})
    chosen = {rules.prompt_for_round(PROMPTS, "l", seed).id for seed in range(40)}
    assert chosen and all(PROMPTS[p].level == level for p in chosen)

"""PartyRules: what is accepted after how long, and the mapping from settings."""

from __future__ import annotations

import math

import pytest

from matchmaker.party import PartyRules
from server.config import MatchmakerSettings, Settings

RULES = PartyRules()


@pytest.mark.parametrize(
    ("wait", "smallest", "max_spread", "min_closeness", "bots"),
    [
        (0.0, 6, 4.0, 0.9, False),
        (9.9, 6, 5.485, 0.801, False),
        (10.0, 5, 5.5, 0.8, False),
        (19.9, 5, 6.985, 0.701, False),
        (20.0, 4, 7.0, 0.7, False),
        (25.0, 4, 7.75, 0.65, False),
        (29.9, 4, 8.0, 0.601, False),
        (30.0, 4, 8.0, 0.6, True),
        (600.0, 4, 8.0, 0.6, True),
    ],
)
def test_loosening_table(
    wait: float, smallest: int, max_spread: float, min_closeness: float, bots: bool
) -> None:
    assert RULES.smallest_size(wait) == smallest
    assert RULES.max_spread(wait) == pytest.approx(max_spread)
    assert RULES.min_closeness(wait) == pytest.approx(min_closeness)
    assert RULES.wants_bots(wait) is bots


def test_from_settings() -> None:
    settings = Settings().replace(
        matchmaker={
            "party_min": 3,
            "party_max": 8,
            "accept_five_after_seconds": 5.0,
            "accept_four_after_seconds": 7.0,
            "bot_fill_after_seconds": 9.0,
        }
    )
    rules = PartyRules.from_settings(settings.matchmaker, bots_enabled=False)
    assert (rules.party_min, rules.party_max) == (3, 8)
    assert (rules.accept_five_after, rules.accept_four_after) == (5.0, 7.0)
    assert rules.bot_fill_after == 9.0
    assert rules.wants_bots(100.0) is False
    assert [rules.smallest_size(w) for w in (0.0, 5.0, 7.0)] == [8, 7, 3]
    default = PartyRules.from_settings(MatchmakerSettings())
    assert (default.party_min, default.party_max, default.bot_fill) == (4, 6, True)


@pytest.mark.parametrize(
    "changes",
    [
        {"party_min": 1},
        {"party_min": 5, "party_max": 4},
        {"beta": 0.0},
        {"spread_start": 9.0, "spread_cap": 8.0},
        {"closeness_floor": 0.95},
        {"max_seeds_per_tick": 0},
        {"max_parties_per_tick": 0},
        {"retry_seconds": -1.0},
    ],
)
def test_bad_rules_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PartyRules(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wait", "step", "bots"),
    [
        (0.0, 10.0, True),
        (10.0, 20.0, True),
        (25.0, 30.0, True),
        (30.0, math.inf, True),
        (25.0, math.inf, False),
    ],
)
def test_next_step(wait: float, step: float, bots: bool) -> None:
    assert PartyRules(bot_fill=bots).next_step(wait) == step

"""A solo practice round's rules, as pure functions of what they are given.

- **What to practise** (:func:`choose`): the focus is the trait of the writer's open goal
  (the oldest one not met) if they have one, else their weakest recent trait
  (:func:`server.pods.agenda.weakest_trait`), else the prompt's own; the level comes from
  the conservative rating (:func:`server.pods.agenda.level_for`); the prompt trains the
  focus near that level (:func:`server.pods.agenda.choose_prompt`), the seed (the round's
  id) choosing among equals.
- **The clock** (:func:`phase`): a round is *writing* until its deadline plus the grace,
  then *over*: the last draft saved is submitted (by whichever request sees it first).
  A submitted round is *submitted*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from server.ai.types import Level, Prompt, Trait
from server.pods import agenda


class Phase(StrEnum):
    WRITING = "writing"
    OVER = "over"  # past the deadline and the grace, not submitted yet
    SUBMITTED = "submitted"


@dataclass(frozen=True, slots=True)
class Choice:
    prompt: Prompt
    focus: Trait
    level: Level
    why: str  # "goal", "weakest" or "prompt": where the focus came from


def choose(
    prompts: Sequence[Prompt],
    rating: float,
    goal: str | None,
    averages: Mapping[str, float],
    seed: str,
) -> Choice:
    level = agenda.level_for(rating)
    focus: str | None
    if goal is not None and goal in {t.value for t in Trait}:
        focus, why = goal, "goal"
    else:
        focus, why = agenda.weakest_trait(averages), "weakest"
    if focus is None:
        prompt = agenda.choose_prompt(
            [p for p in prompts if p.level == level] or prompts, "", level, seed
        )
        return Choice(prompt, prompt.focus, level, "prompt")
    return Choice(agenda.choose_prompt(prompts, focus, level, seed), Trait(focus), level, why)


def phase(now: datetime, deadline: datetime, grace: timedelta, submitted: datetime | None) -> Phase:
    if submitted is not None:
        return Phase.SUBMITTED
    return Phase.WRITING if now <= deadline + grace else Phase.OVER

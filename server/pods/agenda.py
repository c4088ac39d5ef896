"""A pod session's agenda, and a practice prompt's choice: pure functions.

The *agenda* of a session is a focus trait and a prompt that trains it:

- :func:`weakest_trait` is one writer's weakest trait: the lowest average of their recent
  trait scores; ties go to the trait that comes first in the rubric's order
  (:data:`server.ai.types.TRAITS`); a writer with no scored piece has none.
- :func:`pod_focus` is the trait *most members* are weakest in (each member with a weakest
  trait gives it one vote); ties go to the trait with the lowest mean score over the
  members who have one, then to the rubric's order.  A pod where nobody has a score yet
  takes the first of the members' goal traits (most often named), else ``ideas``.
- :func:`level_for` turns a conservative rating (mu − 3 sigma) into a prompt level; the
  pod's level is that of its members' median conservative rating.
- :func:`choose_prompt` takes the prompts whose ``focus`` is the trait, at the level
  nearest the wanted one (same level first, then one step away — the harder one first —,
  and so on); among equally near ones the ``seed`` picks, so two pods do not always get
  the same prompt yet a pod's agenda is the same on every node.  No prompt trains the
  trait: the prompt nearest in level of any focus (the session's focus still applies).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean, median

from server.ai.types import TRAITS, Level, Prompt, Trait

LEVELS: tuple[Level, ...] = ("elementary", "middle", "high", "adult")
# Conservative rating (mu - 3 sigma) from which each level starts, lowest first.  A new
# account (25 - 3 * 25/3 = 0) writes at "middle", the pack's main level.
LEVEL_FROM: tuple[tuple[float, Level], ...] = (
    (float("-inf"), "elementary"),
    (0.0, "middle"),
    (12.0, "high"),
    (24.0, "adult"),
)
_ORDER: dict[str, int] = {t.value: i for i, t in enumerate(TRAITS)}


def level_for(rating: float) -> Level:
    """The prompt level for a conservative rating (:data:`LEVEL_FROM`)."""
    found: Level = LEVEL_FROM[0][1]
    for start, level in LEVEL_FROM:
        if rating >= start:
            found = level
    return found


def pod_level(ratings: Iterable[float]) -> Level:
    """The level of a group: that of its median conservative rating (0: nobody)."""
    values = list(ratings)
    return level_for(median(values) if values else 0.0)


def weakest_trait(averages: Mapping[str, float]) -> str | None:
    """The trait with the lowest average (ties: rubric order); None with no scores."""
    known = [t for t in TRAITS if t in averages]
    if not known:
        return None
    return min(known, key=lambda t: (averages[t], _ORDER[t]))


def pod_focus(members: Sequence[Mapping[str, float]], goals: Iterable[Iterable[str]] = ()) -> Trait:
    """The trait most members are weakest in (see the module's docstring)."""
    votes = Counter(w for m in members if (w := weakest_trait(m)) is not None)
    if votes:
        top = max(votes.values())
        tied = [t for t in votes if votes[t] == top]

        def mean(trait: str) -> float:
            return fmean(m[trait] for m in members if trait in m)

        return Trait(min(tied, key=lambda t: (mean(t), _ORDER[t])))
    named = Counter(g for gs in goals for g in gs if g in _ORDER)
    if named:
        top = max(named.values())
        return Trait(min((g for g in named if named[g] == top), key=_ORDER.__getitem__))
    return Trait.IDEAS


def _pick(seed: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % n


def _distance(a: Level, b: Level) -> tuple[int, int]:
    """How far level ``a`` is from the wanted ``b``; a harder one first at equal steps."""
    step = LEVELS.index(a) - LEVELS.index(b)
    return abs(step), 0 if step > 0 else 1


def choose_prompt(prompts: Sequence[Prompt], focus: str, level: Level, seed: str) -> Prompt:
    """A prompt that trains ``focus`` near ``level`` (see the module's docstring)."""
    if not prompts:
        raise ValueError("no prompts to choose from")
    pool = [p for p in prompts if p.focus.value == focus] or list(prompts)
    best = min(_distance(p.level, level) for p in pool)
    near = [p for p in pool if _distance(p.level, level) == best]
    return near[_pick(seed, len(near))]

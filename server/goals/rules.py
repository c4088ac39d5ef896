"""Goal rules (pure: no I/O; ``today`` is passed in).

A goal is met when the writer's recent average on its trait (the mean of the last
:data:`server.progress.summary.RECENT` scored pieces, as Me shows it) reaches the target.
Targets are 1..6 in half steps.  Progress toward a goal runs from the average when it
was set (its baseline; 1, the lowest score, when nothing was scored yet) to the target.

After a goal is met, :func:`suggestions` offers three next goals, each on a different
trait, in this order:

1. the same trait a step (:data:`STEP`) higher, unless it was already at the top (6);
2. the weakest trait now (lowest recent average, the rubric's order breaking ties);
3. the trait with the steepest falling trend (recent below earlier), back to where it was;

and where one of these is missing or names a trait already suggested, the next weakest
trait not yet suggested fills its place.  A suggested target is always a half step above
the trait's recent average at least (rounded up to the half step), and at most 6.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from server.progress.summary import TraitProgress

STEP = 0.5
LOW, HIGH = 1.0, 6.0
SUGGESTIONS = 3
Status = Literal["open", "late", "met"]
Why = Literal["step_up", "weakest", "falling"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    trait: str
    target: float
    why: Why

    def plain(self) -> dict[str, object]:
        return {"trait": self.trait, "target": self.target, "why": self.why}


def valid_target(value: float) -> bool:
    """1..6 in half steps."""
    return LOW <= value <= HIGH and (value * 2).is_integer()


def is_met(target: float, recent: float | None) -> bool:
    return recent is not None and recent >= target - 1e-9


def status(target: float, recent: float | None, due: dt.date | None, today: dt.date) -> Status:
    if is_met(target, recent):
        return "met"
    return "late" if due is not None and today > due else "open"


def progress(baseline: float | None, recent: float | None, target: float) -> float:
    """0..1 along the way from the baseline to the target."""
    if recent is None:
        return 0.0
    start = LOW if baseline is None else min(baseline, target)
    if target <= start:
        return 1.0 if recent >= target else 0.0
    return round(min(1.0, max(0.0, (recent - start) / (target - start))), 3)


def _above(average: float | None) -> float:
    """The next half step strictly above ``average`` (at most 6)."""
    if average is None:
        return 3.0
    return min(HIGH, math.floor(average / STEP + 1 + 1e-9) * STEP)


def suggestions(trait: str, target: float, traits: Sequence[TraitProgress]) -> list[Suggestion]:
    """Three next goals after meeting ``trait`` at ``target`` (see the module docstring)."""
    by_name = {t.trait: t for t in traits}
    order = {t.trait: i for i, t in enumerate(traits)}
    weakest = sorted(
        traits,
        key=lambda t: (t.recent if t.recent is not None else -1.0, order[t.trait]),
    )
    out: list[Suggestion] = []

    def add(name: str, goal: float, why: Why) -> None:
        if len(out) < SUGGESTIONS and all(s.trait != name for s in out) and goal <= HIGH:
            out.append(Suggestion(name, goal, why))

    if target + STEP <= HIGH:
        own = by_name.get(trait)
        add(trait, max(target + STEP, _above(own.recent if own else None)), "step_up")
    others = [t for t in weakest if t.trait != trait]
    if others:
        add(others[0].trait, _above(others[0].recent), "weakest")
    falling = sorted(
        (t for t in traits if t.trend < 0 and t.trait != trait),
        key=lambda t: (t.trend, order[t.trait]),
    )
    for t in falling:
        if all(s.trait != t.trait for s in out):
            earlier = t.earlier if t.earlier is not None else t.recent
            add(t.trait, max(_above(t.recent), min(HIGH, _half_up(earlier))), "falling")
            break
    for t in others:
        add(t.trait, _above(t.recent), "weakest")
    return out


def _half_up(value: float | None) -> float:
    return LOW if value is None else math.ceil(value / STEP - 1e-9) * STEP

"""What to practise next: the player's level and a real prompt that trains a trait (pure).

The level of a student in a class is their class's grade (``grade_level`` 0-13); anyone
else's follows their conservative rating (an account never rated: ``middle``, where most
of the prompt pack is).  The prompt is the pack's (``content/prompts``, ``focus`` and
``level``) nearest the level among those whose focus is the trait, preferring one the
player has not written on lately; when no prompt of the pack has that focus, the nearest
prompt of any focus is given with the trait as the focus to write for (a lobby or a solo
practice round may set the focus apart from the prompt).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from server.ai.types import Level, Prompt

LEVELS: tuple[Level, ...] = ("elementary", "middle", "high", "adult")
# Conservative rating from which each level starts (below the first: elementary).
RATING_LEVELS: tuple[tuple[float, Level], ...] = ((5.0, "middle"), (15.0, "high"), (25.0, "adult"))


def level_for(conservative: float | None, grade: int | None = None) -> Level:
    """A class's grade decides for its students; otherwise the conservative rating."""
    if grade is not None:
        if grade <= 5:
            return "elementary"
        if grade <= 8:
            return "middle"
        return "high" if grade <= 12 else "adult"
    if conservative is None:
        return "middle"
    level: Level = "elementary"
    for start, name in RATING_LEVELS:
        if conservative >= start:
            level = name
    return level


def pick_prompt(
    prompts: Iterable[Prompt], trait: str, level: Level, recent: Collection[str] = ()
) -> tuple[Prompt, bool] | None:
    """The prompt to practise ``trait`` on, and whether its own focus is that trait.

    Nearest level first, then one not among the ``recent`` prompt ids, then pack order.
    None only when there is no prompt at all.
    """
    pack = list(prompts)
    focused = [p for p in pack if str(p.focus) == trait]
    pool = focused or pack
    if not pool:
        return None
    want = LEVELS.index(level)

    def key(item: tuple[int, Prompt]) -> tuple[int, bool, int]:
        i, p = item
        return abs(LEVELS.index(p.level) - want), p.id in recent, i

    _, best = min(enumerate(pool), key=key)
    return best, bool(focused)

"""A writer's progress from their finished matches (pure: no I/O, no clock of its own).

Input: one :class:`Played` per finished match of the writer, any order, and ``today`` (a
UTC date, passed in so tests hold it still).  Output: a :class:`Progress` with

- the rating now and over time (mu, sigma, the conservative ``mu - 3 sigma``) and a
  mastery tier named from the conservative rating (:data:`TIERS`; a new account, 25 ± 8.3,
  starts at 0, *Newcomer*);
- per trait: the average over the last :data:`RECENT` scored pieces, the average of the
  ones before them, the trend (recent minus earlier; 0 when there is nothing earlier) and
  the series, oldest first;
- words per minute over the recent pieces (words / minutes of writing, where the minutes
  of a piece are :func:`writing_seconds` of its edit log; a piece with no measurable
  writing time, e.g. one edit, is left out of words per minute), the average
  helpfulness of the reviews the writer gave, streaks of UTC days with a match (the
  current one counts if the last match was today or yesterday);
- personal bests (overall score, words, rank 1 count, highest conservative rating);
- what to practise next: the weakest recent trait (ties: the trait order of the rubric),
  or nothing before the first scored piece.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from server.ai.types import TRAITS
from server.game.rating import conservative

RECENT = 10
MIN_WRITING_SECONDS = 10.0  # a shorter first-to-last edit span is no writing time
# Conservative rating (mu - 3 sigma) from which each tier starts, lowest first.
TIERS: tuple[tuple[float, str], ...] = (
    (float("-inf"), "Newcomer"),
    (5.0, "Apprentice"),
    (10.0, "Storyteller"),
    (15.0, "Wordsmith"),
    (20.0, "Author"),
    (25.0, "Laureate"),
)


@dataclass(frozen=True, slots=True)
class Played:
    """One finished match of the writer."""

    match_id: str
    finished_at: dt.datetime  # aware, UTC
    ranked: bool
    rank: int | None
    words: int
    write_seconds: float  # writing time of the piece (writing_seconds of its edit log)
    traits: dict[str, int] = field(default_factory=dict)  # empty: not scored (empty piece)
    overall: float | None = None
    helpfulness: tuple[int, ...] = ()  # of the reviews the writer gave
    rating_after: tuple[float, float] | None = None  # mu, sigma after a ranked match


@dataclass(frozen=True, slots=True)
class TraitProgress:
    trait: str
    recent: float | None
    earlier: float | None
    trend: float
    series: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    matches: int
    rating: dict[str, float] | None  # mu, sigma, conservative
    tier: str
    next_tier: dict[str, object] | None  # name and the conservative rating it starts at
    rating_series: tuple[dict[str, str | float], ...]
    traits: tuple[TraitProgress, ...]
    words_per_minute: float | None
    review_helpfulness: float | None
    streak_days: int
    best_streak_days: int
    bests: dict[str, object]
    practise: str | None


def _rating(mu: float, sigma: float) -> dict[str, float]:
    return {
        "mu": round(mu, 3),
        "sigma": round(sigma, 3),
        "conservative": round(conservative(mu, sigma), 3),
    }


def tier_of(rating: float) -> tuple[str, tuple[float, str] | None]:
    """The tier a conservative rating is in, and the next one (None at the top)."""
    index = max(i for i, (start, _) in enumerate(TIERS) if rating >= start)
    nxt = TIERS[index + 1] if index + 1 < len(TIERS) else None
    return TIERS[index][1], nxt


def streaks(days: Iterable[dt.date], today: dt.date) -> tuple[int, int]:
    """(current, best) runs of consecutive days; the current run must reach yesterday."""
    ordered = sorted(set(days))
    best = run = 0
    prev: dt.date | None = None
    for day in ordered:
        run = run + 1 if prev is not None and (day - prev).days == 1 else 1
        best = max(best, run)
        prev = day
    current = run if prev is not None and (today - prev).days <= 1 else 0
    return current, best


def writing_seconds(edit_times: Iterable[float], least: float = MIN_WRITING_SECONDS) -> float:
    """A piece's writing time from the server times (seconds) of its edits: first to last.

    The schema keeps no write-phase length per piece, and the phase length is not the time
    spent writing (a writer may start late or finish early), so the edit log decides.
    Fewer than two edits, or a span under ``least`` seconds (one paste, a burst), is not a
    measurable writing time: 0.0, and the piece is left out of words per minute.
    """
    times = list(edit_times)
    if len(times) < 2:
        return 0.0
    span = max(times) - min(times)
    return round(span, 3) if span >= least else 0.0


def _avg(values: Sequence[float]) -> float | None:
    return round(fmean(values), 2) if values else None


def trait_progress(scored: Sequence[Played]) -> tuple[TraitProgress, ...]:
    out = []
    for trait in TRAITS:
        series = tuple(p.traits[trait] for p in scored if trait in p.traits)
        recent, earlier = series[-RECENT:], series[:-RECENT][-RECENT:]
        r, e = _avg(recent), _avg(earlier)
        trend = round(r - e, 2) if r is not None and e is not None else 0.0
        out.append(TraitProgress(str(trait), r, e, trend, series))
    return tuple(out)


def weakest(traits: Sequence[TraitProgress]) -> str | None:
    """The trait with the lowest recent average (the rubric's order breaks ties)."""
    rated = [(t.recent, i, t.trait) for i, t in enumerate(traits) if t.recent is not None]
    return min(rated)[2] if rated else None


def summarise(
    played: Iterable[Played], today: dt.date, current: tuple[float, float] | None
) -> Progress:
    """The whole progress; ``current`` is the rating row now (None: never rated)."""
    games = sorted(played, key=lambda p: (p.finished_at, p.match_id))
    scored = [p for p in games if p.traits]
    traits = trait_progress(scored)
    timed = [p for p in scored[-RECENT:] if p.write_seconds > 0]
    minutes = sum(p.write_seconds for p in timed) / 60
    wpm = round(sum(p.words for p in timed) / minutes, 1) if minutes > 0 else None
    helpful = [h for p in games[-RECENT:] for h in p.helpfulness]
    points = [(p, p.rating_after) for p in games if p.rating_after is not None]
    series = tuple(
        {"match_id": p.match_id, "at": p.finished_at.isoformat().replace("+00:00", "Z")}
        | _rating(*after)
        for p, after in points
    )
    rating = None if current is None else _rating(*current)
    tier, nxt = tier_of(rating["conservative"] if rating is not None else float("-inf"))
    now_streak, best_streak = streaks(
        (p.finished_at.astimezone(dt.UTC).date() for p in games), today
    )
    bests: dict[str, object] = {
        "overall": max((p.overall for p in scored if p.overall is not None), default=None),
        "words": max((p.words for p in games), default=None),
        "first_places": sum(1 for p in games if p.ranked and p.rank == 1),
        "rating": max((round(conservative(*a), 3) for _, a in points), default=None),
    }
    return Progress(
        matches=len(games),
        rating=rating,
        tier=tier,
        next_tier=None if nxt is None else {"name": nxt[1], "from": nxt[0]},
        rating_series=series,
        traits=traits,
        words_per_minute=wpm,
        review_helpfulness=_avg(helpful),
        streak_days=now_streak,
        best_streak_days=best_streak,
        bests=bests,
        practise=weakest(traits),
    )

"""Study pods: who writes well together, as a pure module (no I/O, no clock).

A *pod* is a standing group of :data:`MIN_SIZE`–:data:`MAX_SIZE` writers who meet once a
week.  Whether a group can be a pod, and how good a pod it is, is decided here from what
each writer tells us:

- **availability**, weekly windows in their own time zone, turned into minutes of the
  UTC week (:class:`Window`, :func:`utc_windows`).  The week is a circle: a window that
  runs past Sunday midnight UTC wraps to Monday, which is what makes time zones across
  the date line work (Tonga's Monday morning is Samoa's Sunday morning is Sunday evening
  in UTC).  A pod must share at least ``session_minutes`` of one window: that is a hard
  rule, everything else is a preference;
- **level**, the conservative rating (mu − 3 sigma): a close spread is better;
- **time zone**, the UTC offset: nearer is better even with a shared window (the session
  falls at a sane hour for everyone), measured round the clock so +12 and −11 are one
  hour apart;
- **goals**, the traits they are working on: shared goals make a shared agenda.

:func:`score_group` weighs these into 0..1 with its reasons; :func:`form_pods` makes pods
out of people waiting (the most constrained first, each pod grown greedily by the best
addition) and puts everyone who fits nowhere on the waitlist; :func:`suggest` ranks the
open pods one writer may join.  A writer's ``avoid`` set (the members of the pod they
just left, for a *rematch*) is a hard rule both ways: they are never put back with any
of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MIN_SIZE = 3
MAX_SIZE = 6
TARGET_SIZE = 4  # a new pod grows to this; later joiners fill it up to MAX_SIZE
SESSION_MINUTES = 45
RATING_SPREAD = 12.0  # a spread of conservative ratings this wide scores 0 for level
GOOD_FIT = 0.5  # past MIN_SIZE, a pod takes another member only if it still fits this well
WEIGHTS = {"availability": 0.3, "level": 0.35, "time_zone": 0.15, "goals": 0.2}


@dataclass(frozen=True, slots=True)
class Window:
    """``minutes`` from ``start``, a minute of the UTC week (0 = Monday 00:00 UTC)."""

    start: int
    minutes: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_WEEK:
            raise ValueError("start must be a minute of the week (0..10079)")
        if not 0 < self.minutes <= MINUTES_PER_WEEK:
            raise ValueError("a window lasts 1..10080 minutes")

    def segments(self) -> list[tuple[int, int]]:
        """The window as half-open ``[a, b)`` pieces of ``[0, MINUTES_PER_WEEK)``."""
        end = self.start + self.minutes
        if end <= MINUTES_PER_WEEK:
            return [(self.start, end)]
        return [(self.start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]


def local_window(day: int, start_minute: int, minutes: int, utc_offset: int) -> Window:
    """A window given in local time: ``day`` 0 = Monday, ``start_minute`` of that day,
    ``utc_offset`` in minutes east of UTC (e.g. +780 for Tonga, -660 for Samoa)."""
    if not 0 <= day < 7:
        raise ValueError("day must be 0 (Monday) .. 6 (Sunday)")
    if not 0 <= start_minute < MINUTES_PER_DAY:
        raise ValueError("start_minute must be 0..1439")
    if not -14 * 60 <= utc_offset <= 14 * 60:
        raise ValueError("utc_offset must be within ±14 hours")
    return Window((day * MINUTES_PER_DAY + start_minute - utc_offset) % MINUTES_PER_WEEK, minutes)


def _merge(segments: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(segments):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def utc_windows(windows: Iterable[Window]) -> list[tuple[int, int]]:
    """Someone's availability as sorted, merged ``[a, b)`` segments of the UTC week."""
    return _merge(seg for w in windows for seg in w.segments())


def intersect(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The minutes both segment lists cover (both sorted and merged)."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _runs(segments: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The segments as ``(start, minutes)`` runs in week order, the one that wraps round
    the week's end (last segment into the first) counted once, from its start."""
    runs = [(a, b - a) for a, b in segments]
    if len(runs) > 1 and segments[0][0] == 0 and segments[-1][1] == MINUTES_PER_WEEK:
        first = runs.pop(0)
        runs[-1] = (runs[-1][0], runs[-1][1] + first[1])
    return runs


def longest_slot(segments: Sequence[tuple[int, int]]) -> int:
    """The longest run of shared minutes, counting a run that wraps round the week."""
    return max((m for _, m in _runs(segments)), default=0)


def first_slot(segments: Sequence[tuple[int, int]], minutes: int) -> int | None:
    """The first minute of the week where a run of ``minutes`` shared minutes starts."""
    return next((a for a, m in _runs(segments) if m >= minutes), None)


@dataclass(frozen=True)
class Candidate:
    """One writer looking for (or in) a pod."""

    user: str
    rating: float  # conservative: mu - 3 sigma
    utc_offset: int  # minutes east of UTC
    windows: tuple[Window, ...]
    goals: frozenset[str] = frozenset()
    avoid: frozenset[str] = frozenset()  # users never to be put with (a rematch)
    free: list[tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "free", utc_windows(self.windows))


@dataclass(frozen=True, slots=True)
class Fit:
    """How good a group is, 0..1, and the parts it was computed from."""

    score: float
    parts: dict[str, float]
    shared: list[tuple[int, int]]  # the minutes of the week they all have

    @property
    def reasons(self) -> list[str]:
        """The parts, best first, as words a writer reads on the suggestion."""
        names = {
            "availability": "shared free time",
            "level": "a similar level",
            "time_zone": "nearby time zones",
            "goals": "shared goals",
        }
        ranked = sorted(self.parts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [names[k] for k, v in ranked if v >= 0.5]


def tz_distance(a: int, b: int) -> int:
    """Minutes between two UTC offsets round the clock (+12:00 and -11:00 are 60)."""
    d = abs(a - b) % MINUTES_PER_DAY
    return min(d, MINUTES_PER_DAY - d)


def compatible(a: Candidate, b: Candidate) -> bool:
    return b.user not in a.avoid and a.user not in b.avoid


def score_group(members: Sequence[Candidate], session_minutes: int = SESSION_MINUTES) -> Fit | None:
    """The group's fit, or None if it cannot be a pod (no shared slot of
    ``session_minutes``, or two members who must not meet)."""
    if not members:
        return None
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            if a.user == b.user or not compatible(a, b):
                return None
    shared = members[0].free
    for m in members[1:]:
        shared = intersect(shared, m.free)
    slot = longest_slot(shared)
    if slot < session_minutes:
        return None
    ratings = [m.rating for m in members]
    offsets = [m.utc_offset for m in members]
    widest = max(tz_distance(a, b) for a in offsets for b in offsets)
    if len(members) > 1:
        pairs = [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
        goals = sum(
            len(a.goals & b.goals) / len(a.goals | b.goals) if a.goals | b.goals else 0.0
            for a, b in pairs
        ) / len(pairs)
    else:
        goals = 1.0 if members[0].goals else 0.0
    parts = {
        "availability": min(1.0, slot / (2 * session_minutes)),
        "level": max(0.0, 1.0 - (max(ratings) - min(ratings)) / RATING_SPREAD),
        "time_zone": 1.0 - widest / (12 * 60),
        "goals": goals,
    }
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    return Fit(round(score, 6), {k: round(v, 6) for k, v in parts.items()}, shared)


@dataclass(frozen=True, slots=True)
class Formation:
    pods: list[list[str]]  # user ids, each pod sorted
    waitlist: list[str]  # sorted


def form_pods(
    waiting: Sequence[Candidate],
    *,
    session_minutes: int = SESSION_MINUTES,
    target: int = TARGET_SIZE,
    min_size: int = MIN_SIZE,
    max_size: int = MAX_SIZE,
) -> Formation:
    """Pods of ``min_size``..``max_size`` from the people waiting; the rest wait on.

    Deterministic (ties go by user id).  The most constrained writer (the fewest others
    they could share a pod with) seeds each pod, which then takes the addition that keeps
    the best fit until it reaches ``target`` (past ``min_size``, only while the fit stays
    :data:`GOOD_FIT`: the rest may make a better pod of their own); someone left over
    joins the formed pod they fit best, if it has room and still fits that well; whoever
    fits nowhere is on the waitlist."""
    if not min_size <= target <= max_size:
        raise ValueError("sizes must satisfy min_size <= target <= max_size")
    people = sorted({c.user: c for c in waiting}.values(), key=lambda c: c.user)
    pair_ok = {
        (a.user, b.user)
        for a in people
        for b in people
        if a.user != b.user and score_group([a, b], session_minutes) is not None
    }
    degree = {c.user: sum((c.user, o.user) in pair_ok for o in people) for c in people}
    order = sorted(people, key=lambda c: (degree[c.user], c.user))
    free = {c.user for c in people}
    pods: list[list[Candidate]] = []
    for seed in order:
        if seed.user not in free:
            continue
        pod = [seed]
        while len(pod) < target:
            best: tuple[float, str, Candidate] | None = None
            for c in order:
                if c.user not in free or c in pod:
                    continue
                if not all((p.user, c.user) in pair_ok for p in pod):
                    continue
                fit = score_group([*pod, c], session_minutes)
                if fit is None or (len(pod) >= min_size and fit.score < GOOD_FIT):
                    continue
                if best is None or (fit.score, best[1]) > (best[0], c.user):
                    best = (fit.score, c.user, c)  # ties go to the smaller user id
            if best is None:
                break
            pod.append(best[2])
        if len(pod) >= min_size:
            pods.append(pod)
            free -= {p.user for p in pod}
    for c in order:  # left over: the best formed pod with room
        if c.user not in free:
            continue
        options = [
            (fit.score, i)
            for i, pod in enumerate(pods)
            if len(pod) < max_size
            and (fit := score_group([*pod, c], session_minutes)) is not None
            and fit.score >= GOOD_FIT
        ]
        if options:
            _, i = max(options, key=lambda o: (o[0], -o[1]))
            pods[i].append(c)
            free.discard(c.user)
    return Formation(
        pods=sorted(sorted(p.user for p in pod) for pod in pods),
        waitlist=sorted(free),
    )


@dataclass(frozen=True, slots=True)
class OpenPod:
    pod_id: str
    members: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    pod_id: str
    score: float
    reasons: list[str]
    slot_start: int  # the first minute of the UTC week where a session fits them all


def suggest(
    writer: Candidate,
    pods: Sequence[OpenPod],
    *,
    session_minutes: int = SESSION_MINUTES,
    max_size: int = MAX_SIZE,
    limit: int = 5,
) -> list[Suggestion]:
    """The open pods ``writer`` could join, best first (at most ``limit``): those with room,
    without anyone the writer must avoid, still sharing a session slot with them."""
    out: list[Suggestion] = []
    for pod in pods:
        if len(pod.members) >= max_size or any(m.user == writer.user for m in pod.members):
            continue
        fit = score_group([*pod.members, writer], session_minutes)
        if fit is None:
            continue
        slot = first_slot(fit.shared, session_minutes)
        assert slot is not None  # score_group checked the longest slot
        out.append(Suggestion(pod.pod_id, fit.score, fit.reasons, slot))
    out.sort(key=lambda s: (-s.score, s.pod_id))
    return out[:limit]

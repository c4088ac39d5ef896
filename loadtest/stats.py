"""Histograms, percentiles and the tallies a worker sends to the parent (plain dicts).

No I/O.  A :class:`Histogram` keeps counts of values rounded to about 1 % (0.1 ms under
10 ms), so a long run with many players stays small and two histograms merge by adding.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


def bucket(value: float) -> float:
    """``value`` rounded to its bucket: 0.1 under 10, else two significant digits plus."""
    if value < 10:
        return round(value, 1)
    digits = math.floor(math.log10(abs(value))) - 2
    return float(round(value, -digits))


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of an ascending list; ``None`` if empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Histogram:
    def __init__(self, counts: dict[float, int] | None = None) -> None:
        self.counts: Counter[float] = Counter(counts or {})
        self.max: float | None = None
        if self.counts:
            self.max = max(self.counts)

    def add(self, value: float) -> None:
        self.counts[bucket(value)] += 1
        if self.max is None or value > self.max:
            self.max = value

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)
        if other.max is not None and (self.max is None or other.max > self.max):
            self.max = other.max

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def percentile(self, q: float) -> float | None:
        total = self.n
        if not total:
            return None
        rank = max(1, math.ceil(q / 100 * total))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return None  # pragma: no cover - unreachable

    def summary(self, qs: Iterable[int], with_max: bool = False) -> dict[str, float | None]:
        out: dict[str, float | None] = {f"p{q}": self.percentile(q) for q in qs}
        if with_max:
            out["max"] = None if self.max is None else round(self.max, 1)
        return out

    def dump(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "max": self.max}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Histogram:
        h = cls(data["counts"])
        h.max = data["max"]
        return h


HISTOGRAMS = (
    "latency_ms",
    "ack_ms",
    "deadline_jitter_ms",
    "time_to_match_ms",
    "client_lag_ms",
    "spectator_client_lag_ms",
    "spectator_lag_ms",
)
COUNTS = (
    "players_connected",
    "players_in_match",
    "edits",
    "reviews",
    "drops",
    "resumes",
    "snapshots",
    "events",
)


def text_hash(text: str) -> str:
    """A short digest of a draft's text (the ledger keeps these, not the texts)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def seat_record(match_id: str, player_id: str) -> dict[str, Any]:
    """One seat in the ledger: what the player had acknowledged (plain data, crosses
    processes).  ``seqs``: draft seq sent → hash of the text the player had then."""
    return {
        "match": match_id,
        "player": player_id,
        "node": "",
        "alias": "",
        "matched_at": None,
        "seqs": {},
        "acked_seq": 0,
        "reviews": [],
        "results": False,
        "mu_after": None,
        "saved": None,
        "closed_reason": None,
        "unfinished": False,
    }


ERROR_SAMPLES = 5  # messages kept per error code


@dataclass
class Tally:
    """What a worker measured; :meth:`dump`/:meth:`load` cross the process boundary."""

    hist: dict[str, Histogram] = field(default_factory=lambda: {k: Histogram() for k in HISTOGRAMS})
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: dict[str, list[str]] = field(default_factory=dict)
    """code → the first few messages (to tell what an error was about)."""
    closes: Counter[str] = field(default_factory=Counter)
    started: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    expected: set[tuple[str, str]] = field(default_factory=set)
    """(match_id, player_id) of seats whose non-empty draft was acknowledged."""
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``"<match> <player>"`` → :func:`seat_record` (kept only when asked: drills)."""

    def dump(self) -> dict[str, Any]:
        return {
            "hist": {k: h.dump() for k, h in self.hist.items()},
            "counts": dict(self.counts),
            "errors": dict(self.errors),
            "error_samples": self.error_samples,
            "closes": dict(self.closes),
            "started": sorted(self.started),
            "completed": sorted(self.completed),
            "closed": sorted(self.closed),
            "expected": sorted(self.expected),
            "ledger": self.ledger,
        }

    def merge_dump(self, data: dict[str, Any]) -> None:
        for k, h in data["hist"].items():
            self.hist[k].merge(Histogram.load(h))
        self.counts.update(data["counts"])
        self.errors.update(data["errors"])
        for code, messages in (data.get("error_samples") or {}).items():
            self.sample_error(code, *messages)
        self.closes.update(data["closes"])
        self.started.update(data["started"])
        self.completed.update(data["completed"])
        self.closed.update(data["closed"])
        self.expected.update(tuple(x) for x in data["expected"])
        self.ledger.update(data.get("ledger") or {})

    def sample_error(self, code: str, *messages: str) -> None:
        kept = self.error_samples.setdefault(code, [])
        kept += messages[: max(0, ERROR_SAMPLES - len(kept))]

    @property
    def aborted(self) -> set[str]:
        return self.closed - self.completed

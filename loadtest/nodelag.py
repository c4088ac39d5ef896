"""The nodes' own event-loop lag over a run, read from their ``/metrics``.

The latencies the players measure include the load generator's own loop delay; on a
machine where the generator saturates its core, they say more about the generator than
about the node.  Each node records how late a task sleeping 0.1 s was woken
(``quill_event_loop_lag_seconds``, server/gctune.py): the difference between the
histogram at the end and at the start of the run is the node's part alone.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable

METRIC = "quill_event_loop_lag_seconds_bucket"
_LINE = re.compile(r'^quill_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$')

Buckets = dict[float, float]  # upper bound (s) → cumulative count


def scrape(base_url: str, timeout: float = 5.0) -> Buckets | None:
    """The node's loop-lag histogram now, or None if its /metrics cannot be read."""
    try:
        with urllib.request.urlopen(base_url + "/metrics", timeout=timeout) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return parse(text)


def parse(text: str) -> Buckets:
    out: Buckets = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = float(m.group(2))
    return out


def summary(pairs: Iterable[tuple[Buckets | None, Buckets | None]]) -> dict[str, float | None]:
    """p50 / p99 / max bucket (upper bounds, ms) of all nodes' lag during the run."""
    total: Buckets = {}
    for before, after in pairs:
        if before is None or after is None:
            continue
        for le, n in after.items():
            total[le] = total.get(le, 0.0) + n - before.get(le, 0.0)
    bounds = sorted(total)
    count = total.get(float("inf"), 0.0)
    if not bounds or count <= 0:
        return {"p50": None, "p99": None, "max_bucket": None, "samples": 0}

    def upper(q: float) -> float | None:
        """The upper bound of the bucket holding the q-quantile (None: above the last)."""
        le = next(b for b in bounds if total[b] >= q * count)
        return None if le == float("inf") else round(le * 1000, 1)

    return {
        "p50": upper(0.50),
        "p99": upper(0.99),
        "max_bucket": upper(1.0),
        "samples": int(count),
    }

"""Garbage-collector pauses with and without :mod:`server.gctune`: ``python -m server.gcbench``.

Builds a heap like a busy node's (``--seats`` connections with their seat, send queue and
session dicts; one match per six seats with drafts, edit logs and its record log; the
server's modules imported), then for each setting:

* times ``--full`` full collections (``gc.collect()``) of that heap;
* runs a message churn (``--messages`` short-lived frames, one edit in ten kept in a
  draft, as the match logs do) and times every automatic collection through
  ``gc.callbacks``, by generation.

Settings: ``default`` (CPython's thresholds, nothing frozen), ``frozen once`` (the heap
frozen after start-up only), ``tuned`` (what :mod:`server.gctune` does: frozen after
start-up and again every ``--refreeze`` messages, ``gctune.THRESHOLDS``), and any
``--threshold a,b,c`` given (frozen and re-frozen like ``tuned``).
Prints one table (pauses in milliseconds; ``gc/cpu`` is the share of the churn's time
spent collecting); nothing is written.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server import gctune

DEFAULT = (700, 10, 10)


@dataclass
class FakeConnection:
    player: str
    session: dict[str, Any]
    queue: deque[bytes] = field(default_factory=deque)
    seen: list[int] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)


@dataclass
class FakeSeat:
    player: str
    draft: str
    edits: list[dict[str, Any]]
    scores: dict[str, int]
    conn: FakeConnection | None = None


@dataclass
class FakeMatch:
    match_id: str
    seats: list[FakeSeat]
    log: list[dict[str, Any]]
    by_player: dict[str, FakeSeat]


def build_heap(seats: int) -> list[FakeMatch]:
    matches: list[FakeMatch] = []
    for m in range(seats // 6 + 1):
        members: list[FakeSeat] = []
        for s in range(6):
            n = m * 6 + s
            conn = FakeConnection(
                player=f"player-{n}",
                session={"sid": f"s{n}", "issued": n, "roles": ["player"], "codec": "json"},
                queue=deque(f'{{"t":"draft.ack","seq":{i}}}'.encode() for i in range(4)),
                seen=list(range(8)),
                counters={"in": n, "out": n * 2, "refused": 0},
            )
            edits = [{"seq": i, "pos": i * 5, "insert": "word ", "at": i * 0.5} for i in range(40)]
            seat = FakeSeat(conn.player, "word " * 200, edits, {"ideas": 3, "voice": 4}, conn)
            conn.counters["seat"] = id(seat)
            members.append(seat)
        log = [{"at": i * 0.1, "kind": "edit", "player": f"player-{i % 6}"} for i in range(300)]
        matches.append(FakeMatch(f"m{m}", members, log, {x.player: x for x in members}))
    return matches


def churn(matches: Sequence[FakeMatch], messages: int, refreeze: int = 0) -> None:
    """Frames in and out.  One edit in ten is kept in its seat's draft log (as matches
    do); one message in four leaves a small reference cycle behind (as an asyncio future
    and its done-callback, or a caught exception and its frame, do), which only the
    collector frees."""
    for i in range(messages):
        match = matches[i % len(matches)]
        seat = match.seats[i % 6]
        op = {"pos": i % 100, "insert": "a"}
        frame: dict[str, Any] = {"t": "draft.edit", "d": {"seq": i, "ops": [op]}}
        event = {"t": "match.progress", "d": {"words": {s.player: i for s in match.seats}}}
        encoded = [str(frame), str(event)]
        if i % 10 == 0:
            seat.edits.append(frame["d"])
        if i % 4 == 0:
            future: dict[str, Any] = {"result": encoded}
            future["callbacks"] = [future]
        del op, frame, event, encoded
        if refreeze and i % refreeze == refreeze - 1:
            gctune.freeze(young_only=True)  # what gctune does every REFREEZE_SECONDS


class Pauses:
    def __init__(self) -> None:
        self.by_gen: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._t = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.by_gen[info["generation"]].append(time.perf_counter() - self._t)


def ms(values: Sequence[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.1f}"


def measure(
    name: str,
    seats: int,
    messages: int,
    full: int,
    threshold: tuple[int, int, int],
    frozen: bool,
    refreeze: int = 0,
) -> list[str]:
    gc.unfreeze()
    gc.collect()
    matches = build_heap(seats)
    gc.collect()
    if frozen:
        gc.freeze()
    gc.set_threshold(*threshold)
    fulls = []
    for _ in range(full):
        started = time.perf_counter()
        gc.collect()
        fulls.append(time.perf_counter() - started)
    pauses = Pauses()
    gc.callbacks.append(pauses)
    started = time.perf_counter()
    try:
        churn(matches, messages, refreeze)
    finally:
        gc.callbacks.remove(pauses)
    wall = time.perf_counter() - started
    gc.set_threshold(*DEFAULT)
    tracked = len(gc.get_objects()) + gc.get_freeze_count()
    gc_time = sum(sum(v) for v in pauses.by_gen.values())
    row = [
        name,
        ",".join(map(str, threshold)),
        "yes" if frozen else "no",
        f"{tracked:,}",
        f"{1000 * statistics.median(fulls):.1f}",
        f"{1000 * max(fulls):.1f}",
    ]
    for g in (0, 1, 2):
        row += [str(len(pauses.by_gen[g])), ms(pauses.by_gen[g], 0.99), ms(pauses.by_gen[g], 1.0)]
    row += [f"{100 * gc_time / wall:.1f}%"]
    del matches
    gc.unfreeze()
    gc.collect()
    return row


def parse_threshold(text: str) -> tuple[int, int, int]:
    a, b, c = (int(x) for x in text.split(","))
    return a, b, c


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.gcbench", description=__doc__)
    parser.add_argument("--seats", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--full", type=int, default=10, help="timed full collections")
    parser.add_argument("--threshold", action="append", type=parse_threshold, default=[])
    parser.add_argument(
        "--refreeze",
        type=int,
        default=100_000,
        help="messages between two re-freezes in the frozen settings (0 = never)",
    )
    args = parser.parse_args(argv)
    import server.app  # noqa: F401  # the node's modules, as a started node has them

    settings: list[tuple[str, tuple[int, int, int], bool, int]] = [
        ("default", DEFAULT, False, 0),
        ("frozen once", DEFAULT, True, 0),
        ("tuned", gctune.THRESHOLDS, True, args.refreeze),
    ]
    settings += [("custom", t, True, args.refreeze) for t in args.threshold]
    head = ["setting", "threshold", "frozen", "tracked", "full p50", "full max"]
    for g in (0, 1, 2):
        head += [f"gen{g} n", f"gen{g} p99", f"gen{g} max"]
    head += ["gc/cpu"]
    rows = [head]
    print(
        f"seats={args.seats} messages={args.messages:,} full={args.full} "
        f"refreeze={args.refreeze:,} "
        f"python={sys.version.split()[0]}  (pauses in ms)",
        flush=True,
    )
    for name, threshold, frozen, refreeze in settings:
        rows.append(
            measure(name, args.seats, args.messages, args.full, threshold, frozen, refreeze)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

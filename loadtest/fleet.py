"""The worker processes, seen from the parent: start them, merge what they report, stop them.

:func:`start` spawns the workers (``spawn`` context) with their share of the players;
:func:`collect` reads their progress and final tallies, prints a progress line on stderr,
and calls ``on_live`` with the summed live counts after each message (the drills inject
their fault from there, on the main thread); :func:`stop` ends them by their handles.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from loadtest import worker
from loadtest.scenario import Scenario
from loadtest.stats import Tally

# Spectators run in worker processes of their own, at the lowest CPU priority
# (``SCHED_IDLE``, see ``loadtest.worker``): on a machine where
# the players' workers and the spectators' share cores, the spectators' frame decoding
# would otherwise delay the players' clients and show up in the players' latency as if
# the node were slower.  A starved spectator only lags itself (its feed is delayed by
# design; ``spectator_client_lag_ms`` shows it), and the node drops a spectator that
# falls too far behind, which the report counts under ``closes``.
SPECTATORS_PER_WORKER = 1000
SHUTDOWN_SLACK = 60.0  # seconds past duration + finish wait before workers are given up
LIVE_KEYS = ("connected", "in_match", "completed", "errors", "writing", "cuts")


@dataclass
class Fleet:
    scenario: Scenario
    duration: float
    procs: list[Any] = field(default_factory=list)
    out: Any = None
    cut: Any = None  # an Event: set it to have every worker cut some sockets
    start_at: float = 0.0

    @property
    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.procs if p.pid]


def start(
    base_urls: tuple[str, ...],
    scenario: Scenario,
    *,
    players: int,
    duration: float,
    seed: int,
    n_workers: int,
    cpus: tuple[int, ...] | None,
    ledger: bool = False,
    cut_share: float = 0.0,
    spectators: int = 0,
    focus_spectators: int = 0,
    spectator_cpus: tuple[int, ...] | None = None,
) -> Fleet:
    ctx = mp.get_context("spawn")
    fleet = Fleet(scenario, duration, out=ctx.Queue(), cut=ctx.Event())
    watchers = spectators + focus_spectators
    n_watchers = min(4, -(-watchers // SPECTATORS_PER_WORKER))  # ceil; 0 without spectators
    fleet.start_at = time.time() + 1.0 + 0.3 * (n_workers + n_watchers)
    base = worker.WorkerJob(
        index=0,
        base_urls=base_urls,
        scenario=scenario,
        players=(),
        total_players=players,
        start_at=fleet.start_at,
        duration=duration,
        seed=seed,
        cpus=cpus,
    )
    jobs = [
        replace(
            base,
            index=i,
            players=tuple(range(i, players, n_workers)),
            ledger=ledger,
            cut_share=cut_share,
        )
        for i in range(n_workers)
    ] + [
        replace(
            base,
            index=n_workers + j,
            cpus=spectator_cpus or cpus,
            spectators=tuple(range(j, spectators, n_watchers)),
            focus_spectators=tuple(range(j, focus_spectators, n_watchers)),
            background=True,
        )
        for j in range(n_watchers)
    ]
    for job in jobs:
        proc = ctx.Process(
            target=worker.main,
            args=(job, fleet.out, fleet.cut),
            name=f"loadtest-worker-{job.index}",
        )
        proc.start()
        fleet.procs.append(proc)
    return fleet


def collect(fleet: Fleet, on_live: Callable[[dict[str, int]], None] | None = None) -> Tally:
    """The workers' tallies, merged; a progress line on stderr meanwhile."""
    procs, n_workers = fleet.procs, len(fleet.procs)
    end_at = fleet.start_at + fleet.duration
    tally = Tally()
    live: dict[int, dict[str, int]] = {}
    done: set[int] = set()
    give_up = end_at + fleet.scenario.finish_wait_seconds + SHUTDOWN_SLACK
    tty = sys.stderr.isatty()
    last = 0.0
    while len(done) < n_workers and time.time() < give_up:
        try:
            kind, i, data = fleet.out.get(timeout=0.5)
        except queue.Empty:
            if all(not p.is_alive() for p in procs) and fleet.out.empty():
                break
            if on_live is not None:
                on_live(_sum(live))
            continue
        if kind == "done":
            tally.merge_dump(data)
            done.add(i)
        else:
            live[i] = data
        total = _sum(live)
        if on_live is not None:
            on_live(total)
        if time.time() - last >= (1.0 if tty else 10.0):
            last = time.time()
            phase = "running" if time.time() < end_at else "finishing"
            line = (
                f"loadtest {phase} t={max(0.0, time.time() - fleet.start_at):.0f}"
                f"/{fleet.duration:.0f}s connected={total['connected']}"
                f" in_match={total['in_match']} matches_done≈{total['completed']}"
                f" errors={total['errors']}"
            )
            print(
                ("\r" + line + "   ") if tty else line,
                end="" if tty else "\n",
                file=sys.stderr,
                flush=True,
            )
    if tty:
        print(file=sys.stderr)
    for i in range(n_workers):
        if i not in done:
            tally.errors["worker_lost"] += 1
    return tally


def _sum(live: dict[int, dict[str, int]]) -> dict[str, int]:
    return {k: sum(v.get(k, 0) for v in live.values()) for k in LIVE_KEYS}


def stop(fleet: Fleet) -> None:
    """End the workers that are still there (by their handles), and wait for them."""
    for proc in fleet.procs:
        if proc.is_alive():
            proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()

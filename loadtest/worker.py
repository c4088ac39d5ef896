"""A worker process: its share of the players on one uvloop, tallies sent to the parent.

The parent hands each worker a :class:`WorkerJob`; the worker sends ``("progress", i,
live)`` about once a second and ``("done", i, tally)`` at the end, over a
``multiprocessing`` queue.  It dies with the parent (``PR_SET_PDEATHSIG``).

A drill may hand it a ``cut`` event: once it is set, the worker cuts ``job.cut_share`` of
its players' sockets in a match (at least one), at random, without a close frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import random
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

import aiohttp

from loadtest.player import Context, Player
from loadtest.scenario import Scenario
from loadtest.spectator import Spectator
from loadtest.stats import Tally

LAG_PROBE_S = 0.1  # how often a worker measures its own event-loop lag
REFREEZE_S = 5.0  # how often a worker moves what survived into the collector's frozen set


@dataclass(frozen=True)
class WorkerJob:
    index: int
    base_urls: tuple[str, ...]
    scenario: Scenario
    players: tuple[int, ...]  # global player numbers of this worker
    total_players: int
    start_at: float  # time.time() when player 0 starts
    duration: float
    seed: int
    cpus: tuple[int, ...] | None
    ledger: bool = False
    cut_share: float = 0.0
    spectators: tuple[int, ...] = ()  # spectators who watch live matches at random
    focus_spectators: tuple[int, ...] = ()  # spectators who all watch one match
    background: bool = False  # run at the lowest CPU priority (spectators: see loadtest.fleet)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


async def _run(job: WorkerJob, out: Any, cut: Any = None) -> Tally:
    loop = asyncio.get_running_loop()
    offset = loop.time() - time.time()
    stop_at = job.start_at + job.duration + offset
    ctx = Context(
        base_urls=job.base_urls,
        scenario=job.scenario,
        tally=Tally(),
        http=aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)),
        stop_at=stop_at,
        hard_stop=stop_at + job.scenario.finish_wait_seconds,
        ledger=job.ledger,
    )
    ramp = job.scenario.ramp_up_seconds
    rng = random.Random(job.seed * 7919 + job.index)
    players: list[Player] = []

    async def one(n: int) -> None:
        start = job.start_at + offset + ramp * n / max(1, job.total_players)
        await asyncio.sleep(max(0.0, start - loop.time()))
        if loop.time() >= stop_at:
            return
        player = Player(ctx, n, random.Random(job.seed * 1_000_003 + n))
        players.append(player)
        await player.run()

    async def watcher(n: int, focus: bool) -> None:
        # spectators arrive once the first matches are in their write phase
        start = job.start_at + offset + ramp + ramp * n / max(1, job.total_players)
        await asyncio.sleep(max(0.0, start - loop.time()))
        seed = job.seed * 2_000_003 + n * 2 + int(focus)
        await Spectator(ctx, n, random.Random(seed), focus=focus).run()

    def cut_now() -> int:
        candidates = [p for p in players if p.ws is not None and p.match_id and not p.done]
        if not candidates:
            return 0
        k = max(1, round(job.cut_share * len(candidates)))
        return sum(p.cut() for p in rng.sample(candidates, min(k, len(candidates))))

    async def report() -> None:
        cut_done = False
        while True:
            await asyncio.sleep(0.5)
            if cut is not None and not cut_done and cut.is_set():
                cut_done = True
                ctx.tally.counts["cut_round"] += 1
                cut_now()
            live = dict(ctx.live)
            live["completed"] = len(ctx.tally.completed)
            live["errors"] = sum(ctx.tally.errors.values())
            live["writing"] = sum(1 for p in players if p.phase == "write" and not p.done)
            live["cuts"] = ctx.tally.counts["cuts"]
            out.put(("progress", job.index, live))

    lag_name = "client_lag_ms" if job.players else "spectator_client_lag_ms"

    async def lag() -> None:
        """The worker's own event-loop lag: every latency it measures includes it, so a
        saturated load generator shows here, not as a slow node."""
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            ctx.tally.hist[lag_name].add((loop.time() - before - LAG_PROBE_S) * 1000)

    async def refreeze() -> None:
        """As the node does (``server.gctune``): thousands of players' long-lived objects
        scanned by every full collection were 7 % of a worker's core (py-spy)."""
        while True:
            await asyncio.sleep(REFREEZE_S)
            gc.collect(1)
            gc.freeze()

    reporter = asyncio.create_task(report())
    lagger = asyncio.create_task(lag())
    freezer = asyncio.create_task(refreeze())
    try:
        results = await asyncio.gather(
            *(one(n) for n in job.players),
            *(watcher(n, False) for n in job.spectators),
            *(watcher(n, True) for n in job.focus_spectators),
            return_exceptions=True,
        )
        crashes = [r for r in results if isinstance(r, BaseException)]
        for r in crashes:
            ctx.tally.errors[f"crash_{type(r).__name__}"] += 1
        if crashes:  # a bug in the load test: show the first one
            traceback.print_exception(crashes[0], file=sys.stderr)
    finally:
        freezer.cancel()
        lagger.cancel()
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        await ctx.http.close()
    return ctx.tally


def _lowest_priority() -> None:
    """Linux's ``SCHED_IDLE``: the process runs only when no other wants the core, and any
    other that wakes takes the core from it at once (at nice 19 a waking player worker
    could still wait for a spectator worker's slice).  Nice 19 where that is refused."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def main(job: WorkerJob, out: Any, cut: Any = None) -> None:
    """The worker process's entry point (``multiprocessing`` target)."""
    _die_with_parent()
    if job.cpus:
        os.sched_setaffinity(0, job.cpus)
    if job.background:
        _lowest_priority()
    import uvloop

    tally = uvloop.run(_run(job, out, cut))
    # the generator's own cost, next to the node's: what a simulated player costs here
    tally.counts["player_cpu_ms" if job.players else "spectator_cpu_ms"] += round(
        time.process_time() * 1000
    )
    out.put(("done", job.index, tally.dump()))

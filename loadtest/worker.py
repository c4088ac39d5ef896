"""A worker process: its share of the players on one uvloop, tallies sent to the parent.

The parent hands each worker a :class:`WorkerJob`; the worker sends ``("progress", i,
live)`` about once a second and ``("done", i, tally)`` at the end, over a
``multiprocessing`` queue.  It dies with the parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
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
from loadtest.stats import Tally


@dataclass(frozen=True)
class WorkerJob:
    index: int
    base_url: str
    scenario: Scenario
    players: tuple[int, ...]  # global player numbers of this worker
    total_players: int
    start_at: float  # time.time() when player 0 starts
    duration: float
    seed: int
    cpus: tuple[int, ...] | None


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


async def _run(job: WorkerJob, out: Any) -> Tally:
    loop = asyncio.get_running_loop()
    offset = loop.time() - time.time()
    stop_at = job.start_at + job.duration + offset
    ctx = Context(
        base_url=job.base_url,
        scenario=job.scenario,
        tally=Tally(),
        http=aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)),
        stop_at=stop_at,
        hard_stop=stop_at + job.scenario.finish_wait_seconds,
    )
    ramp = job.scenario.ramp_up_seconds

    async def one(n: int) -> None:
        start = job.start_at + offset + ramp * n / max(1, job.total_players)
        await asyncio.sleep(max(0.0, start - loop.time()))
        if loop.time() >= stop_at:
            return
        await Player(ctx, n, random.Random(job.seed * 1_000_003 + n)).run()

    async def report() -> None:
        while True:
            await asyncio.sleep(1.0)
            live = dict(ctx.live)
            live["completed"] = len(ctx.tally.completed)
            live["errors"] = sum(ctx.tally.errors.values())
            out.put(("progress", job.index, live))

    reporter = asyncio.create_task(report())
    try:
        results = await asyncio.gather(*(one(n) for n in job.players), return_exceptions=True)
        crashes = [r for r in results if isinstance(r, BaseException)]
        for r in crashes:
            ctx.tally.errors[f"crash_{type(r).__name__}"] += 1
        if crashes:  # a bug in the load test: show the first one
            traceback.print_exception(crashes[0], file=sys.stderr)
    finally:
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        await ctx.http.close()
    return ctx.tally


def main(job: WorkerJob, out: Any) -> None:
    """The worker process's entry point (``multiprocessing`` target)."""
    _die_with_parent()
    if job.cpus:
        os.sched_setaffinity(0, job.cpus)
    import uvloop

    tally = uvloop.run(_run(job, out))
    out.put(("done", job.index, tally.dump()))

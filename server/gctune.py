"""The garbage collector, tuned and measured, so that it never stalls the loop for long.

CPython's cyclic collector scans every tracked object of the generations it collects; a
full collection of a node holding thousands of sockets stalled the loop 175–750 ms.  At
start-up (:func:`gc_context`, the app's last ``cleanup_ctx``, once the engines, content
and AI pool are loaded) this module:

1. sets the thresholds to :data:`THRESHOLDS`.  Measured (``python -m server.gcbench``,
   5,000 seats, 1 M messages): raising the young generation makes each young collection
   longer for little CPU saved — 700: p99 0.2 ms, max ~3 ms, 2.2 % of the time in GC;
   10,000: ~7 ms; 50,000: 30–90 ms per young collection and 8 % — because every young
   collection also frees the cycles (futures, exceptions) piled up since the last one.
   Freezing is what removes the long pauses, so the thresholds stay CPython's
   ``(700, 10, 10)``, set here explicitly so that this module owns them;
2. ``gc.collect()`` then ``gc.freeze()``: everything loaded so far moves to the permanent
   generation, which no collection scans again;
3. every :data:`REFREEZE_SECONDS`, collects the young generations and freezes again, so a
   full collection only ever scans what survived since the last freeze.  The interval is
   short (5 s) because the heap grows fastest while a node fills up: at 60 s, a node
   taking 1,000 players and 1,200 spectators in its first minute ran twelve full
   collections of its growing unfrozen heap, seven of them 50–250 ms.  A young
   collection and a freeze cost a few milliseconds;
4. **leak check.**  An object frozen while alive and later dropped is still freed by
   reference counting, but a dropped *cycle* is not (it is never scanned again).  So when
   the node is idle (no match, no socket), and at the latest every
   :data:`RECLAIM_SECONDS`, it unfreezes, runs one full collection and freezes again;
   ``quill_gc_reclaimed_objects_total`` counts what that found (steady growth means
   cycles outliving their match: break them) and ``quill_gc_frozen_objects`` shows the
   frozen heap.

Exported on ``/metrics``: ``quill_gc_pause_seconds{generation}`` (every collection, from
``gc.callbacks``), ``quill_event_loop_lag_seconds`` (a task sleeping
:data:`LAG_INTERVAL_SECONDS` and recording how late it woke), ``process_cpu_seconds_total``
and ``process_resident_memory_bytes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from aiohttp import web

from server.http.state import METRICS, REALTIME
from server.metrics import Registry

log = structlog.get_logger("quill.gc")

THRESHOLDS = (700, 10, 10)
"""gen0 objects, gen0 collections per gen1, gen1 collections per full (see the docstring:
measured, larger young generations only lengthen each pause)."""
REFREEZE_SECONDS = 5.0
RECLAIM_SECONDS = 3600.0
LAG_INTERVAL_SECONDS = 0.1
PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> float:
    """The process's resident set size now (Linux ``/proc``; else the peak)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return float(int(f.read().split()[1]) * _PAGE)
    except OSError:
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


class GCMonitor:
    """Times every collection through ``gc.callbacks``; constructing it installs nothing."""

    def __init__(self, registry: Registry) -> None:
        self.pauses = registry.histogram(
            "quill_gc_pause_seconds",
            "Garbage collector pauses, by generation collected",
            ("generation",),
            buckets=PAUSE_BUCKETS,
        )
        self.reclaimed = registry.counter(
            "quill_gc_reclaimed_objects_total",
            "Unreachable objects found by the idle/hourly full collection of the frozen heap",
        )
        registry.gauge(
            "quill_gc_frozen_objects",
            "Objects in the permanent generation",
            read=gc.get_freeze_count,
        )
        registry.counter(
            "process_cpu_seconds_total", "CPU time of this process", read=time.process_time
        )
        registry.gauge("process_resident_memory_bytes", "Resident memory", read=resident_bytes)
        self._started = 0.0

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            self.pauses.observe(
                time.perf_counter() - self._started, generation=str(info["generation"])
            )
            self._started = 0.0

    def install(self) -> None:
        gc.callbacks.append(self.callback)

    def uninstall(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self.callback)


def freeze(young_only: bool = False) -> int:
    """Collect (only the young generations with ``young_only``) and freeze what is left."""
    found = gc.collect(1 if young_only else 2)
    gc.freeze()
    return found


def reclaim() -> int:
    """Unfreeze, collect everything, freeze again: returns the unreachable objects found."""
    gc.unfreeze()
    return freeze()


class _Tuned:
    """Process-wide thresholds and freezing, counted: several apps may share a process
    (tests); the first to start tunes, the last to stop restores."""

    users = 0
    saved: tuple[int, int, int] = gc.get_threshold()


def tune() -> None:
    if _Tuned.users == 0:
        _Tuned.saved = gc.get_threshold()
        gc.set_threshold(*THRESHOLDS)
    _Tuned.users += 1
    freeze()


def untune() -> None:
    _Tuned.users -= 1
    if _Tuned.users == 0:
        gc.set_threshold(*_Tuned.saved)
        gc.unfreeze()


async def watch_lag(registry: Registry, interval: float = LAG_INTERVAL_SECONDS) -> None:
    """Forever: sleep ``interval`` and record how much later than that the loop woke us."""
    lag = registry.histogram(
        "quill_event_loop_lag_seconds",
        f"How late a task sleeping {interval:g} s was woken (loop stalls)",
        buckets=LAG_BUCKETS,
    )
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(interval)
        lag.observe(max(0.0, loop.time() - before - interval))


async def refreeze_forever(
    monitor: GCMonitor,
    idle: Callable[[], bool],
    every: float = REFREEZE_SECONDS,
    reclaim_every: float = RECLAIM_SECONDS,
) -> None:
    """Freeze again every ``every`` seconds; reclaim frozen cycles when idle (or hourly)."""
    loop = asyncio.get_running_loop()
    reclaimed_at = loop.time()
    was_idle = True
    while True:
        await asyncio.sleep(every)
        now_idle = idle()
        if (now_idle and not was_idle) or loop.time() - reclaimed_at >= reclaim_every:
            found = reclaim()
            reclaimed_at = loop.time()
            monitor.reclaimed.inc(found)
            log.info("gc_reclaimed", unreachable=found, frozen=gc.get_freeze_count())
        else:
            freeze(young_only=True)
        was_idle = now_idle


def _hub_idle(app: web.Application) -> Callable[[], bool]:
    def idle() -> bool:
        hub = app.get(REALTIME)
        return hub is None or (not hub.runners and not hub.connections)

    return idle


async def gc_context(app: web.Application) -> AsyncIterator[None]:
    """The app's last ``cleanup_ctx``: tune and freeze now, watch and re-freeze until stop."""
    monitor = GCMonitor(app[METRICS])
    monitor.install()
    tune()
    tasks = [
        asyncio.create_task(watch_lag(app[METRICS]), name="loop-lag"),
        asyncio.create_task(refreeze_forever(monitor, _hub_idle(app)), name="gc-refreeze"),
    ]
    log.info("gc_frozen", frozen=gc.get_freeze_count(), threshold=gc.get_threshold())
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        untune()
        monitor.uninstall()

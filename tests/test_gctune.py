"""Garbage-collector tuning and the loop-health metrics (counted, never timed)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from server import gcbench, gctune
from server.metrics import Registry
from tests.bots.helpers import until
from tests.conftest import Node


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_every_collection_is_timed_by_generation() -> None:
    registry = Registry()
    monitor = gctune.GCMonitor(registry)
    monitor.install()
    try:
        gc.collect(0)
        gc.collect()
    finally:
        monitor.uninstall()
    assert monitor.pauses.count(generation="0") >= 1
    assert monitor.pauses.count(generation="2") >= 1
    text = registry.render()
    assert 'quill_gc_pause_seconds_count{generation="2"}' in text
    assert "process_cpu_seconds_total " in text and "process_resident_memory_bytes " in text
    before = monitor.pauses.count(generation="2")
    gc.collect()
    assert monitor.pauses.count(generation="2") == before  # uninstalled: no longer called


def test_tune_freezes_and_untune_restores() -> None:
    saved = gc.get_threshold()
    gctune.tune()
    try:
        assert gc.get_threshold() == gctune.THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gctune.untune()
    assert gc.get_threshold() == saved and gc.get_freeze_count() == 0


def test_reclaim_finds_cycles_dropped_after_freezing() -> None:
    cycles = [Cycle() for _ in range(10)]
    gctune.freeze()
    try:
        del cycles
        assert gc.collect() == 0  # frozen: a full collection no longer sees them
        assert gctune.reclaim() >= 10
    finally:
        gc.unfreeze()


async def test_refreezing_reclaims_when_the_node_becomes_idle() -> None:
    monitor = gctune.GCMonitor(Registry())
    busy = [True]
    task = asyncio.create_task(
        gctune.refreeze_forever(monitor, lambda: not busy[0], every=0.001, reclaim_every=1e9)
    )
    try:
        await asyncio.sleep(0.01)  # busy: young collections and freezing only
        cycles = [Cycle() for _ in range(10)]
        gctune.freeze()
        del cycles
        busy[0] = False
        await until(lambda: monitor.reclaimed.value() >= 10, "reclaimed")
    finally:
        task.cancel()
        gc.unfreeze()


async def test_loop_lag_is_recorded() -> None:
    registry = Registry()
    task = asyncio.create_task(gctune.watch_lag(registry, interval=0.001))
    try:
        await asyncio.sleep(0)
        lag = registry.histogram("quill_event_loop_lag_seconds", "", buckets=gctune.LAG_BUCKETS)
        await until(lambda: lag.count() >= 3, "three lag samples")
    finally:
        task.cancel()
    assert "quill_event_loop_lag_seconds_bucket" in registry.render()


async def test_the_node_exports_its_health(node: Node) -> None:
    assert gc.get_threshold() == gctune.THRESHOLDS and gc.get_freeze_count() > 0
    gc.collect()
    async with await node.get("/metrics") as resp:
        text = await resp.text()
    for name in (
        'quill_gc_pause_seconds_count{generation="2"}',
        "quill_event_loop_lag_seconds",
        "quill_gc_frozen_objects ",
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
    ):
        assert name in text


def test_the_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert gcbench.main(["--seats", "12", "--messages", "2000", "--full", "1"]) == 0
    out = capsys.readouterr().out
    assert "full p50" in out and "tuned" in out and "default" in out
    assert gc.get_threshold() == gctune.THRESHOLDS and gc.get_freeze_count() == 0

"""``quill bench matchmaker --json`` runs the benchmark process and prints its report."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_quill_bench_matchmaker_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server", "bench", "matchmaker", "--tickets", "1000",
         "--ticks", "10", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    assert report["tickets"] == 1000
    assert set(report) >= {"tick_ms", "quality", "skill_spread", "parties_per_tick", "wait_s"}
    assert set(report["tick_ms"]) == {"p50", "p99"} and set(report["wait_s"]) == {"p50", "p95"}
    assert 0 < report["quality"]["min"] <= report["quality"]["mean"] <= 1

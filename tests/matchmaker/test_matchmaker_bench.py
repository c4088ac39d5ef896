"""The matchmaker benchmark on a small queue: report shape and invariants, never timings."""

from __future__ import annotations

import argparse
import json

import pytest

from matchmaker.bench import add_bench_commands, run_bench, simulate
from server.config import Settings


def test_report_shape_and_invariants() -> None:
    report = run_bench(2000, seed=3, ticks=40)
    assert set(report) == {
        "tickets",
        "tick_ms",
        "quality",
        "skill_spread",
        "parties_per_tick",
        "wait_s",
    }
    assert set(report["tick_ms"]) == {"p50", "p99"}
    assert set(report["quality"]) == {"mean", "min"}
    assert set(report["skill_spread"]) == {"mean"}
    assert set(report["wait_s"]) == {"p50", "p95"}
    assert report["tickets"] == 2000
    assert 0 <= report["tick_ms"]["p50"] <= report["tick_ms"]["p99"]
    assert 0 < report["quality"]["min"] <= report["quality"]["mean"] <= 1
    assert 0 <= report["skill_spread"]["mean"] <= 8.0
    assert report["parties_per_tick"] > 0
    assert 0 <= report["wait_s"]["p50"] <= report["wait_s"]["p95"]
    json.dumps(report)


def test_same_seed_same_matches() -> None:
    first, second = simulate(500, seed=5, ticks=30), simulate(500, seed=5, ticks=30)
    assert (first.parties, first.sizes, first.waits) == (second.parties, second.sizes, second.waits)
    assert first.qualities == second.qualities


def test_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="quill bench")
    add_bench_commands(parser.add_subparsers(dest="bench", required=True))
    args = parser.parse_args(["matchmaker", "--tickets", "300", "--ticks", "5", "--json"])
    assert args.func(args, Settings()) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tickets"] == 300
    args = parser.parse_args(["matchmaker", "--tickets", "300", "--ticks", "5"])
    assert args.func(args, Settings()) == 0
    assert "tick ms" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["matchmaker", "--tickets", "0"])

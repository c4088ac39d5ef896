"""A small load test end to end: 8 players, short phases, against the test PostgreSQL and
Redis (the load test starts its own node, matchmaker and bot pool on them), plus the
refusals of ``quill loadtest``.  No wall-clock thresholds: only what must hold."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from loadtest.__main__ import main
from loadtest.stack import Sampler, find_listener
from server.cli import build_parser, cmd_loadtest, loadtest_argv
from tests.conftest import ROOT

KEYS = {
    "players",
    "players_connected",
    "players_in_match",
    "matches_started",
    "matches_completed",
    "matches_aborted",
    "latency_ms",
    "ack_ms",
    "deadline_jitter_ms",
    "time_to_match_s",
    "errors",
    "closes",
    "submissions_expected",
    "submissions_stored",
    "server",
}


@pytest.mark.timeout(150)
async def test_a_small_run_completes_matches_and_stores_every_submission(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url}
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "loadtest", "--players", "8", "--duration", "12"],
        *["--scenario", "smoke", "--workers", "2", "--json", str(out)],
        *["--spectators", "2", "--focus-spectators", "2"],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()[-3000:]
    report = json.loads(out.read_text())
    assert json.loads(stdout) == report
    assert set(report) >= KEYS
    assert report["players"] == 8
    assert report["players_connected"] == 8
    assert report["players_in_match"] == 8
    assert report["matches_completed"] >= 1
    assert report["matches_aborted"] == 0
    assert report["errors"] == {}
    assert report["submissions_expected"] >= 1
    assert report["submissions_stored"] == report["submissions_expected"]
    assert set(report["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert report["ack_ms"]["p50"] is not None
    assert report["server"]["rss_mb"] > 0
    assert "loadtest" in stderr.decode()  # the progress line
    spectators = report["spectators"]
    assert (spectators["spread"], spectators["focus"], spectators["connected"]) == (2, 2, 4)
    assert spectators["joins"] >= 4 and spectators["events"] > 0
    assert spectators["early"] == 0  # no event before its time plus the delay


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--players", "0", "--duration", "5"], "--players must be 1..20000"),
        (["--players", "20001", "--duration", "5"], "--players must be 1..20000"),
        (["--players", "2", "--duration", "3601"], "--duration must be"),
        (["--players", "2", "--duration", "5", "--target", "http://10.1.2.3:80"], "loopback"),
        (["--players", "2", "--duration", "5", "--scenario", "nope"], "no scenario 'nope'"),
        (["--players", "2", "--duration", "5", "--spectators", "-1"], "--spectators must be"),
    ],
)
def test_refused_runs_start_nothing(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--json", str(tmp_path / "r.json")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_quill_loadtest_is_registered() -> None:
    argv = ["--players", "3", "--duration", "5.0", "--json", "r.json", "--server-cpus", "0"]
    args = build_parser().parse_args(["loadtest", *argv])
    assert args.func is cmd_loadtest
    assert loadtest_argv(args) == argv


def test_the_node_of_a_target_is_found_by_its_port_and_sampled() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        pid = find_listener(s.getsockname()[1])
    # A process always sees its own sockets (its own /proc/<pid>/fd), root or not.
    assert pid == os.getpid()
    sampler = Sampler(pid, interval=0.01)
    sampler.start()
    give_up = time.monotonic() + 10
    while not sampler.cpu and time.monotonic() < give_up:  # busy: something to measure
        sum(i * i for i in range(10_000))
    sampler.stop()
    figures = sampler.report(players=10)
    assert figures["pid"] == pid
    assert figures["rss_mb"] is not None and figures["rss_mb"] > 0
    assert figures["kb_per_player"] is not None and figures["kb_per_player"] >= 0

"""The fault drills of ``quill loadtest --drill`` in their short form: each starts its own
stack (embedded, durable PostgreSQL and Redis in a temporary folder; never the machine's
servers), plays a short quick-play or ranked load with 10 players, injects its fault in
the write phase and checks that nothing acknowledged was lost.  Marked ``drills`` (CI
chooses where they run: ``-m drills`` / ``-m 'not drills'``).  The timeouts are safety
bounds only; no assertion is about time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.drills import DRILLS
from loadtest.options import to_argv as loadtest_argv
from server.cli import build_parser
from tests.conftest import ROOT

PLAYERS = 10
DRILL_TIMEOUT = 240  # seconds, safety bound of one drill


def _drill(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtest", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.drills
@pytest.mark.timeout(DRILL_TIMEOUT + 30)
@pytest.mark.parametrize("name", list(DRILLS))
def test_drill_loses_nothing(name: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.json"
    argv = ["--drill", name, "--players", str(PLAYERS), "--json", str(out)]
    proc = _drill(argv, DRILL_TIMEOUT)
    assert out.exists(), proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert json.loads(proc.stdout) == report
    failed = [c for c in report["checks"] if not c["ok"]]
    assert not failed, json.dumps(failed, indent=1)[:6000]
    assert proc.returncode == 0
    names = {c["name"] for c in report["checks"]}
    assert {
        "fault_injected",
        "no_match_left_in_redis",
        "acknowledged_edits_stored",
        "acknowledged_reviews_stored",
        "ratings_stored",
        "results_stored",
        "every_match_ended",
        "no_process_left",
    } <= names
    assert report["run"]["matches_completed"] >= 1


def test_drill_list_names_every_drill() -> None:
    proc = _drill(["--drill", "list"], 60)
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[0] for line in proc.stdout.splitlines()] == list(DRILLS)


def test_an_unknown_drill_is_refused() -> None:
    proc = _drill(["--drill", "no-such-drill"], 60)
    assert proc.returncode == 2
    assert "no drill 'no-such-drill'" in proc.stderr


def test_quill_loadtest_passes_the_drill_on() -> None:
    args = build_parser().parse_args(["loadtest", "--drill", "kill-node", "--players", "8"])
    assert loadtest_argv(args) == ["--players", "8", "--drill", "kill-node"]

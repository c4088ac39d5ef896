"""Run one drill: its own stack (embedded, durable PostgreSQL and Redis in a temporary
folder), a short load with the ledger on, the fault once enough players write, then the
shared checks and the drill's own, and the stack stopped (by pid) before the check that
nothing is left running.  Returns the report (one JSON-ready dict)."""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
import traceback
from typing import Any

from loadtest import fleet
from loadtest.drills import checks
from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.scenario import load
from loadtest.stack import Stack


def run(
    drill: Drill,
    *,
    players: int,
    seed: int = 1,
    scenario_name: str | None = None,
    duration: float | None = None,
    server_cpus: tuple[int, ...] | None = None,
    client_cpus: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    began = time.monotonic()
    scenario = load(scenario_name or drill.scenario)
    stack = Stack(
        scenario, server_cpus, nodes=drill.nodes, matchmakers=drill.matchmakers, durable=True
    )
    print(f"drill {drill.name}: starting the stack (logs in {stack.log_dir})", file=sys.stderr)
    team: fleet.Fleet | None = None
    drun: DrillRun | None = None
    results: list[Check] = []
    seen: set[int] = set()
    me = os.getpid()
    try:
        stack.start()
        seen |= checks.descendants(me)
        team = fleet.start(
            stack.urls,
            scenario,
            players=players,
            duration=duration or drill.duration,
            seed=seed,
            n_workers=max(1, min(2, players)),
            cpus=client_cpus,
            ledger=True,
            cut_share=drill.cut_share,
        )
        drun = DrillRun(stack, team, players)
        run_ = drun
        need = max(1, math.ceil(drill.trigger * players))
        ready_at: list[float] = []
        error: list[str] = []

        def on_live(live: dict[str, int]) -> None:
            if run_.fault_at is not None:
                return
            if live["writing"] < need:
                return
            if not ready_at:
                ready_at.append(time.time())
            if time.time() - ready_at[0] < drill.delay:
                return
            seen.update(checks.descendants(me))
            run_.fault_at = time.time()
            print(f"drill {drill.name}: injecting the fault", file=sys.stderr, flush=True)
            try:
                drill.inject(run_)
            except Exception:  # the fault itself failed: reported, the run goes on
                error.append(traceback.format_exc(limit=5))
            run_.fault_done = time.time()
            seen.update(checks.descendants(me))

        tally = fleet.collect(team, on_live)
        injected = drun.fault_at is not None and not error
        results.append(
            Check(
                "fault_injected",
                injected,
                {
                    "at_s": None
                    if drun.fault_at is None
                    else round(drun.fault_at - team.start_at, 1),
                    "took_s": None
                    if drun.fault_at is None or drun.fault_done is None
                    else round(drun.fault_done - drun.fault_at, 1),
                    "error": error[0] if error else None,
                },
            )
        )
        results.append(checks.settle_check(stack.redis_url))
        results += checks.ledger_checks(stack.database_url, tally, players)
        if drill.verify is not None and drun.fault_at is not None:
            results += drill.verify(drun, tally)
        seen |= checks.descendants(me)
        counts = {k: tally.counts[k] for k in sorted(tally.counts)}
        summary = {
            "matches_started": len(tally.started),
            "matches_completed": len(tally.completed),
            "matches_aborted": len(tally.aborted),
            "seats": len(tally.ledger),
            "counts": counts,
            "errors": dict(sorted(tally.errors.items())),
            "closes": dict(sorted(tally.closes.items())),
        }
    except Exception:
        results.append(Check("drill_ran", False, traceback.format_exc(limit=8)))
        summary = {}
    finally:
        seen |= checks.descendants(me)
        if team is not None:
            seen |= set(team.pids)
            fleet.stop(team)
        stack.stop()
    results.append(
        checks.process_check(seen | stack.started_pids | (drun.watch_pids if drun else set()))
    )
    ok = all(c.ok for c in results)
    report: dict[str, Any] = {
        "drill": drill.name,
        "summary": drill.summary,
        "ok": ok,
        "players": players,
        "nodes": drill.nodes,
        "scenario": scenario.name,
        "seconds": round(time.monotonic() - began, 1),
        "failed": [c.name for c in results if not c.ok],
        "checks": [c.as_dict() for c in results],
        "facts": drun.facts if drun else {},
        "run": summary,
        "logs": str(stack.log_dir),
    }
    if ok:
        shutil.rmtree(stack.log_dir, ignore_errors=True)
        report["logs"] = None
    return report

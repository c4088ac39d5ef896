"""``kill-matchmaker``: two matchmakers (active + standby); SIGKILL the active one.

The standby takes the lock within ``matchmaker.lock_ttl_seconds`` and players who queue
after the kill are still matched.  Checked besides the shared checks: the other instance
holds the lock at the end, and some player was matched after the kill.
"""

from __future__ import annotations

import signal

from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.stats import Tally


def inject(run: DrillRun) -> None:
    holder = run.stack.lock_holder()
    run.facts["active"] = holder
    proc = run.stack.matchmaker_procs.get(holder or "")
    if proc is None:
        raise RuntimeError(f"no matchmaker of ours holds the lock ({holder!r})")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run.facts["killed_pid"] = proc.pid


def verify(run: DrillRun, tally: Tally) -> list[Check]:
    killed = run.facts.get("active")
    holder = run.stack.lock_holder()
    after = [
        r
        for r in tally.ledger.values()
        if r["matched_at"] is not None and run.fault_at and r["matched_at"] > run.fault_at
    ]
    return [
        Check(
            "standby_took_over",
            holder is not None and holder != killed,
            {"killed": killed, "lock_now": holder},
        ),
        Check(
            "matched_after_the_kill",
            bool(after),
            {"seats": len(after), "matches": len({r["match"] for r in after})},
        ),
    ]


DRILL = Drill(
    name="kill-matchmaker",
    summary="two matchmakers; SIGKILL the active one; the standby matches the players",
    inject=inject,
    verify=verify,
    matchmakers=2,
    scenario="drill-ranked",
    duration=12.0,
    trigger=0.1,
    delay=0.5,
)

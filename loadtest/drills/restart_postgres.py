"""``restart-postgres``: stop PostgreSQL ("fast" shutdown) while matches are running and
start it again on the same port and folder a few seconds later.

The phases (scenario ``drill-pg``) are short enough that the matches finish while it
is down: their outcomes are saved once it is back (the runner retries its save; the
dead-letter store is the last resort and must stay empty here).  Only the shared checks,
which include that no outcome went to the dead-letter store; the nodes' logged save
retries are reported as a fact (how much of the retry path the run went through).
"""

from __future__ import annotations

import time

from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.stats import Tally

DOWN_SECONDS = 10.0


def inject(run: DrillRun) -> None:
    run.stack.stop_postgres()
    time.sleep(DOWN_SECONDS)
    run.stack.start_postgres()
    run.facts["down_seconds"] = DOWN_SECONDS


def verify(run: DrillRun, tally: Tally) -> list[Check]:
    retries = 0
    for node in run.stack.node_list:
        log = run.stack.log_dir / f"{node.log}.log"
        retries += sum(
            "save_outcome" in line for line in log.read_text(errors="replace").splitlines()
        )
    run.facts["save_retries_logged"] = retries
    return []


DRILL = Drill(
    name="restart-postgres",
    summary="stop PostgreSQL mid-write for 10 s (matches end meanwhile); results saved after",
    inject=inject,
    verify=verify,
    scenario="drill-pg",
    delay=1.0,
)

"""``drop-connections``: cut 10 % of the players' sockets at once (at least one per
worker), TCP gone without a close frame; they reconnect and resume their sessions.

Checked besides the shared checks: sockets were cut and as many reconnects followed.
"""

from __future__ import annotations

import time

from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.stats import Tally

SHARE = 0.10


def inject(run: DrillRun) -> None:
    run.fleet.cut.set()  # each worker cuts its share on its next progress tick
    time.sleep(1.0)


def verify(run: DrillRun, tally: Tally) -> list[Check]:
    cuts, back = tally.counts["cuts"], tally.counts["reconnects"]
    return [
        Check("sockets_cut", cuts > 0, {"cut": cuts}),
        Check("cut_players_reconnected", back >= cuts, {"cut": cuts, "reconnects": back}),
    ]


DRILL = Drill(
    name="drop-connections",
    summary="cut 10 % of client sockets (no close frame); they reconnect and resume",
    inject=inject,
    verify=verify,
    cut_share=SHARE,
)

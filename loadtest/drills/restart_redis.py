"""``restart-redis``: stop Redis (SIGTERM: it writes its append-only file) in the write
phase and start it again on the same port and folder a few seconds later.

The node retries its write-ahead until Redis is back (acks wait meanwhile); nothing
acknowledged may be lost.  Only the shared checks.
"""

from __future__ import annotations

import time

from loadtest.drills.base import Drill, DrillRun

DOWN_SECONDS = 3.0


def inject(run: DrillRun) -> None:
    run.stack.stop_redis()
    time.sleep(DOWN_SECONDS)
    run.stack.start_redis()
    run.facts["down_seconds"] = DOWN_SECONDS


DRILL = Drill(
    name="restart-redis",
    summary="stop Redis mid-write, start it again (AOF, same port and data) after 3 s",
    inject=inject,
)

"""``kill-node``: SIGKILL a node in the write phase and start it again on the same port.

Same port, same node id: the new process restores the node's matches from their Redis
checkpoints and logs; the players reconnect there and resume their sessions.  Checked
besides the shared checks: every match the node hosted at the kill ended with results,
players did reconnect, and nothing the killed process had started outlives it.
"""

from __future__ import annotations

import socket
import time

from loadtest.drills import checks
from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.stats import Tally

DOWN_SECONDS = 1.0


def inject(run: DrillRun) -> None:
    node = run.stack.node_list[0]
    assert node.proc is not None
    node_id = f"{socket.gethostname()}-{node.port}"
    run.facts["node_url"] = node.url
    run.facts["hosted_at_kill"] = sorted(checks.hosted_matches(run.stack.redis_url, node_id))
    children = checks.descendants(node.proc.pid)
    run.watch_pids.update(children)
    run.facts["killed_pid"] = run.stack.kill_node(0)
    time.sleep(DOWN_SECONDS)
    run.facts["node_children"] = sorted(children)
    run.facts["restarted_pid"] = run.stack.start_node(0)
    run.facts["restart_seconds"] = round(time.time() - (run.fault_at or time.time()), 1)


def verify(run: DrillRun, tally: Tally) -> list[Check]:
    ended = checks.finished_matches(run.stack.database_url, run.facts.get("hosted_at_kill", []))
    hosted = run.facts.get("hosted_at_kill", [])
    # Long after the kill (the whole load ran since): what the killed process had
    # started and is still there was left behind.  Ours, so killed; the report names it.
    orphans = [checks.describe(p) for p in run.facts.get("node_children", []) if checks.alive(p)]
    for orphan in orphans:
        checks.kill(orphan["pid"])
    return [
        Check("matches_on_the_killed_node", bool(hosted), {"hosted_at_kill": len(hosted)}),
        Check(
            "killed_node_matches_finished",
            set(ended) == set(hosted),
            {"finished": len(ended), "not_finished": sorted(set(hosted) - set(ended))},
        ),
        Check(
            "players_reconnected",
            tally.counts["reconnects"] > 0,
            {"reconnects": tally.counts["reconnects"]},
        ),
        Check(
            "killed_node_left_no_process",
            not orphans,
            {
                "children_at_kill": len(run.facts.get("node_children", [])),
                "alive_at_the_end": orphans,
                "seconds_after_kill": round(time.time() - (run.fault_at or 0.0), 1),
            },
        ),
    ]


DRILL = Drill(
    name="kill-node",
    summary="SIGKILL a node mid-write, restart it on its port; matches and sessions resume",
    inject=inject,
    verify=verify,
    nodes=2,
)

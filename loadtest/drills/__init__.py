"""Fault drills: a short load on a stack of its own, one fault in the middle of the
write phase, then checks that nothing acknowledged was lost (``quill loadtest --drill``).

One module per drill, each exporting ``DRILL`` (:class:`~loadtest.drills.base.Drill`);
:data:`DRILLS` is the registry.  :mod:`loadtest.drills.harness` runs one,
:mod:`loadtest.drills.checks` holds the checks they share.
"""

from __future__ import annotations

import argparse
import json
import sys

from loadtest.drills import (
    drop_connections,
    kill_matchmaker,
    kill_node,
    malformed_flood,
    restart_postgres,
    restart_redis,
)
from loadtest.drills.base import Drill

DRILLS: dict[str, Drill] = {
    d.name: d
    for d in (
        kill_node.DRILL,
        kill_matchmaker.DRILL,
        restart_redis.DRILL,
        restart_postgres.DRILL,
        drop_connections.DRILL,
        malformed_flood.DRILL,
    )
}
DEFAULT_PLAYERS = 10
MAX_DRILL_PLAYERS = 200


def _cpus(text: str | None) -> tuple[int, ...] | None:
    from loadtest.__main__ import cpus

    return cpus(text)


def main(args: argparse.Namespace) -> int:
    """``--drill NAME`` (or ``list``): run it, print and write its report; 0 when every
    check passed, 1 when one failed, 2 for a bad request."""
    if args.drill == "list":
        for name, d in DRILLS.items():
            print(f"{name:18} {d.summary}")
        return 0
    drill = DRILLS.get(args.drill)
    if drill is None:
        print(f"loadtest: no drill {args.drill!r} (have: {', '.join(DRILLS)})", file=sys.stderr)
        return 2
    players = args.players or DEFAULT_PLAYERS
    if not 1 <= players <= MAX_DRILL_PLAYERS:
        print(f"loadtest: a drill takes 1..{MAX_DRILL_PLAYERS} players", file=sys.stderr)
        return 2
    if args.target or (args.nodes or 0) > 1:
        print("loadtest: a drill starts its own stack (no --target, no --nodes)", file=sys.stderr)
        return 2
    from loadtest.drills import harness
    from loadtest.scenario import ScenarioError

    try:
        report = harness.run(
            drill,
            players=players,
            seed=1 if args.seed is None else args.seed,
            scenario_name=args.scenario,
            duration=args.duration,
            server_cpus=_cpus(args.server_cpus),
            client_cpus=_cpus(args.client_cpus),
        )
    except ScenarioError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2, default=str)
    if args.json is not None:
        args.json.write_text(text + "\n")
    print(text)
    return 0 if report["ok"] else 1

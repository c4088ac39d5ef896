"""``python -m loadtest`` (``quill loadtest``): the composition root of a load test.

Parse the options, start the stack (unless ``--target``; ``--nodes`` nodes), start the
workers, show a progress line on stderr, merge the workers' tallies, count the stored
submissions, and write the report (``--json FILE``, and stdout).  Every process it
started is stopped in ``finally``, by pid.  ``--drill NAME`` runs a fault drill instead
(:mod:`loadtest.drills`).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from loadtest import fleet, nodelag
from loadtest.options import MAX_DURATION, MAX_NODES, MAX_PLAYERS, MAX_SPECTATORS, add_options
from loadtest.scenario import Scenario, ScenarioError, load
from loadtest.stack import Sampler, Stack, find_listener
from loadtest.stats import Tally


def cpus(text: str | None) -> tuple[int, ...] | None:
    """``"0"``, ``"0,2"`` or ``"0-3"`` as CPU numbers."""
    if not text:
        return None
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return tuple(out)


def loopback(url: str) -> str:
    """``url`` if it names this machine (127.0.0.0/8, ::1, localhost), else ValueError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"--target must be http(s)://HOST:PORT, not {url!r}")
    if host != "localhost":
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"--target must be on loopback (127.0.0.0/8, ::1, localhost): {host}")
    return url.rstrip("/")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="quill loadtest", description=__doc__.split("\n\n")[1])
    add_options(p)
    return p


async def stored_submissions(dsn: str, seats: list[tuple[str, str]]) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM submissions s JOIN unnest($1::uuid[], $2::text[]) AS e(m, p)"
            " ON s.match_id = e.m AND s.player_id = e.p",
            [m for m, _ in seats],
            [p for _, p in seats],
        )
    finally:
        await conn.close()
    return int(n)


def report(
    args: argparse.Namespace, scenario: Scenario, tally: Tally, stored: int | None, server: Any
) -> dict[str, Any]:
    h = tally.hist
    expected = sorted(s for s in tally.expected if s[0] in tally.completed)
    return {
        "scenario": scenario.name,
        "players": args.players,
        "duration_s": args.duration,
        "players_connected": tally.counts["players_connected"],
        "players_in_match": tally.counts["players_in_match"],
        "matches_started": len(tally.started),
        "matches_completed": len(tally.completed),
        "matches_aborted": len(tally.aborted),
        "latency_ms": h["latency_ms"].summary((50, 95, 99), with_max=True),
        "ack_ms": h["ack_ms"].summary((50, 99)),
        "deadline_jitter_ms": h["deadline_jitter_ms"].summary((50, 99)),
        "client_lag_ms": h["client_lag_ms"].summary((50, 99), with_max=True),
        "spectators": {
            "spread": args.spectators or 0,
            "focus": args.focus_spectators or 0,
            "connected": tally.counts["spectators_connected"],
            "joins": tally.counts["spectator_joins"],
            "events": tally.counts["spectator_events"],
            "early": tally.counts["spectator_early"],
            "lag_ms": h["spectator_lag_ms"].summary((50, 99), with_max=True),
            "client_lag_ms": h["spectator_client_lag_ms"].summary((50, 99), with_max=True),
        },
        "time_to_match_s": {
            k: None if v is None else round(v / 1000, 3)
            for k, v in h["time_to_match_ms"].summary((50, 95)).items()
        },
        "errors": dict(sorted(tally.errors.items())),
        "error_samples": dict(sorted(tally.error_samples.items())),
        "closes": dict(sorted(tally.closes.items())),
        "submissions_expected": len(expected),
        "submissions_stored": stored,
        "server": server,
        "counts": {k: tally.counts[k] for k in sorted(tally.counts)},
        "samples": {k: v.n for k, v in h.items()},
    }


def run(args: argparse.Namespace, scenario: Scenario) -> dict[str, Any]:
    server_cpus, client_cpus = cpus(args.server_cpus), cpus(args.client_cpus)
    n_workers = args.workers or min(4, len(client_cpus or ()) or max(1, (os.cpu_count() or 2) - 1))
    n_workers = max(1, min(n_workers, args.players))
    nodes = args.nodes or 1
    stack: Stack | None = None
    team: fleet.Fleet | None = None
    sampler: Sampler | None = None
    try:
        if args.target:
            base_urls: tuple[str, ...] = (args.target,)
            node_pids: list[int | None] = [find_listener(urlsplit(args.target).port or 80)]
            dsn = os.environ.get("DATABASE_URL", "")
        else:
            stack = Stack(
                scenario, server_cpus, companion_cpus=cpus(args.companion_cpus), nodes=nodes
            )
            print(f"loadtest: starting the stack (logs in {stack.log_dir})", file=sys.stderr)
            stack.start()
            base_urls, node_pids, dsn = stack.urls, stack.node_pids, stack.database_url
        sampler = Sampler(node_pids)
        sampler.start()
        lag_before = [nodelag.scrape(url) for url in base_urls]
        team = fleet.start(
            base_urls,
            scenario,
            players=args.players,
            duration=args.duration,
            seed=1 if args.seed is None else args.seed,
            n_workers=n_workers,
            cpus=client_cpus,
            spectators=args.spectators or 0,
            focus_spectators=args.focus_spectators or 0,
            spectator_cpus=cpus(args.spectator_cpus),
        )
        tally = fleet.collect(team)
        lag_after = [nodelag.scrape(url) for url in base_urls]
        sampler.stop()
        stored = None
        if dsn:
            expected = [s for s in tally.expected if s[0] in tally.completed]
            stored = asyncio.run(stored_submissions(dsn, expected))
        result = report(args, scenario, tally, stored, sampler.report(args.players))
        result["node_loop_lag_ms"] = nodelag.summary(zip(lag_before, lag_after, strict=True))
        result["nodes"] = len(base_urls)
        result["node_urls"] = list(base_urls)
        return result
    finally:
        if sampler is not None:
            sampler.stop()
        if team is not None:
            fleet.stop(team)
        if stack is not None:
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.drill is not None:
        from loadtest.drills import main as drill_main

        return drill_main(args)
    missing = [f"--{k}" for k in ("players", "duration", "json") if getattr(args, k) is None]
    if missing:
        print(f"loadtest: {', '.join(missing)} needed (or --drill NAME)", file=sys.stderr)
        return 2
    if not 1 <= (args.nodes or 1) <= MAX_NODES:
        print(f"loadtest: --nodes must be 1..{MAX_NODES}", file=sys.stderr)
        return 2
    if args.target and (args.nodes or 1) > 1:
        print("loadtest: --nodes starts a stack; it does not go with --target", file=sys.stderr)
        return 2
    if not 1 <= args.players <= MAX_PLAYERS:
        print(f"loadtest: --players must be 1..{MAX_PLAYERS}", file=sys.stderr)
        return 2
    for flag in ("spectators", "focus_spectators"):
        if not 0 <= (getattr(args, flag) or 0) <= MAX_SPECTATORS:
            print(
                f"loadtest: --{flag.replace('_', '-')} must be 0..{MAX_SPECTATORS}", file=sys.stderr
            )
            return 2
    if not 0 < args.duration <= MAX_DURATION:
        print(f"loadtest: --duration must be in (0, {MAX_DURATION:.0f}]", file=sys.stderr)
        return 2
    try:
        if args.target:
            args.target = loopback(args.target)
        scenario = load(args.scenario or "default")
    except (ValueError, ScenarioError) as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    result = run(args, scenario)
    text = json.dumps(result, indent=2)
    args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the party-forming tick: ``quill bench matchmaker --tickets N [--json]``.

A synthetic queue of ``N`` tickets is run for ``ticks`` ticks of ``tick_seconds`` of
simulated time.  Before each tick a fraction ``leave_rate`` of the queued players leave
and new players arrive until ``N`` are queued again, so the tick always works on a queue
of ``N``.  Players: 20 % newcomers at μ 25, σ 25/3; the rest μ ~ N(25, 8) clipped to
[0, 50] with σ between 1.5 and 8.3 (most near the low end); 80 % ranked, 20 % practice.

Reported (``--json`` keys): ``tickets``; ``tick_ms`` p50/p99 of ``process_once`` alone,
timed with ``time.perf_counter``; ``quality`` mean/min of the normalised quality of the
all-human parties; ``skill_spread`` mean (max μ − min μ) of those parties;
``parties_per_tick``; ``wait_s`` p50/p95 of the simulated waits of players who joined
during the run (the initial queue's enqueue times are made up, so they are left out).
The text output adds bot-filled parties, party sizes and the cost of add/remove.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from matchmaker.party import PartyFormer, PartyRules, Ticket
from server.config import MatchmakerSettings, Settings, load_settings
from server.types import NodeId, PlayerId

NEWCOMER_SHARE = 0.2
PRACTICE_SHARE = 0.2
NODES = tuple(NodeId(f"node-{i}") for i in range(4))


@dataclass
class BenchResult:
    """Everything one run measured; :meth:`as_json` is the report."""

    tickets: int
    ticks: int
    tick_seconds: float
    tick_ms: list[float] = field(default_factory=list)
    qualities: list[float] = field(default_factory=list)
    spreads: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    sizes: Counter[tuple[int, int]] = field(default_factory=Counter)
    parties: int = 0
    bot_parties: int = 0
    add_seconds: float = 0.0
    adds: int = 0
    remove_seconds: float = 0.0
    removes: int = 0

    def as_json(self) -> dict[str, Any]:
        """The report, with exactly the documented keys."""
        return {
            "tickets": self.tickets,
            "tick_ms": {
                "p50": _round(_percentile(self.tick_ms, 50)),
                "p99": _round(_percentile(self.tick_ms, 99)),
            },
            "quality": {
                "mean": _round(_mean(self.qualities), 4),
                "min": _round(min(self.qualities), 4) if self.qualities else None,
            },
            "skill_spread": {"mean": _round(_mean(self.spreads), 3)},
            "parties_per_tick": _round(self.parties / self.ticks if self.ticks else 0.0, 2),
            "wait_s": {
                "p50": _round(_percentile(self.waits, 50)),
                "p95": _round(_percentile(self.waits, 95)),
            },
        }

    def as_text(self) -> str:
        """The report for a terminal, with the extra figures."""
        report = self.as_json()
        sizes = ", ".join(
            f"{humans}+{bots} bots: {n}" if bots else f"{humans}: {n}"
            for (humans, bots), n in sorted(self.sizes.items(), reverse=True)
        )
        add_us = 1e6 * self.add_seconds / self.adds if self.adds else 0.0
        remove_us = 1e6 * self.remove_seconds / self.removes if self.removes else 0.0
        return "\n".join(
            [
                f"matchmaker tick: {self.tickets} queued tickets, {self.ticks} ticks of "
                f"{self.tick_seconds:g} s",
                f"  tick ms        p50 {report['tick_ms']['p50']}  p99 {report['tick_ms']['p99']}",
                f"  parties/tick   {report['parties_per_tick']}  ({self.bot_parties} of "
                f"{self.parties} bot-filled; sizes {sizes})",
                f"  quality        mean {report['quality']['mean']}  min "
                f"{report['quality']['min']}  (normalised, all-human parties)",
                f"  skill spread   mean {report['skill_spread']['mean']}",
                f"  wait s         p50 {report['wait_s']['p50']}  p95 {report['wait_s']['p95']}"
                "  (players who joined during the run)",
                f"  queue ops      add {add_us:.1f} µs  remove {remove_us:.1f} µs",
            ]
        )


def simulate(
    tickets: int,
    seed: int = 1,
    *,
    ticks: int = 300,
    settings: MatchmakerSettings | None = None,
    bots_enabled: bool = True,
    leave_rate: float = 0.001,
) -> BenchResult:
    """Run the synthetic queue; see the module docstring."""
    if tickets < 1 or ticks < 1:
        raise ValueError("need at least one ticket and one tick")
    settings = settings or MatchmakerSettings()
    former = PartyFormer(PartyRules.from_settings(settings, bots_enabled=bots_enabled))
    rng = random.Random(seed)
    result = BenchResult(tickets=tickets, ticks=ticks, tick_seconds=settings.tick_seconds)
    queued: list[PlayerId] = []
    where: dict[PlayerId, int] = {}
    initial = tickets

    def forget(player_id: PlayerId) -> None:
        i = where.pop(player_id)
        last = queued.pop()
        if last != player_id:
            queued[i] = last
            where[last] = i

    def join(number: int, enqueued_at: float) -> None:
        player_id = PlayerId(f"p{number}")
        ticket = _ticket(rng, player_id, enqueued_at)
        start = time.perf_counter()
        former.add(ticket)
        result.add_seconds += time.perf_counter() - start
        result.adds += 1
        where[player_id] = len(queued)
        queued.append(player_id)

    for number in range(tickets):
        join(number, -rng.uniform(0.0, 10.0))
    next_number = tickets
    tick = settings.tick_seconds
    for k in range(ticks):
        now = k * tick
        for _ in range(_leavers(rng, len(queued), leave_rate)):
            player_id = queued[rng.randrange(len(queued))]
            start = time.perf_counter()
            former.remove(player_id)
            result.remove_seconds += time.perf_counter() - start
            result.removes += 1
            forget(player_id)
        while len(queued) < tickets:
            join(next_number, now - rng.uniform(0.0, tick))
            next_number += 1
        start = time.perf_counter()
        parties = former.process_once(now)
        result.tick_ms.append(1000.0 * (time.perf_counter() - start))
        result.parties += len(parties)
        for party in parties:
            result.sizes[(len(party.tickets), party.bot_seats)] += 1
            if party.bot_seats:
                result.bot_parties += 1
            else:
                result.qualities.append(party.normalized_quality)
                result.spreads.append(party.spread)
            for t, waited in zip(party.tickets, party.waits(now), strict=True):
                forget(t.player_id)
                if int(t.player_id[1:]) >= initial:
                    result.waits.append(waited)
    return result


def run_bench(
    tickets: int,
    seed: int = 1,
    *,
    ticks: int = 300,
    settings: MatchmakerSettings | None = None,
    bots_enabled: bool = True,
) -> dict[str, Any]:
    """Run the benchmark and return the JSON report (keys in the module docstring)."""
    return simulate(
        tickets, seed, ticks=ticks, settings=settings, bots_enabled=bots_enabled
    ).as_json()


def add_bench_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``matchmaker`` to ``quill bench``; the parser sets ``func(args, settings)``."""
    parser = sub.add_parser("matchmaker", help="time the party-forming tick on a synthetic queue")
    parser.add_argument("--tickets", type=_positive, default=10_000, help="queued tickets")
    parser.add_argument("--ticks", type=_positive, default=300, help="ticks to simulate")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_command)


def _command(args: argparse.Namespace, settings: Settings) -> int:
    result = simulate(
        args.tickets,
        args.seed,
        ticks=args.ticks,
        settings=settings.matchmaker,
        bots_enabled=settings.bots.enabled,
    )
    print(json.dumps(result.as_json()) if args.json else result.as_text())
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m matchmaker.bench matchmaker --tickets N [--json]`` until the CLI has it."""
    parser = argparse.ArgumentParser(prog="python -m matchmaker.bench")
    sub = parser.add_subparsers(dest="bench", required=True)
    add_bench_commands(sub)
    args = parser.parse_args(argv)
    code: int = args.func(args, load_settings())
    return code


def _ticket(rng: random.Random, player_id: PlayerId, enqueued_at: float) -> Ticket:
    if rng.random() < NEWCOMER_SHARE:
        mu, sigma = 25.0, 25.0 / 3.0
    else:
        mu = min(50.0, max(0.0, rng.gauss(25.0, 8.0)))
        sigma = 1.5 + 6.8 * rng.random() ** 2
    mode = "practice" if rng.random() < PRACTICE_SHARE else "ranked"
    return Ticket(player_id, mu, sigma, mode, enqueued_at, rng.choice(NODES))


def _leavers(rng: random.Random, queued: int, rate: float) -> int:
    expected = queued * rate
    whole = math.floor(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


if __name__ == "__main__":
    raise SystemExit(main())

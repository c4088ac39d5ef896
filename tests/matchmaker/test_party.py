"""Party forming: table tests and invariants of PartyFormer (pure, time passed in)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from matchmaker.party import Party, PartyFormer, PartyRules, Ticket
from matchmaker.quality import ffa_quality, normalized_quality
from server.types import NodeId, PlayerId

NODE = NodeId("node-a")


def ticket(
    name: str, mu: float, *, sigma: float = 2.0, mode: str = "ranked", at: float = 0.0
) -> Ticket:
    return Ticket(PlayerId(name), mu, sigma, mode, at, NODE)


def former_with(tickets: list[Ticket], **rules: object) -> PartyFormer:
    former = PartyFormer(PartyRules(**rules))  # type: ignore[arg-type]
    for t in tickets:
        former.add(t)
    return former


def summary(parties: list[Party]) -> list[tuple[str, list[str], int]]:
    return [(p.mode, sorted(t.player_id for t in p.tickets), p.bot_seats) for p in parties]


def similar(prefix: str, count: int, mu: float = 25.0, **kw: object) -> list[Ticket]:
    return [ticket(f"{prefix}{i}", mu + 0.1 * i, **kw) for i in range(count)]  # type: ignore[arg-type]


SIX = similar("a", 6)
FIVE = similar("a", 5)
FOUR_AND_OUTLIER = [*similar("a", 4), ticket("x", 40.0)]
WEAK_AND_STRONG = [*similar("w", 5, mu=20.0), ticket("s", 40.0)]
SPREAD_FIVE = [ticket(f"e{i}", 20.0 + i) for i in range(6)]  # μ 20..25, spread 5
SPLIT_MODES = similar("r", 3) + similar("p", 3, mode="practice")
SEVEN = [*similar("a", 6, mu=20.0), ticket("far", 23.0)]

CASES = [
    # name, tickets, now, expected [(mode, player ids, bot seats)]
    ("six similar: one party of six", SIX, 0.0, [("ranked", ["a0", "a1", "a2", "a3", "a4", "a5"], 0)]),
    ("five similar, before accept_five: none", FIVE, 9.9, []),
    ("five similar at accept_five: five", FIVE, 10.0, [("ranked", ["a0", "a1", "a2", "a3", "a4"], 0)]),
    ("four + outlier before accept_four: none", FOUR_AND_OUTLIER, 19.9, []),
    ("four + outlier at accept_four: the four", FOUR_AND_OUTLIER, 20.0, [("ranked", ["a0", "a1", "a2", "a3"], 0)]),
    ("seven: the six closest", SEVEN, 0.0, [("ranked", ["a0", "a1", "a2", "a3", "a4", "a5"], 0)]),
    ("strong not stacked with weak", WEAK_AND_STRONG, 25.0, [("ranked", ["w0", "w1", "w2", "w3", "w4"], 0)]),
    ("spread 5 refused while fresh", SPREAD_FIVE, 6.0, []),
    ("spread 5 accepted after a wait", SPREAD_FIVE, 7.0, [("ranked", ["e0", "e1", "e2", "e3", "e4", "e5"], 0)]),
    ("modes never mix", SPLIT_MODES, 29.9, []),
    ("modes never mix, bot fill per mode", SPLIT_MODES, 30.0, [("practice", ["p0", "p1", "p2"], 1), ("ranked", ["r0", "r1", "r2"], 1)]),
    ("two players before bot fill: none", similar("b", 2), 29.9, []),
    ("two players at bot fill: two bots", similar("b", 2), 30.0, [("ranked", ["b0", "b1"], 2)]),
    ("alone at bot fill: three bots", [ticket("x", 40.0)], 30.0, [("ranked", ["x"], 3)]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "tickets", "now", "expected"), CASES, ids=[c[0] for c in CASES])
def test_forming_table(
    name: str, tickets: list[Ticket], now: float, expected: list[tuple[str, list[str], int]]
) -> None:
    former = former_with(tickets)
    parties = former.process_once(now)
    assert sorted(summary(parties)) == sorted(expected)
    for party in parties:
        assert party.size >= 4 if party.bot_seats else 4 <= party.size <= 6
    assert len(former) == len(tickets) - sum(len(p.tickets) for p in parties)


@pytest.mark.parametrize(
    ("mus", "bots", "bot_mu"),
    [([40.0], 3, 40.0), ([30.0, 31.0], 2, 30.5), ([10.0, 11.0, 12.0], 1, 11.0)],
)
def test_bot_fill_count_and_skill(mus: list[float], bots: int, bot_mu: float) -> None:
    tickets = [ticket(f"h{i}", mu) for i, mu in enumerate(mus)]
    assert former_with(tickets).process_once(29.0) == []
    (party,) = former_with(tickets).process_once(30.0)
    assert party.bot_seats == bots
    assert party.bot_mu == pytest.approx(bot_mu)
    assert party.size == 4


def test_no_bots_when_disabled() -> None:
    former = former_with(similar("b", 3), bot_fill=False)
    assert former.process_once(1000.0) == []
    assert len(former) == 3


def test_strong_player_never_joins_weak_ones_over_time() -> None:
    former = former_with(WEAK_AND_STRONG)
    formed: list[tuple[float, Party]] = []
    for step in range(81):
        now = step * 0.5
        formed.extend((now, p) for p in former.process_once(now))
    assert [(now, sorted(t.player_id for t in p.tickets), p.bot_seats) for now, p in formed] == [
        (10.0, ["w0", "w1", "w2", "w3", "w4"], 0),
        (30.0, ["s"], 3),
    ]
    assert formed[1][1].bot_mu == 40.0


def test_party_fields() -> None:
    tickets = [ticket(f"q{i}", 25.0 + i * 0.7, sigma=1.5 + i, at=-i) for i in range(6)]
    (party,) = former_with(tickets).process_once(2.0)
    mus = [t.mu for t in party.tickets]
    assert mus == sorted(mus)
    quality = ffa_quality(mus, [t.sigma for t in party.tickets])
    assert party.quality == pytest.approx(quality, rel=1e-12)
    assert party.normalized_quality == pytest.approx(normalized_quality(quality, 6))
    assert party.spread == pytest.approx(3.5)
    assert party.bot_mu is None
    assert party.waits(2.0) == [2.0 + i for i in range(6)]


def test_leave_removes_a_ticket() -> None:
    former = former_with(SIX)
    removed = former.remove(PlayerId("a2"))
    assert removed == SIX[2]
    assert former.remove(PlayerId("a2")) is None
    assert PlayerId("a2") not in former
    assert len(former) == 5
    assert former.process_once(0.0) == []
    former.add(SIX[2])
    (party,) = former.process_once(0.0)
    assert len(party.tickets) == 6
    assert len(former) == 0


def test_re_adding_a_player_replaces_the_ticket() -> None:
    former = former_with(SIX)
    former.add(SIX[0])  # the same ticket again: nothing changes
    assert len(former) == 6
    moved = replace(SIX[0], mu=45.0)
    former.add(moved)
    assert former.get(PlayerId("a0")) == moved
    assert former.queued("ranked") == 6
    assert former.process_once(0.0) == []  # a0 is now far from the others
    switched = replace(SIX[0], mode="practice")
    former.add(switched)
    assert (former.queued("ranked"), former.queued("practice")) == (5, 1)


@pytest.mark.parametrize(
    "bad",
    [
        ticket("n", float("nan")),
        ticket("i", float("inf")),
        ticket("s", 25.0, sigma=-1.0),
        ticket("m", 25.0, mode=""),
        ticket("t", 25.0, at=float("nan")),
    ],
)
def test_bad_tickets_are_refused(bad: Ticket) -> None:
    with pytest.raises(ValueError):
        PartyFormer().add(bad)


def test_parties_per_tick_are_capped() -> None:
    former = former_with(similar("c", 18), max_parties_per_tick=2)
    assert len(former.process_once(0.0)) == 2
    assert len(former.process_once(0.5)) == 1


def test_failed_seeds_wait_but_can_still_be_picked_as_neighbours() -> None:
    former = former_with(FIVE, retry_seconds=5.0)
    assert former.process_once(0.0) == []  # all five failed as seeds
    former.add(ticket("late", 25.2, at=1.0))
    (party,) = former.process_once(1.0)  # the new ticket seeds a party with them
    assert len(party.tickets) == 6


def test_retry_never_delays_a_size_or_bot_step() -> None:
    former = former_with(FIVE, retry_seconds=100.0)
    assert former.process_once(9.5) == []
    (party,) = former.process_once(10.0)
    assert len(party.tickets) == 5
    former = former_with(similar("b", 2), retry_seconds=100.0)
    assert former.process_once(29.5) == []
    (party,) = former.process_once(30.0)
    assert party.bot_seats == 2


def test_old_unmatchable_tickets_do_not_starve_the_rest() -> None:
    outliers = [ticket(f"o{i}", -500.0 + 100 * i) for i in range(9)]
    fresh = similar("f", 6, at=0.1)
    former = former_with(outliers + fresh, max_seeds_per_tick=3, retry_seconds=100.0)
    assert former.process_once(0.5) == []
    assert former.process_once(1.0) == []
    assert former.process_once(1.5) == []
    (party,) = former.process_once(2.0)
    assert sorted(t.player_id for t in party.tickets) == [f"f{i}" for i in range(6)]


def random_queue(rng: random.Random, count: int) -> list[Ticket]:
    return [
        ticket(
            f"r{i}",
            min(50.0, max(0.0, rng.gauss(25.0, 8.0))),
            sigma=rng.uniform(1.5, 8.3),
            mode=rng.choice(["ranked", "practice"]),
            at=rng.uniform(0.0, 20.0),
        )
        for i in range(count)
    ]


def run(former: PartyFormer, tickets: list[Ticket], until: float) -> list[tuple[float, Party]]:
    """Add each ticket at its enqueue time and tick every 0.5 s until ``until``."""
    pending = sorted(tickets, key=lambda t: t.enqueued_at)
    out: list[tuple[float, Party]] = []
    for step in range(int(until / 0.5) + 1):
        now = step * 0.5
        while pending and pending[0].enqueued_at <= now:
            former.add(pending.pop(0))
        out.extend((now, p) for p in former.process_once(now))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_invariants_on_random_queues(seed: int) -> None:
    rng = random.Random(seed)
    tickets = random_queue(rng, 400)
    rules = PartyRules()
    former = PartyFormer(rules)
    formed = run(former, tickets, until=60.0)
    seen = [t.player_id for _, p in formed for t in p.tickets]
    assert len(seen) == len(set(seen)), "a ticket was in two parties"
    assert sorted(seen) == sorted(t.player_id for t in tickets), "everyone is matched by the end"
    assert len(former) == 0
    for now, party in formed:
        assert len({t.mode for t in party.tickets}) == 1
        humans = len(party.tickets)
        waited = max(party.waits(now))
        assert party.spread <= rules.max_spread(waited) + 1e-9 <= rules.spread_cap + 1e-9
        if party.bot_seats:
            assert humans < rules.party_min and party.size == rules.party_min
            assert waited >= rules.bot_fill_after
        else:
            assert rules.smallest_size(waited) <= humans <= rules.party_max
        assert waited <= rules.bot_fill_after + 0.5


def test_deterministic_whatever_the_insertion_order() -> None:
    rng = random.Random(7)
    tickets = random_queue(rng, 300)
    shuffled = tickets[:]
    rng.shuffle(shuffled)
    results = []
    for order in (tickets, shuffled):
        former = former_with(order)
        results.append([summary(former.process_once(now)) for now in (0.0, 10.0, 20.0, 30.0)])
    assert results[0] == results[1]
    assert results[0][0], "something formed in the first tick"


def test_wait_estimate_learns_from_matches() -> None:
    former = former_with(similar("a", 6, at=0.0) + similar("z", 6, mu=40.0, at=4.0))
    assert former.estimate_wait("ranked", 25.0) == 30.0  # no data yet: the bot-fill wait
    former.process_once(6.0)
    assert former.estimate_wait("ranked", 25.0) == pytest.approx(6.0)
    assert former.estimate_wait("ranked", 40.0) == pytest.approx(2.0)
    assert former.estimate_wait("practice", 25.0) == 30.0

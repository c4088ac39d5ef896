"""The party split as a table: sizes, bots, refusals, and who goes with whom."""

from __future__ import annotations

import pytest

from server.lobbies.parties import CannotSplit, Rated, Size, form_parties, party_sizes
from server.types import PlayerId

SIZES = [
    # players, min, max, bots, parties (humans, bots)
    (14, 4, 6, False, [(5, 0), (5, 0), (4, 0)]),
    (9, 4, 6, False, [(5, 0), (4, 0)]),
    (4, 4, 6, False, [(4, 0)]),
    (6, 4, 6, False, [(6, 0)]),
    (12, 4, 6, False, [(6, 0), (6, 0)]),
    (13, 4, 6, False, [(5, 0), (4, 0), (4, 0)]),
    (60, 4, 6, False, [(6, 0)] * 10),
    (61, 4, 6, False, [(6, 0)] * 6 + [(5, 0)] * 5),
    (8, 4, 4, False, [(4, 0), (4, 0)]),
    (10, 5, 5, False, [(5, 0), (5, 0)]),
    (3, 4, 6, True, [(3, 1)]),
    (1, 4, 6, True, [(1, 3)]),
    (7, 4, 6, True, [(4, 0), (3, 1)]),
    (11, 6, 6, True, [(6, 0), (5, 1)]),
    (14, 4, 6, True, [(5, 0), (5, 0), (4, 0)]),  # bots only where seats would be short
]


@pytest.mark.parametrize(("n", "lo", "hi", "bots", "want"), SIZES)
def test_party_sizes(n: int, lo: int, hi: int, bots: bool, want: list[tuple[int, int]]) -> None:
    assert party_sizes(n, lo, hi, bots=bots) == [Size(h, b) for h, b in want]


REFUSED = [
    (3, 4, 6, "turn bots on"),
    (7, 4, 6, "cannot be split into parties of 4–6"),
    (1, 4, 6, "1 player cannot"),
    (11, 6, 6, "turn bots on"),
    (0, 4, 6, "nobody"),
]


@pytest.mark.parametrize(("n", "lo", "hi", "says"), REFUSED)
def test_splits_that_cannot_be_made_are_refused_clearly(
    n: int, lo: int, hi: int, says: str
) -> None:
    with pytest.raises(CannotSplit, match=says):
        party_sizes(n, lo, hi, bots=False)


def test_nobody_even_with_bots() -> None:
    with pytest.raises(CannotSplit, match="nobody"):
        party_sizes(0, 4, 6, bots=True)


def rated(n: int) -> list[Rated]:
    return [Rated(PlayerId(f"p{i:02d}"), mu=10.0 + 2 * i, sigma=3.0) for i in range(n)]


def test_random_split_seats_everyone_once_whatever_the_order() -> None:
    players = rated(14)
    a = form_parties(players, 4, 6, bots=False, split="random", seed=7)
    b = form_parties(list(reversed(players)), 4, 6, bots=False, split="random", seed=7)
    assert a == b
    seated = [p for party in a for p in party.players]
    assert sorted(seated) == sorted(r.player for r in players)
    assert [len(p.players) for p in a] == [5, 5, 4]
    assert form_parties(players, 4, 6, bots=False, split="random", seed=8) != a


def test_rating_split_keeps_neighbours_together_and_beats_random_quality() -> None:
    players = rated(14)
    by_rating = form_parties(players, 4, 6, bots=False, split="rating", seed=1)
    assert [p.players for p in by_rating] == [
        tuple(PlayerId(f"p{i:02d}") for i in range(13, 8, -1)),
        tuple(PlayerId(f"p{i:02d}") for i in range(8, 3, -1)),
        tuple(PlayerId(f"p{i:02d}") for i in range(3, -1, -1)),
    ]
    shuffled = form_parties(players, 4, 6, bots=False, split="random", seed=1)
    assert min(p.quality for p in by_rating) > min(p.quality for p in shuffled)
    assert all(0 < p.quality <= 1 for p in by_rating)


def test_a_lone_player_with_bots_has_quality_one() -> None:
    (party,) = form_parties(rated(1), 4, 6, bots=True, split="rating", seed=1)
    assert party.bots == 3 and party.quality == 1.0

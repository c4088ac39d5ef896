"""Review assignment and aliases: table tests for 4–6 seats, leavers, empty pieces, k = 1..3."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from server.game.assign import ANIMALS, ReviewPlan, assign_reviews, make_aliases

SEATS = {n: [f"s{i}" for i in range(n)] for n in range(2, 13)}


def check_plan(plan: ReviewPlan[str], pieces: list[str], reviewers: list[str], k: int) -> None:
    """Every piece gets exactly plan.k reviews, never from its writer, loads differ by ≤ 1."""
    assert set(plan.by_piece) == set(pieces)
    assert set(plan.by_reviewer) == set(reviewers)
    for piece, revs in plan.by_piece.items():
        assert len(revs) == plan.k
        assert len(set(revs)) == len(revs)
        assert piece not in revs
        assert set(revs) <= set(reviewers)
    loads = [len(v) for v in plan.by_reviewer.values()]
    if loads:
        assert max(loads) - min(loads) <= 1
    assert sum(loads) == plan.k * len(pieces)
    pairs = {(p, r) for p, rs in plan.by_piece.items() for r in rs}
    assert pairs == {(p, r) for r, ps in plan.by_reviewer.items() for p in ps}
    if pieces and reviewers:
        most = min(len(reviewers) - (p in reviewers) for p in pieces)
        assert plan.k == max(0, min(k, most))


# n seats, k, leavers (indices), empty pieces (indices), expected k used, expected loads
TABLE = [
    (4, 1, (), (), 1, {1}),
    (4, 2, (), (), 2, {2}),
    (4, 3, (), (), 3, {3}),
    (5, 1, (), (), 1, {1}),
    (5, 2, (), (), 2, {2}),
    (5, 3, (), (), 3, {3}),
    (6, 1, (), (), 1, {1}),
    (6, 2, (), (), 2, {2}),
    (6, 3, (), (), 3, {3}),
    # one leaver: 4 pieces, 3 reviewers; a leaver's piece can go to all three
    (4, 1, (0,), (), 1, {1, 2}),
    (4, 2, (0,), (), 2, {2, 3}),
    (4, 3, (0,), (), 2, {2, 3}),  # only 2 others can review a reviewer's piece
    (5, 2, (4,), (), 2, {2, 3}),
    (5, 3, (4,), (), 3, {3, 4}),
    (6, 2, (1,), (), 2, {2, 3}),
    (6, 3, (2,), (), 3, {3, 4}),
    # two leavers
    (5, 2, (0, 1), (), 2, {3, 4}),
    (6, 3, (0, 5), (), 3, {4, 5}),
    (6, 1, (0, 5), (), 1, {1, 2}),
    # empty pieces: not reviewed, but their writers still review
    (4, 2, (), (3,), 2, {1, 2}),
    (5, 2, (), (0, 1), 2, {1, 2}),
    (6, 3, (), (2,), 3, {2, 3}),
    (6, 2, (), (0, 1, 2, 3, 4, 5), 0, {0}),
    # a leaver who wrote nothing, and an empty piece by a reviewer
    (5, 2, (0,), (0, 1), 2, {1, 2}),
    (6, 3, (0, 1), (0,), 3, {3, 4}),
    # only two seats still reviewing
    (4, 3, (0, 1), (), 1, {2}),
    (4, 2, (0, 1, 2), (), 0, {0}),  # one reviewer: cannot review its own piece
]


@pytest.mark.parametrize(("n", "k", "leavers", "empty", "k_used", "loads"), TABLE)
def test_assignment_table(
    n: int, k: int, leavers: tuple[int, ...], empty: tuple[int, ...], k_used: int, loads: set[int]
) -> None:
    seats = SEATS[n]
    pieces = [s for i, s in enumerate(seats) if i not in empty]
    reviewers = [s for i, s in enumerate(seats) if i not in leavers]
    for seed in range(5):
        plan = assign_reviews(pieces, k, seed, reviewers=reviewers)
        check_plan(plan, pieces, reviewers, k)
        assert plan.k == k_used
        assert {len(v) for v in plan.by_reviewer.values()} <= loads


@pytest.mark.parametrize("n", range(2, 9))
@pytest.mark.parametrize("k", range(1, 6))
def test_every_subset_of_leavers_and_empty_pieces(n: int, k: int) -> None:
    seats = SEATS[n]
    masks = list(itertools.product([False, True], repeat=n))
    for left in masks[:: max(1, len(masks) // 24)]:
        for empty in masks[:: max(1, len(masks) // 24)]:
            pieces = [s for s, e in zip(seats, empty, strict=True) if not e]
            reviewers = [s for s, gone in zip(seats, left, strict=True) if not gone]
            check_plan(
                assign_reviews(pieces, k, n * 31 + k, reviewers=reviewers), pieces, reviewers, k
            )


def test_same_inputs_same_plan_whatever_the_order() -> None:
    a = assign_reviews(["a", "b", "c", "d", "e"], 2, 42)
    b = assign_reviews(["e", "d", "c", "b", "a"], 2, 42)
    assert a == b


def test_seeds_vary_the_plan() -> None:
    plans = {
        tuple(sorted(assign_reviews(SEATS[6], 2, seed).by_piece.items())) for seed in range(20)
    }
    assert len(plans) > 5


def test_everyone_reviewing_the_same_pieces_is_spread_over_seeds() -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for seed in range(300):
        plan = assign_reviews(SEATS[5], 1, seed)
        counts.update((p, r[0]) for p, r in plan.by_piece.items())
    assert len(counts) == 5 * 4  # every ordered pair of different seats happens


def test_nothing_to_assign() -> None:
    assert assign_reviews([], 2, 1, reviewers=["a"]).by_reviewer == {"a": ()}
    assert assign_reviews(["a"], 2, 1, reviewers=[]).by_piece == {"a": ()}
    assert assign_reviews(["a", "b"], 0, 1).k == 0


@pytest.mark.parametrize("n", [2, 4, 5, 6, 12, len(ANIMALS)])
def test_aliases_are_distinct_stable_and_not_ids(n: int) -> None:
    seats = [f"user-{i}" for i in range(n)]
    aliases = make_aliases(seats, seed=3)
    assert len(set(aliases.values())) == n
    assert aliases == make_aliases(seats, seed=3)
    assert all(s not in a for s, a in aliases.items())
    assert make_aliases(seats, seed=4) != aliases or n < 2


def test_aliases_refuse_duplicates_and_too_many_seats() -> None:
    with pytest.raises(ValueError):
        make_aliases(["a", "a"], 1)
    with pytest.raises(ValueError):
        make_aliases([f"s{i}" for i in range(len(ANIMALS) + 1)], 1)

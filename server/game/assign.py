"""Who reviews whom, and the anonymous aliases pieces are shown under.  Pure functions.

:func:`assign_reviews` gives every piece exactly ``k`` reviewers, never its own writer, and
spreads the work so reviewers' loads differ by at most one (exactly ``k`` each when the
writers and the reviewers are the same seats).  After someone leaves, leavers do not
review but their piece, if not empty, is still reviewed; empty (and moderation-blocked)
pieces are left out of ``pieces`` by the caller, so nobody gets an empty piece to review
and their writers still review others.  ``k`` is lowered when there are too few reviewers
(a piece by a reviewing seat can have at most ``reviewers - 1`` reviews); the plan says
which ``k`` it used.

Deterministic: the same seats, ``k`` and seed give the same plan, whatever the input order.
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", bound=str)

ADJECTIVES = (
    "Amber", "Brave", "Calm", "Clever", "Coral", "Daring", "Gentle", "Golden",
    "Hidden", "Jade", "Lively", "Lucky", "Quiet", "Silver", "Swift", "Witty",
)  # fmt: skip
ANIMALS = (
    "Badger", "Crane", "Dolphin", "Falcon", "Fox", "Gecko", "Heron", "Ibis",
    "Lynx", "Marten", "Otter", "Owl", "Panda", "Puffin", "Raven", "Seal",
)  # fmt: skip


def make_aliases(seat_ids: Sequence[T], seed: int) -> dict[T, str]:
    """A distinct "Adjective Animal" alias per seat, derived from the seed only."""
    if len(set(seat_ids)) != len(seat_ids):
        raise ValueError("seat ids must be distinct")
    if len(seat_ids) > len(ANIMALS):
        raise ValueError(f"at most {len(ANIMALS)} seats")
    rng = random.Random(f"aliases:{seed}")
    adjectives = rng.sample(ADJECTIVES, len(seat_ids))
    animals = rng.sample(ANIMALS, len(seat_ids))
    return {s: f"{a} {b}" for s, a, b in zip(seat_ids, adjectives, animals, strict=True)}


@dataclass(frozen=True, slots=True)
class ReviewPlan(Generic[T]):
    k: int  # reviews every piece receives
    by_reviewer: dict[T, tuple[T, ...]]  # reviewer → writers of the pieces to review
    by_piece: dict[T, tuple[T, ...]]  # writer → its reviewers


def assign_reviews(
    seat_ids: Sequence[T], k: int, seed: int, *, reviewers: Sequence[T] | None = None
) -> ReviewPlan[T]:
    """Assign each piece (named by its writer in ``seat_ids``) to ``k`` reviewers.

    ``reviewers`` defaults to ``seat_ids`` (everyone writes and reviews).
    """
    pieces = sorted(set(seat_ids))
    revs = sorted(set(seat_ids if reviewers is None else reviewers))
    rng = random.Random(f"reviews:{seed}")
    rng.shuffle(pieces)
    rng.shuffle(revs)
    if not pieces or not revs or k <= 0:
        return ReviewPlan(0, {r: () for r in revs}, {p: () for p in pieces})
    rev_set = set(revs)
    k = min(k, min(len(revs) - (p in rev_set) for p in pieces))
    if k <= 0:
        return ReviewPlan(0, {r: () for r in revs}, {p: () for p in pieces})
    base, extra = divmod(k * len(pieces), len(revs))
    # Reviewers who wrote no listed piece can take any piece: give them the extra load first.
    free_first = sorted(range(len(revs)), key=lambda i: revs[i] in set(pieces))
    for chosen in itertools.islice(itertools.combinations(free_first, extra), 5000):
        loads = [base + (i in chosen) for i in range(len(revs))]
        edges = _flow(pieces, revs, k, loads)
        if edges is not None:
            by_reviewer = {r: tuple(p for p in pieces if (p, r) in edges) for r in revs}
            by_piece = {p: tuple(r for r in revs if (p, r) in edges) for p in pieces}
            return ReviewPlan(k, by_reviewer, by_piece)
    raise AssertionError("no review plan found")  # pragma: no cover - tests search all small cases


def _flow(pieces: list[T], revs: list[T], k: int, loads: list[int]) -> set[tuple[T, T]] | None:
    """Max flow source → piece (k) → reviewer (1 per pair, no self) → sink (load)."""
    n_p, n_r = len(pieces), len(revs)
    src, sink = 0, 1 + n_p + n_r
    size = sink + 1
    cap = [[0] * size for _ in range(size)]
    for i, p in enumerate(pieces):
        cap[src][1 + i] = k
        for j, r in enumerate(revs):
            if p != r:
                cap[1 + i][1 + n_p + j] = 1
    for j in range(n_r):
        cap[1 + n_p + j][sink] = loads[j]
    need = k * n_p
    flow = 0
    while flow < need:
        parent = [-1] * size
        parent[src] = src
        queue = deque([src])
        while queue and parent[sink] < 0:
            u = queue.popleft()
            for v in range(size):
                if parent[v] < 0 and cap[u][v] > 0:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return None
        v = sink
        while v != src:
            u = parent[v]
            cap[u][v] -= 1
            cap[v][u] += 1
            v = u
        flow += 1
    return {
        (p, r)
        for i, p in enumerate(pieces)
        for j, r in enumerate(revs)
        if p != r and cap[1 + i][1 + n_p + j] == 0
    }

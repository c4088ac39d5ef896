"""Splitting a lobby's roster into parties: pure, told everything, no I/O.

Sizes (:func:`party_sizes`): ``k = ceil(n / party_max)`` parties, as even as possible,
larger first (14 → 5, 5, 4 with 4–6).  That is the only number of parties that can
work: fewer would hold more than ``party_max``, more would hold fewer per party.  When
the even split leaves a party below ``party_min`` (3 players, or 7 with 4–6), bots fill
the short parties up to ``party_min`` if the lobby allows bots; otherwise the split is
refused with :class:`CannotSplit` saying what would work.

Who goes where (:func:`form_parties`):

- ``random``: shuffled with the round's seed, then cut in order;
- ``rating``: by rating (μ, highest first), cut into consecutive runs, so each party
  holds players of similar skill: the best TrueSkill match quality for these sizes, as
  the matchmaker's windows of neighbouring μ (``matchmaker/party``).

Each party's quality is :func:`server.game.rating.ffa_quality` of its humans.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from server.errors import QuillError
from server.game.rating import DEFAULT_MU, DEFAULT_SIGMA, ffa_quality
from server.types import PlayerId

Split = Literal["random", "rating"]
MIN_MATCH_SEATS = 2  # the engine's smallest match


class CannotSplit(QuillError):
    """The roster cannot be split into parties of the lobby's sizes."""


@dataclass(frozen=True, slots=True)
class Size:
    humans: int
    bots: int = 0


@dataclass(frozen=True, slots=True)
class Rated:
    player: PlayerId
    mu: float = DEFAULT_MU
    sigma: float = DEFAULT_SIGMA


@dataclass(frozen=True, slots=True)
class Party:
    players: tuple[PlayerId, ...]
    bots: int
    quality: float


def party_sizes(n: int, party_min: int, party_max: int, *, bots: bool) -> list[Size]:
    """The parties for ``n`` players (see the module docstring); larger parties first."""
    if not 1 <= party_min <= party_max:
        raise ValueError(f"bad party sizes {party_min}..{party_max}")
    if n <= 0:
        raise CannotSplit("nobody is in the lobby to play")
    k = math.ceil(n / party_max)
    base, extra = divmod(n, k)
    humans = [base + 1] * extra + [base] * (k - extra)
    if base >= party_min:
        return [Size(h) for h in humans]
    if not bots:
        raise CannotSplit(
            f"{n} player{'s' if n != 1 else ''} cannot be split into parties of "
            f"{party_min}–{party_max}: turn bots on to fill the seats, or change the "
            "party sizes"
        )
    return [Size(h, max(0, max(party_min, MIN_MATCH_SEATS) - h)) for h in humans]


def form_parties(
    players: Sequence[Rated],
    party_min: int,
    party_max: int,
    *,
    bots: bool,
    split: Split,
    seed: int,
) -> list[Party]:
    """Who plays with whom this round; raises :class:`CannotSplit`."""
    sizes = party_sizes(len(players), party_min, party_max, bots=bots)
    if split == "rating":
        order = sorted(players, key=lambda r: (-r.mu, r.player))
    else:
        order = sorted(players, key=lambda r: r.player)  # independent of the caller's order
        random.Random(seed).shuffle(order)
    parties: list[Party] = []
    at = 0
    for size in sizes:
        group = order[at : at + size.humans]
        at += size.humans
        quality = ffa_quality([(r.mu, r.sigma) for r in group]) if len(group) > 1 else 1.0
        parties.append(Party(tuple(r.player for r in group), size.bots, quality))
    return parties

"""The party former: a queue of tickets per mode and one pure ``process_once(now)`` per tick.

Each mode keeps two sorted indexes of its tickets: by ``(μ, player id)`` and by
``(enqueued_at, player id)``.  Adding or removing a ticket touches one short run in each
(see :mod:`matchmaker.party.keys`), so players joining and leaving stay cheap at 100k.

A tick walks the tickets of all modes oldest first and tries each as a seed (skipping
seeds that failed less than ``retry_seconds`` ago).  It looks at the ``party_max − 1``
tickets either side of the seed in μ order (same mode) and scores every window of
consecutive tickets that holds the seed: largest allowed size first, best normalised
quality within a size, accepted under :class:`~matchmaker.party.rules.PartyRules`.
Windows are scored from prefix sums of the O(n) closed form in :mod:`matchmaker.quality`,
so a seed costs O(party_max²).  The chosen tickets leave the queue at once, so no ticket
is in two parties.  A seed that has waited ``bot_fill_after`` and fits no all-human
party gets a smaller party completed with bots.  The per-tick limits of the rules bound
the work of one tick.

Sizes are not ranked against each other on normalised quality: its σ part favours fewer
and more certain players, so a 4 would beat a 6 most of the time once 4s are allowed.
"Full parties preferred" is kept literally (the largest acceptable size wins); the
normalisation is what lets one set of thresholds serve every size.

Nothing here reads a clock or does I/O; equal inputs give equal outputs whatever the
order the tickets were added in.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from itertools import islice

from matchmaker.estimate import WaitEstimator
from matchmaker.party.keys import Key, SortedKeys
from matchmaker.party.rules import PartyRules
from matchmaker.party.ticket import Party, Ticket
from matchmaker.quality import normalized_quality
from server.types import PlayerId


class _Entry:
    """A queued ticket with what scoring needs precomputed."""

    __slots__ = ("age_key", "enq", "log_c", "mu", "mu_key", "retry_at", "ticket", "w")

    def __init__(self, ticket: Ticket, beta2: float) -> None:
        c = beta2 + ticket.sigma * ticket.sigma
        self.ticket = ticket
        self.mu = ticket.mu
        self.enq = ticket.enqueued_at
        self.w = 1.0 / c
        self.log_c = math.log(c)
        self.mu_key: Key = (ticket.mu, ticket.player_id)
        self.age_key: Key = (ticket.enqueued_at, ticket.player_id)
        self.retry_at = -math.inf


class _Pool:
    """The tickets of one mode."""

    __slots__ = ("by_age", "by_mu")

    def __init__(self) -> None:
        self.by_mu = SortedKeys()
        self.by_age = SortedKeys()


class PartyFormer:
    """Queued tickets and the party-forming tick.  Constructing it starts nothing."""

    def __init__(self, rules: PartyRules | None = None) -> None:
        self.rules = rules or PartyRules()
        self._beta2 = self.rules.beta * self.rules.beta
        self._log_beta2 = math.log(self._beta2)
        self._entries: dict[str, _Entry] = {}
        self._pools: dict[str, _Pool] = {}
        self._estimators: dict[str, WaitEstimator] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, player_id: object) -> bool:
        return player_id in self._entries

    def get(self, player_id: PlayerId) -> Ticket | None:
        """The queued ticket of ``player_id``, if any."""
        entry = self._entries.get(player_id)
        return entry.ticket if entry is not None else None

    def queued(self, mode: str) -> int:
        """How many tickets of ``mode`` are queued."""
        pool = self._pools.get(mode)
        return len(pool.by_mu) if pool is not None else 0

    def add(self, ticket: Ticket) -> None:
        """Queue ``ticket``; a different ticket of the same player replaces the queued one.

        Adding an identical ticket again is a no-op (at-least-once delivery is fine).
        Raises ``ValueError`` for a non-finite μ, σ or enqueue time, a negative σ or an
        empty mode.
        """
        if not (
            math.isfinite(ticket.mu)
            and math.isfinite(ticket.sigma)
            and math.isfinite(ticket.enqueued_at)
            and ticket.sigma >= 0
            and ticket.mode
        ):
            raise ValueError(f"bad ticket {ticket!r}")
        old = self._entries.get(ticket.player_id)
        if old is not None:
            if old.ticket == ticket:
                return
            self._drop(old)
        entry = _Entry(ticket, self._beta2)
        pool = self._pools.get(ticket.mode)
        if pool is None:
            pool = self._pools[ticket.mode] = _Pool()
        pool.by_mu.add(entry.mu_key)
        pool.by_age.add(entry.age_key)
        self._entries[ticket.player_id] = entry

    def remove(self, player_id: PlayerId) -> Ticket | None:
        """Take a player out of the queue; return the ticket, or None if not queued."""
        entry = self._entries.get(player_id)
        if entry is None:
            return None
        self._drop(entry)
        return entry.ticket

    def estimate_wait(self, mode: str, mu: float) -> float:
        """Expected wait in seconds for a player of rating ``mu`` joining ``mode`` now."""
        est = self._estimators.get(mode)
        return est.estimate(mu) if est is not None else self._default_wait()

    def process_once(self, now: float) -> list[Party]:
        """Form this tick's parties; their tickets leave the queue."""
        rules = self.rules
        if not self._entries:
            return []
        scans = [_walk(self._pools[mode].by_age) for mode in sorted(self._pools)]
        parties: list[Party] = []
        entries = self._entries
        examined = 0
        for key in islice(heapq.merge(*scans), rules.max_scan_per_tick):
            seed = entries.get(key[1])
            if seed is None or seed.age_key != key or seed.retry_at > now:
                continue
            party = self._form(seed, now)
            if party is None:
                step_at = seed.enq + rules.next_step(now - seed.enq)
                seed.retry_at = min(now + rules.retry_seconds, step_at)
            else:
                parties.append(party)
                if len(parties) >= rules.max_parties_per_tick:
                    break
            examined += 1
            if examined >= rules.max_seeds_per_tick:
                break
        return parties

    def _estimator(self, mode: str) -> WaitEstimator:
        est = self._estimators.get(mode)
        if est is None:
            est = self._estimators[mode] = WaitEstimator(default_seconds=self._default_wait())
        return est

    def _default_wait(self) -> float:
        """The estimate before any match: the bot-fill wait (or accept-four without bots)."""
        rules = self.rules
        return rules.bot_fill_after if rules.bot_fill else rules.accept_four_after

    def _drop(self, entry: _Entry, *, in_mu_index: bool = True) -> None:
        mode = entry.ticket.mode
        pool = self._pools[mode]
        if in_mu_index:
            pool.by_mu.remove(entry.mu_key)
        pool.by_age.remove(entry.age_key)
        del self._entries[entry.ticket.player_id]
        if not len(pool.by_age):
            del self._pools[mode]

    def _form(self, seed: _Entry, now: float) -> Party | None:
        rules = self.rules
        pool = self._pools[seed.ticket.mode]
        keys, center = pool.by_mu.around(seed.mu_key, rules.party_max - 1)
        entries = self._entries
        window = [entries[k[1]] for k in keys]
        count = len(window)
        mus = [e.mu for e in window]
        enqs = [e.enq for e in window]
        # Prefix sums of w, w·d, w·d² (d = μ − seed μ, small, so no cancellation) and log c.
        sw = [0.0] * (count + 1)
        swd = [0.0] * (count + 1)
        swd2 = [0.0] * (count + 1)
        slc = [0.0] * (count + 1)
        base = seed.mu
        for i, e in enumerate(window):
            d = e.mu - base
            wd = e.w * d
            sw[i + 1] = sw[i] + e.w
            swd[i + 1] = swd[i] + wd
            swd2[i + 1] = swd2[i] + wd * d
            slc[i + 1] = slc[i] + e.log_c
        log_beta2 = self._log_beta2

        def best_of(size: int, humans_only: bool) -> tuple[int, float] | None:
            """Start and log quality of the best accepted window of ``size`` with the seed."""
            best_score = -math.inf
            best: tuple[int, float] | None = None
            for start in range(max(0, center - size + 1), min(center, count - size) + 1):
                stop = start + size
                wait = max(0.0, now - min(enqs[start:stop]))
                if humans_only and size < rules.smallest_size(wait):
                    continue
                if size == 1:
                    return start, 0.0
                if mus[stop - 1] - mus[start] > rules.max_spread(wait):
                    continue
                w = sw[stop] - sw[start]
                s1 = swd[stop] - swd[start]
                spread_term = max(0.0, swd2[stop] - swd2[start] - s1 * s1 / w)
                if math.exp(-0.5 * spread_term / (size - 1)) < rules.min_closeness(wait):
                    continue
                log_q = 0.5 * (
                    math.log(size)
                    + (size - 1) * log_beta2
                    - (slc[stop] - slc[start])
                    - math.log(w)
                    - spread_term
                )
                score = log_q / (size - 1)
                if score > best_score:
                    best_score, best = score, (start, log_q)
            return best

        smallest = rules.smallest_size(max(0.0, now - min(enqs)))
        for size in range(min(rules.party_max, count), smallest - 1, -1):
            found = best_of(size, humans_only=True)
            if found is not None:
                start, log_q = found
                return self._take(pool, window[start : start + size], log_q, now, bots=0)
        if not rules.wants_bots(now - seed.enq):
            return None
        for size in range(min(rules.party_min - 1, count), 0, -1):
            found = best_of(size, humans_only=False)
            if found is not None:
                start, log_q = found
                members = window[start : start + size]
                return self._take(pool, members, log_q, now, bots=rules.party_min - size)
        return None  # unreachable: the seed alone is always accepted

    def _take(
        self, pool: _Pool, members: list[_Entry], log_q: float, now: float, bots: int
    ) -> Party:
        tickets = tuple(e.ticket for e in members)
        mus = [e.mu for e in members]
        pool.by_mu.remove_span(members[0].mu_key, len(members))
        for e in members:
            self._drop(e, in_mu_index=False)
        self._estimator(tickets[0].mode).record_many(mus, [now - e.enq for e in members])
        quality = math.exp(log_q)
        return Party(
            mode=tickets[0].mode,
            tickets=tickets,
            quality=quality,
            normalized_quality=normalized_quality(quality, len(tickets)),
            spread=mus[-1] - mus[0],
            bot_seats=bots,
            bot_mu=sum(mus) / len(mus) if bots else None,
        )


def _walk(keys: SortedKeys, chunk: int = 256) -> Iterator[Key]:
    """Every key of ``keys`` in order, read in chunks so the set may change meanwhile."""
    last: Key | None = None
    while batch := keys.after(last, chunk):
        yield from batch
        last = batch[-1]

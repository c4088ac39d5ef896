"""When a candidate party is acceptable, as a function of how long its oldest member waited.

A window of consecutive tickets in μ order is accepted as a party when all of these hold,
``wait`` being the seconds its longest-waiting member has been queued:

* size: ``party_max`` always; one short of full once ``wait ≥ accept_five_after``; any
  size down to ``party_min`` once ``wait ≥ accept_four_after`` (the names follow the
  default 4–6 parties);
* skill spread (largest μ − smallest μ) ≤ ``spread_start + spread_growth·wait``, never
  above ``spread_cap`` — the hard rule that keeps a strong player from being stacked
  with weak ones however long anyone waited;
* closeness ≥ ``closeness_start − closeness_decay·wait``, never below
  ``closeness_floor``.  Closeness is ``exp(−½·Σ w_i (μ_i − μ̄)² / (n−1))`` with
  ``w_i = 1/(β² + σ_i²)``: the part of the normalised TrueSkill quality that depends on
  the μs.  The rest of the quality depends only on the σs (a party of newcomers cannot
  score like a party of veterans), so it is used to rank candidates, not to refuse them.

Once a ticket has waited ``bot_fill_after`` and no acceptable party of humans contains
it, it gets a party of fewer than ``party_min`` humans (as many as the same rules
allow, possibly just itself) completed with bots up to ``party_min``.

Per tick, tickets are tried as seeds oldest first.  A seed that fits no party is not
tried again for ``retry_seconds``, or sooner if its wait reaches ``accept_five_after``,
``accept_four_after`` or ``bot_fill_after`` first (it may still join a party seeded by
another ticket meanwhile), so a block of unmatchable old tickets cannot keep younger
ones from being tried.  The work of one tick is bounded: at most ``max_seeds_per_tick`` seeds are tried, at most
``max_scan_per_tick`` queued tickets are looked at, and the tick stops after
``max_parties_per_tick`` parties.  The rest waits for the next tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matchmaker.quality import BETA
from server.config import MatchmakerSettings


@dataclass(frozen=True, slots=True)
class PartyRules:
    """The tunables of party forming; ``from_settings`` maps the ``[matchmaker]`` section."""

    party_min: int = 4
    party_max: int = 6
    accept_five_after: float = 10.0
    accept_four_after: float = 20.0
    bot_fill_after: float = 30.0
    bot_fill: bool = True
    beta: float = BETA
    spread_start: float = 4.0
    spread_growth: float = 0.15
    spread_cap: float = 8.0
    closeness_start: float = 0.9
    closeness_decay: float = 0.01
    closeness_floor: float = 0.6
    retry_seconds: float = 1.0
    max_seeds_per_tick: int = 1000
    max_scan_per_tick: int = 20000
    max_parties_per_tick: int = 300

    def __post_init__(self) -> None:
        if not 2 <= self.party_min <= self.party_max:
            raise ValueError(f"party sizes {self.party_min}..{self.party_max}: need 2 ≤ min ≤ max")
        if self.beta <= 0 or self.spread_start < 0 or self.spread_cap < self.spread_start:
            raise ValueError("need beta > 0 and 0 ≤ spread_start ≤ spread_cap")
        if not 0 <= self.closeness_floor <= self.closeness_start <= 1:
            raise ValueError("need 0 ≤ closeness_floor ≤ closeness_start ≤ 1")
        if min(self.max_seeds_per_tick, self.max_scan_per_tick, self.max_parties_per_tick) < 1:
            raise ValueError("per-tick limits must be at least 1")
        if self.retry_seconds < 0:
            raise ValueError("retry_seconds must not be negative")

    @classmethod
    def from_settings(
        cls, settings: MatchmakerSettings, *, bots_enabled: bool = True
    ) -> PartyRules:
        """Rules from the validated ``[matchmaker]`` settings; other knobs keep defaults."""
        return cls(
            party_min=settings.party_min,
            party_max=settings.party_max,
            accept_five_after=settings.accept_five_after_seconds,
            accept_four_after=settings.accept_four_after_seconds,
            bot_fill_after=settings.bot_fill_after_seconds,
            bot_fill=bots_enabled,
        )

    def smallest_size(self, wait: float) -> int:
        """The smallest all-human party accepted after ``wait`` seconds."""
        if wait >= self.accept_four_after:
            return self.party_min
        if wait >= self.accept_five_after:
            return max(self.party_min, self.party_max - 1)
        return self.party_max

    def max_spread(self, wait: float) -> float:
        """Largest accepted μ spread after ``wait`` seconds."""
        return min(self.spread_cap, self.spread_start + self.spread_growth * wait)

    def min_closeness(self, wait: float) -> float:
        """Smallest accepted closeness after ``wait`` seconds."""
        return max(self.closeness_floor, self.closeness_start - self.closeness_decay * wait)

    def next_step(self, wait: float) -> float:
        """The next wait after ``wait`` at which a size or bot rule switches on (or inf)."""
        steps = [self.accept_five_after, self.accept_four_after]
        if self.bot_fill:
            steps.append(self.bot_fill_after)
        return min((s for s in steps if s > wait), default=math.inf)

    def wants_bots(self, wait: float) -> bool:
        """Whether a ticket that waited ``wait`` seconds may be completed with bots."""
        return self.bot_fill and wait >= self.bot_fill_after

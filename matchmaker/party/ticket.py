"""What goes into the party former (a :class:`Ticket`) and what comes out (a :class:`Party`)."""

from __future__ import annotations

from dataclasses import dataclass

from server.types import NodeId, PlayerId


@dataclass(frozen=True, slots=True)
class Ticket:
    """One player waiting for a match; the player id is the ticket's id.

    ``mode`` is an opaque name (``"ranked"``, ``"practice"``…): tickets of different
    modes never share a party.  ``enqueued_at`` is on the same clock as the ``now``
    given to :meth:`PartyFormer.process_once`; ``node`` is where the player is
    connected, carried through for the assignment.
    """

    player_id: PlayerId
    mu: float
    sigma: float
    mode: str
    enqueued_at: float
    node: NodeId


@dataclass(frozen=True, slots=True)
class Party:
    """A formed party: its human tickets and the bot seats that complete it.

    ``quality`` is the TrueSkill free-for-all quality of the humans (1.0 for a single
    human), ``normalized_quality`` is ``quality^(1/(humans−1))`` and ``spread`` the
    largest minus the smallest μ among the humans.  ``bot_seats > 0`` means "bot seats
    needed: ``bot_seats`` at μ≈``bot_mu``" (the humans' mean μ); otherwise ``bot_mu``
    is None.
    """

    mode: str
    tickets: tuple[Ticket, ...]
    quality: float
    normalized_quality: float
    spread: float
    bot_seats: int = 0
    bot_mu: float | None = None

    @property
    def size(self) -> int:
        """Seats in the match: humans plus bots."""
        return len(self.tickets) + self.bot_seats

    def waits(self, now: float) -> list[float]:
        """Seconds each human waited, in ticket order (never negative)."""
        return [max(0.0, now - t.enqueued_at) for t in self.tickets]

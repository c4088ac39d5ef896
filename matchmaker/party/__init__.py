"""The pure party-forming algorithm of the matchmaker (no I/O, no clock: ``now`` is passed in).

Use::

    former = PartyFormer(PartyRules.from_settings(settings.matchmaker))
    former.add(ticket)               # a player joins (or re-joins) the queue
    former.remove(player_id)         # a player leaves
    parties = former.process_once(now)
    former.estimate_wait(mode, mu)   # seconds, from recent matches at that rating
"""

from matchmaker.party.former import PartyFormer
from matchmaker.party.rules import PartyRules
from matchmaker.party.ticket import Party, Ticket

__all__ = ["Party", "PartyFormer", "PartyRules", "Ticket"]

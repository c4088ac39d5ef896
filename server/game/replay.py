"""Replays from a match log: the same inputs give the same match.

- :func:`replay` re-runs a whole log through a fresh engine and returns the match and
  every effect it produced — the same effects, in the same order, as the live match.
- :func:`seat_edits` and :func:`drafts_at` serve a keystroke replay: each seat's
  timestamped edits and the drafts as they stood at any moment (for seeking).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.game.draft import EditRecord, replay_edits
from server.game.effects import Effect
from server.game.match import Match
from server.game.plain import load
from server.game.scoring import Fallback
from server.game.state import MatchConfig
from server.types import PlayerId

Log = Sequence[Mapping[str, Any]]


def replay(log: Log, fallback: Fallback | None = None) -> tuple[Match, list[Effect]]:
    """Rebuild the match from its first record and re-apply every input in order."""
    first = log[0]
    if first["k"] != "create":
        raise ValueError("a match log starts with its create record")
    config = load(MatchConfig, first["d"]["config"])
    match, effects = Match.create(config, first["at"], fallback)
    for rec in log[1:]:
        effects.extend(match.apply_record(rec))
    return match, effects


def seat_edits(log: Log) -> dict[PlayerId, list[EditRecord]]:
    """Each seat's applied edits with their server times, exactly as the engine kept them."""
    match, _ = replay(log)
    return {seat.player: list(seat.draft.edits) for seat in match.state.seats}


def drafts_at(log: Log, at: float) -> dict[PlayerId, str]:
    """Every seat's draft text as it stood at server time ``at`` (for seeking)."""
    return {player: replay_edits(edits, upto=at) for player, edits in seat_edits(log).items()}

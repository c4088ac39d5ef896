"""Replays from a match log: the same inputs give the same match.

- :func:`replay` re-runs a whole log through a fresh engine and returns the match and
  every effect it produced — the same effects, in the same order, as the live match.
- :func:`seat_edits` and :func:`drafts_at` serve a keystroke replay: each seat's
  timestamped edits and the drafts as they stood at any moment (for seeking).  The
  engine keeps no edit log of its own; these rebuild it from the match log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.errors import InvalidTransition
from server.game.draft import Draft, EditRecord, apply_edit, replay_edits
from server.game.effects import Effect
from server.game.inputs import EditDraft
from server.game.match import Match
from server.game.plain import load
from server.game.scoring import Fallback
from server.game.state import MatchConfig
from server.protocol.client import EditOp
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


class EditFold:
    """Each seat's edits applied one record at a time, as the engine applied them: the
    same as :func:`seat_edits` over a whole log, for a reader that gets the log piece by
    piece (a live spectator feed)."""

    def __init__(self, create: Mapping[str, Any]) -> None:
        if create["k"] != "create":
            raise ValueError("a match log starts with its create record")
        config = load(MatchConfig, create["d"]["config"])
        self.paste_chars, self.max_chars = config.settings.paste_chars, config.draft_chars
        self.drafts = {seat.player: Draft() for seat in config.seats}

    def apply(
        self, rec: Mapping[str, Any], edits: list[EditRecord] | None = None
    ) -> EditRecord | None:
        """Apply one record if it is an accepted edit; the applied edit, or None."""
        if rec["k"] != EditDraft.KIND or rec.get("out"):
            return None
        d = rec["d"]  # read as dump(EditDraft) wrote it: a whole match's worth, quickly
        draft = self.drafts.get(d["player"])
        if draft is None:
            return None
        ops = d.get("ops")
        applied: list[EditRecord] = [] if edits is None else edits
        mark = len(applied)
        try:
            apply_edit(
                draft,
                seq=d["seq"],
                ops=None
                if ops is None
                else tuple(
                    EditOp(pos=o["pos"], insert=o["insert"], delete=o["delete"]) for o in ops
                ),
                snapshot=d.get("snapshot"),
                paste=bool(d.get("paste")),
                at=rec["at"],
                paste_chars=self.paste_chars,
                max_chars=self.max_chars,
                edits=applied,
            )
        except InvalidTransition:  # refused live too, changing nothing
            return None
        return applied[mark] if len(applied) > mark else None


def seat_edits(log: Log) -> dict[PlayerId, list[EditRecord]]:
    """Each seat's applied edits with their server times, as the engine applied them.

    Only the ``edit`` records are re-applied, to bare drafts, not the whole match: the
    log keeps only accepted inputs (an edit refused for its phase, its seat or its length
    was taken back out), and the engine's edits touch nothing but the draft, so
    the same edits in the same order under the same settings give the same outcomes —
    duplicates, gaps and snapshot waits included.  A few milliseconds for a whole match.
    """
    fold = EditFold(log[0])
    edits: dict[PlayerId, list[EditRecord]] = {player: [] for player in fold.drafts}
    for rec in log:
        if rec["k"] == EditDraft.KIND and not rec.get("out"):
            player = rec["d"]["player"]
            if player in edits:
                fold.apply(rec, edits[player])
    return edits


def drafts_at(log: Log, at: float) -> dict[PlayerId, str]:
    """Every seat's draft text as it stood at server time ``at`` (for seeking)."""
    return {player: replay_edits(edits, upto=at) for player, edits in seat_edits(log).items()}

"""The bot's copy of its draft and the rules that keep the server's copy equal to it.

The local text is the truth (as in a browser's editor).  Every local change becomes a
``draft.edit`` with the next ``seq`` and stays *pending* until an ``ack`` covers it.
The server holds ``seq = n`` and applies op edits only as ``n + 1``
(``docs/protocol.md``, Drafts), so:

- :meth:`DraftSync.rebase` — after (re)attaching, ``match.state`` says what the server
  holds.  Equal text: carry on from its seq.  Otherwise, if the pending edits replayed on
  the server's text give ours, send them again as one edit numbered ``n + 1`` (small ops,
  so nothing looks pasted); if not, send the whole text as a snapshot.
- :meth:`DraftSync.snapshot` — the answer to ``draft.snapshot_needed``, and the way out
  when an edit stays unacknowledged (:meth:`DraftSync.stalled`): the server may be
  ignoring ops while it waits for a snapshot whose request the bot never got.
- A bot that never typed adopts the server's draft (it took over the seat mid-write).

Pure: the player does the sending and passes the time in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.game import apply_ops
from server.protocol.client import MAX_OPS, DraftEdit, EditOp


@dataclass(slots=True)
class Pending:
    """A ``draft.edit`` not yet acknowledged; ``sent_at`` is None while it waits offline."""

    seq: int
    ops: tuple[EditOp, ...] | None = None
    snapshot: str | None = None
    sent_at: float | None = None

    def message(self) -> DraftEdit:
        return DraftEdit(seq=self.seq, ops=self.ops, snapshot=self.snapshot)


@dataclass(slots=True)
class DraftSync:
    text: str = ""
    seq: int = 0
    """The last seq used."""
    acked_seq: int = 0
    """The highest seq the server has acknowledged holding."""
    touched: bool = False
    """True once the bot changed the draft itself."""
    pending: list[Pending] = field(default_factory=list)

    def type(self, ops: tuple[EditOp, ...]) -> Pending:
        """Apply a local change; returns the edit to send."""
        text = apply_ops(self.text, ops)
        if text is None:
            raise ValueError(f"ops do not fit a draft of {len(self.text)} characters")
        self.text, self.touched = text, True
        self.seq += 1
        edit = Pending(self.seq, ops=ops)
        self.pending.append(edit)
        return edit

    def snapshot(self, at_least: int = 0) -> Pending:
        """The whole text, numbered above every seq used and ``at_least``."""
        self.seq = max(self.seq, at_least) + 1
        edit = Pending(self.seq, snapshot=self.text)
        self.pending = [edit]
        return edit

    def snapshot_in_flight(self) -> bool:
        """A snapshot was sent and is not acknowledged yet."""
        return any(p.snapshot is not None for p in self.pending)

    def acked(self, seq: int) -> None:
        """The server holds ``seq``: every pending edit up to it is in."""
        self.acked_seq = max(self.acked_seq, seq)
        self.pending = [p for p in self.pending if p.seq > seq]

    def sent(self, edit: Pending, now: float) -> None:
        edit.sent_at = now

    def stalled(self, now: float, after: float) -> bool:
        """An edit went out ``after`` seconds ago or more and is still not acknowledged."""
        sent = [p.sent_at for p in self.pending if p.sent_at is not None]
        return bool(sent) and now - min(sent) >= after

    def rebase(self, server_seq: int, server_text: str) -> Pending | None:
        """Line up with the draft ``match.state`` reports; returns an edit to send, if any."""
        if not self.touched:
            self.text, self.seq, self.pending = server_text, server_seq, []
            self.acked_seq = server_seq
            return None
        self.acked_seq = server_seq
        left = [p for p in self.pending if p.seq > server_seq]
        if server_text == self.text:
            self.seq, self.pending = server_seq, []
            return None
        ops = tuple(op for p in left for op in (p.ops or ()))
        if (
            left
            and all(p.ops is not None for p in left)
            and len(ops) <= MAX_OPS
            and apply_ops(server_text, ops) == self.text
        ):
            self.seq = server_seq + 1
            edit = Pending(self.seq, ops=ops)
            self.pending = [edit]
            return edit
        return self.snapshot(at_least=server_seq)

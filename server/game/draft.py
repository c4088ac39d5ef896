"""A seat's draft: edits with sequence numbers, paste flags, and the edit log they make.

Positions are Unicode code points (Python ``str`` indices).  Rules for an edit with
sequence number ``seq`` when the server holds ``draft.seq``:

==========================  =================================================
``seq <= draft.seq``        duplicate or stale: ignored, still acked
ops, ``seq == draft.seq+1`` applied in order (each op: delete, then insert)
ops, ``seq > draft.seq+1``  gap: not applied, the client is asked for a snapshot
ops out of range            not applied, the client is asked for a snapshot
snapshot, ``seq > draft.seq``  replaces the text, whatever the gap
result over ``max_chars``   refused with ``draft_too_long``, nothing changes
==========================  =================================================

While a snapshot is awaited, further op edits are not applied either; each is answered
with the same snapshot request again (``AWAITING_SNAPSHOT``, reason of the divergence
kept in ``awaiting_reason``), so every ``draft.edit`` gets exactly one answer and a
client that missed the first request (a reconnect, a dropped frame) still learns it.
Nothing that is not applied uses up a ``seq``: a refused or unapplied edit leaves
``draft.seq`` where it was.  An edit is flagged as a paste when the client says so, when
one op inserts at least ``paste_chars`` code points, or when a snapshot grows the text by
that much.

Words (:func:`word_count`) are maximal runs of characters that are not white space in
the sense of ``str.split()``: for text the protocol accepts, exactly the Unicode
``White_Space`` characters (space, tab, newline, U+00A0, U+1680, U+2000–U+200A, U+2028,
U+2029, U+202F, U+205F, U+3000).  Zero-width characters (U+200B, U+200D, U+FEFF) join,
they do not separate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from server.errors import InvalidTransition
from server.protocol.client import EditOp
from server.protocol.errors import RefusalCode


class EditOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # ack with the held seq
    GAP = "gap"  # ask for a snapshot
    BAD_RANGE = "bad_range"  # ask for a snapshot
    AWAITING_SNAPSHOT = "awaiting_snapshot"  # already asked; not applied, ask again


@dataclass(slots=True)
class EditRecord:
    """One applied edit, as kept in the seat's edit log (``at`` is server time, seconds)."""

    at: float
    seq: int
    ops: tuple[EditOp, ...] | None = None
    snapshot: str | None = None
    paste: bool = False


@dataclass(slots=True)
class Draft:
    text: str = ""
    seq: int = 0
    awaiting_snapshot: bool = False
    awaiting_reason: Literal["gap", "bad_range"] = "gap"  # why, while awaiting_snapshot
    locked: bool = False
    paste_count: int = 0
    pasted_chars: int = 0


def apply_ops(text: str, ops: Iterable[EditOp]) -> str | None:
    """The text after ``ops``, or None if an op reaches outside the text."""
    for op in ops:
        end = op.pos + op.delete
        if op.pos > len(text) or end > len(text):
            return None
        text = text[: op.pos] + op.insert + text[end:]
    return text


def word_count(text: str) -> int:
    """The ``words`` of ``match.progress``, seats and results (see the module docstring)."""
    return len(text.split())


def is_empty(text: str) -> bool:
    """An empty submission: nothing but white space."""
    return not text.strip()


def apply_edit(
    draft: Draft,
    *,
    seq: int,
    ops: Sequence[EditOp] | None,
    snapshot: str | None,
    paste: bool,
    at: float,
    paste_chars: int,
    max_chars: int,
    edits: list[EditRecord] | None = None,
) -> EditOutcome:
    """Apply one ``draft.edit`` to ``draft`` (mutated only when the outcome is APPLIED
    or a snapshot request).  Raises ``InvalidTransition(draft_too_long)`` untouched.

    An applied edit is appended to ``edits`` when given.  The live engine passes none: a
    seat's edit log is its ``edit`` records in the match log, which lives in Redis and
    PostgreSQL, and :func:`edits_from_log` rebuilds it from there, so a player's memory
    on the node stays flat however long they type."""
    if seq <= draft.seq:
        return EditOutcome.DUPLICATE
    if snapshot is not None:
        new_text = snapshot
        flagged = paste or len(snapshot) - len(draft.text) >= paste_chars
        pasted = max(0, len(snapshot) - len(draft.text)) if flagged else 0
    else:
        assert ops is not None
        if draft.awaiting_snapshot:
            return EditOutcome.AWAITING_SNAPSHOT
        if seq != draft.seq + 1:
            draft.awaiting_snapshot, draft.awaiting_reason = True, "gap"
            return EditOutcome.GAP
        result = apply_ops(draft.text, ops)
        if result is None:
            draft.awaiting_snapshot, draft.awaiting_reason = True, "bad_range"
            return EditOutcome.BAD_RANGE
        new_text = result
        flagged = paste or any(len(op.insert) >= paste_chars for op in ops)
        pasted = sum(len(op.insert) for op in ops) if flagged else 0
    if len(new_text) > max_chars:
        raise InvalidTransition(
            RefusalCode.DRAFT_TOO_LONG,
            f"the draft would be {len(new_text)} characters, at most {max_chars}",
        )
    draft.text = new_text
    draft.seq = seq
    draft.awaiting_snapshot = False
    if flagged:
        draft.paste_count += 1
        draft.pasted_chars += pasted
    if edits is not None:
        edits.append(
            EditRecord(
                at=at,
                seq=seq,
                ops=None if ops is None else tuple(ops),
                snapshot=snapshot,
                paste=flagged,
            )
        )
    return EditOutcome.APPLIED


def replay_edits(edits: Iterable[EditRecord], upto: float | None = None) -> str:
    """The text an edit log produces (up to server time ``upto``, for seeking a replay)."""
    text = ""
    for e in edits:
        if upto is not None and e.at > upto:
            break
        if e.snapshot is not None:
            text = e.snapshot
        else:
            result = apply_ops(text, e.ops or ())
            if result is None:
                raise ValueError(f"edit log is inconsistent at seq {e.seq}")
            text = result
    return text

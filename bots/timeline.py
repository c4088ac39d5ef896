"""A typing timeline as the ``draft.edit`` messages a debouncing browser would send.

The writer engine returns every keystroke burst with its time (``TypingEvent.at``,
seconds after the write phase opened).  A browser editor does not send each of them: it
collects changes and sends one edit when the writer has been quiet for ``quiet`` seconds,
or when the oldest unsent change is ``max_wait`` seconds old, whichever comes first
(lodash's ``debounce`` with ``maxWait``), and never more than ``MAX_OPS`` ops at once.
:func:`debounce` does exactly that, so a bot's edits arrive at the same rhythm and with
the same shape as a human's (``server/realtime/bots.py`` does the same for the node's
in-process bots, with fixed one-second windows).

:func:`continue_after` moves a plan behind text already in the draft (a bot that takes
over a seat mid-write carries on after what is there).  Pure functions, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.ai.types import TypingEvent
from server.game import apply_ops
from server.protocol.client import MAX_OPS, EditOp

QUIET = 0.75
"""Seconds without typing after which the editor sends what it has."""
MAX_WAIT = 2.5
"""Longest a change waits in the editor while the writer keeps typing."""


@dataclass(frozen=True, slots=True)
class TimedEdit:
    """One ``draft.edit`` to send ``at`` seconds after the write phase opened."""

    at: float
    ops: tuple[EditOp, ...]


def debounce(
    timeline: Sequence[TypingEvent], quiet: float = QUIET, max_wait: float = MAX_WAIT
) -> list[TimedEdit]:
    """Group the timeline into edits sent after ``quiet`` s of silence or ``max_wait`` s."""
    if quiet < 0 or max_wait < 0:
        raise ValueError("quiet and max_wait must not be negative")
    edits: list[TimedEdit] = []
    ops: list[EditOp] = []
    first = last = 0.0
    for event in timeline:
        if ops:
            due = min(last + quiet, first + max_wait)
            if event.at >= due:
                edits.append(TimedEdit(due, tuple(ops)))
                ops = []
            elif len(ops) >= MAX_OPS:  # the editor's buffer is full: send it now
                edits.append(TimedEdit(last, tuple(ops)))
                ops = []
        if not ops:
            first = event.at
        last = event.at
        ops.append(EditOp(pos=event.pos, insert=event.insert, delete=event.delete))
    if ops:
        edits.append(TimedEdit(min(last + quiet, first + max_wait), tuple(ops)))
    return edits


def text_after(edits: Sequence[TimedEdit], start: str = "") -> str | None:
    """The draft after applying ``edits`` to ``start``; None if an op does not fit."""
    text: str | None = start
    for edit in edits:
        text = apply_ops(text or "", edit.ops)
        if text is None:
            return None
    return text


def continue_after(edits: Sequence[TimedEdit], existing: str) -> list[TimedEdit]:
    """The plan moved behind ``existing`` text, with a space between if one is needed."""
    if not existing or not edits:
        return list(edits)
    base = len(existing)
    gap = "" if existing[-1].isspace() else " "
    shift = base + len(gap)
    moved = [
        TimedEdit(
            e.at, tuple(EditOp(pos=o.pos + shift, insert=o.insert, delete=o.delete) for o in e.ops)
        )
        for e in edits
    ]
    if gap:
        head = moved[0]
        moved[0] = TimedEdit(head.at, (EditOp(pos=base, insert=gap), *head.ops)[:MAX_OPS])
        if len(head.ops) + 1 > MAX_OPS:  # keep the op that fell off the full edit
            moved.insert(1, TimedEdit(head.at, head.ops[-1:]))
    return moved

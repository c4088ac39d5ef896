"""Moderating a lobby's drafts while they are typed, so a safety signal reaches the teacher
during the write phase and not only when writing ends.

A piece is moderated by the match when the write phase ends (that verdict decides what
classmates see).  A student who writes "I want to die" in the second minute of a
four-minute phase should not wait two minutes for an adult to know.  So while a lobby's
match is in its write phase, each student's draft is checked by the offline moderator
(in the node's AI pool, never on the loop; never the Claude engine, whose cost per call
would be paid every few seconds per student): at most once per
``lobbies.draft_moderation_seconds`` per seat, only when the draft changed, one check per
seat at a time, in turn with the node's other AI work (:meth:`AIService.moderate_draft`).
A change inside the window is checked when the window ends (one timer per seat), so a
draft is never checked later than that after its last keystroke.

A check that wants an adult (``flag_teacher``) with a reason not yet raised for this seat
calls ``on_flag``; the same reasons are not raised again for every keystroke after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from server.ai.types import ModerationRequest, ModerationResult
from server.types import PlayerId

log = structlog.get_logger("quill.lobby.draftcheck")

SeatKey = tuple[str, PlayerId]
Draft = tuple[int, str]  # seq, text
# The draft of a seat as the match holds it now, or None once it is no longer in writing.
Reader = Callable[[SeatKey], Draft | None]
Flag = Callable[[SeatKey, str, tuple[str, ...]], None]


class Timer(Protocol):
    def cancel(self) -> None: ...


# loop.call_later's shape: tests pass one they fire themselves.
Schedule = Callable[[float, Callable[[], None]], Timer]


@dataclass(slots=True)
class _Seat:
    checked_seq: int = -1
    checked_at: float = float("-inf")
    task: asyncio.Task[None] | None = None
    timer: Timer | None = None
    raised: set[str] = field(default_factory=set)


class DraftCheck:
    """See the module docstring.  ``read`` gives a seat's current draft; ``clock`` the
    monotonic seconds the windows are counted in (the hub's clock); ``schedule`` runs a
    callback after a delay (the running loop's ``call_later`` by default)."""

    def __init__(
        self,
        moderate: Callable[[ModerationRequest], Awaitable[ModerationResult]],
        read: Reader,
        on_flag: Flag,
        *,
        interval: float,
        clock: Callable[[], float],
        schedule: Schedule | None = None,
    ) -> None:
        self.moderate = moderate
        self.read = read
        self.on_flag = on_flag
        self.interval = interval
        self.clock = clock
        self.schedule = schedule
        self._seats: dict[SeatKey, _Seat] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # running checks, forgotten ones too

    def seen(self, key: SeatKey, seq: int) -> None:
        """The seat's draft may have changed (after a tick of its match)."""
        seat = self._seats.setdefault(key, _Seat())
        if seq == seat.checked_seq or seat.task is not None or seat.timer is not None:
            return  # nothing new, or the running check / armed timer looks again
        wait = seat.checked_at + self.interval - self.clock()
        if wait > 0:
            schedule = self.schedule or asyncio.get_running_loop().call_later
            seat.timer = schedule(wait, lambda: self._due(key))
            return
        draft = self.read(key)
        if draft is None or draft[0] == seat.checked_seq or not draft[1].strip():
            return  # gone, unchanged, or nothing written yet
        seat.checked_at = self.clock()
        seat.task = asyncio.create_task(self._check(key, seat, draft), name="draft-check")
        self._tasks.add(seat.task)
        seat.task.add_done_callback(self._tasks.discard)

    def checking(self, key: SeatKey) -> bool:
        """Whether a check of the seat's draft is running now."""
        seat = self._seats.get(key)
        return seat is not None and seat.task is not None

    async def idle(self) -> None:
        """Until no check runs (one that ends may start the next: those too)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _due(self, key: SeatKey) -> None:
        seat = self._seats.get(key)
        if seat is None:
            return
        seat.timer = None
        draft = self.read(key)
        if draft is not None:
            self.seen(key, draft[0])

    async def _check(self, key: SeatKey, seat: _Seat, draft: Draft) -> None:
        seq, text = draft
        try:
            result = await self.moderate(ModerationRequest(text))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the piece is still moderated when writing ends
            log.warning("draft_check_failed", match_id=key[0], error=repr(exc))
            result = None
        finally:
            seat.task = None
        seat.checked_seq = seq
        if result is not None and result.flag_teacher:
            new = [r for r in result.reasons if r not in seat.raised]
            if new:
                seat.raised.update(result.reasons)
                try:
                    self.on_flag(key, text, result.reasons)
                except Exception:
                    log.exception("draft_flag_failed", match_id=key[0])
        now = self.read(key)
        if now is not None and now[0] != seq:
            self.seen(key, now[0])

    def forget(self, match_id: str) -> None:
        """A match left its write phase (or ended): stop checking its seats."""
        for key in [k for k in self._seats if k[0] == match_id]:
            self._drop(key)

    def stop(self) -> None:
        for key in list(self._seats):
            self._drop(key)

    def _drop(self, key: SeatKey) -> None:
        seat = self._seats.pop(key)
        if seat.timer is not None:
            seat.timer.cancel()
        if seat.task is not None:
            seat.task.cancel()

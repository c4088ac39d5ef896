"""Drafts checked while they are typed (server.lobbies.draftcheck), with the real offline
moderator, an injected clock and timers the test fires itself: once per window, one check
at a time, each reason raised once, the last change checked when its window ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from server.ai.offline.moderation import OfflineModerator
from server.ai.types import ModerationRequest, ModerationResult
from server.lobbies.draftcheck import DraftCheck, SeatKey
from server.types import PlayerId

KEY: SeatKey = ("m1", PlayerId("p1"))
CALM = "The keeper climbed the stairs while the storm broke over the rocks."
SAFETY = " Sometimes I want to die."
WINDOW = 5.0


@dataclass
class Timer:
    delay: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class Desk:
    """The seats' drafts, the clock, the timers, what was asked and what was flagged."""

    def __init__(self) -> None:
        self.drafts: dict[SeatKey, tuple[int, str] | None] = {}
        self.now = 100.0
        self.timers: list[Timer] = []
        self.asked: list[str] = []
        self.flags: list[tuple[SeatKey, str, tuple[str, ...]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        moderator = OfflineModerator()

        async def moderate(req: ModerationRequest) -> ModerationResult:
            self.asked.append(req.text)
            await self.gate.wait()
            return await moderator.moderate(req)

        self.check = DraftCheck(
            moderate,
            self.drafts.get,
            lambda key, text, reasons: self.flags.append((key, text, reasons)),
            interval=WINDOW,
            clock=lambda: self.now,
            schedule=self._schedule,
        )

    def _schedule(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(delay, callback)
        self.timers.append(timer)
        return timer

    def type(self, seq: int, text: str, key: SeatKey = KEY) -> None:
        self.drafts[key] = (seq, text)
        self.check.seen(key, seq)

    def fire(self) -> None:
        """The clock reaches every armed timer's time, and they run."""
        armed, self.timers = [t for t in self.timers if not t.cancelled], []
        for timer in armed:
            self.now += timer.delay
            timer.callback()


async def test_a_safety_signal_is_raised_once_while_typing() -> None:
    desk = Desk()
    desk.type(1, CALM)
    await desk.check.idle()
    assert desk.asked == [CALM] and desk.flags == []
    desk.now += WINDOW
    desk.type(2, CALM + SAFETY)
    await desk.check.idle()
    assert desk.flags == [(KEY, CALM + SAFETY, ("self_harm",))]
    desk.now += WINDOW
    desk.type(3, CALM + SAFETY + " The lamp turned.")
    await desk.check.idle()
    assert len(desk.asked) == 3 and len(desk.flags) == 1  # the same reason is not raised again


async def test_nothing_new_and_nothing_written_are_not_checked() -> None:
    desk = Desk()
    desk.type(0, "")
    desk.type(1, "  \n")
    await desk.check.idle()
    assert desk.asked == []
    desk.type(2, CALM)
    await desk.check.idle()
    desk.now += 60
    desk.check.seen(KEY, 2)
    await desk.check.idle()
    assert desk.asked == [CALM] and desk.timers == []


async def test_a_change_inside_the_window_is_checked_when_it_ends() -> None:
    desk = Desk()
    desk.type(1, CALM)
    await desk.check.idle()
    desk.now += 1
    desk.type(2, CALM + " The lamp")  # inside the window: one timer, for its end
    desk.type(3, CALM + SAFETY)
    assert [t.delay for t in desk.timers] == [WINDOW - 1]
    await desk.check.idle()
    assert desk.asked == [CALM] and desk.flags == []
    desk.fire()
    await desk.check.idle()
    assert desk.asked == [CALM, CALM + SAFETY]  # the draft as it is when the window ends
    assert desk.flags == [(KEY, CALM + SAFETY, ("self_harm",))]


async def test_one_check_at_a_time_then_the_latest_draft() -> None:
    desk = Desk()
    desk.gate.clear()
    desk.type(1, CALM)
    assert desk.check.checking(KEY)
    for seq in range(2, 6):
        desk.now += WINDOW
        desk.type(seq, CALM + " more" * seq)
    desk.now += WINDOW
    desk.type(6, CALM + SAFETY)
    assert desk.timers == []  # nothing armed: the running check looks again when it ends
    desk.gate.set()
    await desk.check.idle()
    assert desk.asked == [CALM, CALM + SAFETY]  # the drafts in between were never needed
    assert [f[1] for f in desk.flags] == [CALM + SAFETY]


async def test_a_seat_no_longer_writing_is_not_checked() -> None:
    desk = Desk()
    desk.type(1, CALM)
    await desk.check.idle()
    desk.type(2, CALM + SAFETY)  # armed for the end of the window
    desk.drafts[KEY] = None  # the write phase ended: the piece is moderated by the match
    desk.fire()
    await desk.check.idle()
    assert desk.asked == [CALM] and desk.flags == []


async def test_forget_and_stop_cancel_what_runs() -> None:
    desk = Desk()
    desk.gate.clear()
    other: SeatKey = ("m2", PlayerId("p2"))
    desk.type(1, CALM + SAFETY)
    desk.type(1, CALM + SAFETY, key=other)
    desk.check.forget("m1")
    assert not desk.check.checking(KEY) and desk.check.checking(other)
    desk.gate.set()
    await desk.check.idle()  # the forgotten check ended too, cancelled
    assert [f[0] for f in desk.flags] == [other]
    desk.now += 1
    desk.type(2, CALM + SAFETY + " again", key=other)  # inside the window: a timer
    desk.check.stop()
    assert all(t.cancelled for t in desk.timers)
    assert len(desk.flags) == 1

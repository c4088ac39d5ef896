"""Drafts checked while they are typed (server.lobbies.draftcheck), with the real offline
moderator and an injected clock: once per window, one check at a time, each reason raised
once, the last change checked when its window ends."""

from __future__ import annotations

import asyncio

from server.ai.offline.moderation import OfflineModerator
from server.ai.types import ModerationRequest, ModerationResult
from server.lobbies.draftcheck import DraftCheck, SeatKey
from server.types import PlayerId

KEY: SeatKey = ("m1", PlayerId("p1"))
CALM = "The keeper climbed the stairs while the storm broke over the rocks."
SAFETY = " Sometimes I want to die."


class Desk:
    """The seats' drafts, the clock, what was asked and what was flagged."""

    def __init__(self, interval: float = 5.0) -> None:
        self.drafts: dict[SeatKey, tuple[int, str] | None] = {}
        self.now = 100.0
        self.asked: list[str] = []
        self.flags: list[tuple[SeatKey, str, tuple[str, ...]]] = []
        self.gate: asyncio.Event | None = None
        self.flagged = asyncio.Event()
        moderator = OfflineModerator()

        async def moderate(req: ModerationRequest) -> ModerationResult:
            self.asked.append(req.text)
            if self.gate is not None:
                await self.gate.wait()
            return await moderator.moderate(req)

        self.check = DraftCheck(
            moderate,
            self.drafts.get,
            self._flag,
            interval=interval,
            clock=lambda: self.now,
        )

    def _flag(self, key: SeatKey, text: str, reasons: tuple[str, ...]) -> None:
        self.flags.append((key, text, reasons))
        self.flagged.set()

    def type(self, seq: int, text: str, key: SeatKey = KEY) -> None:
        self.drafts[key] = (seq, text)
        self.check.seen(key, seq)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_safety_signal_is_raised_once_while_typing() -> None:
    desk = Desk()
    desk.type(1, CALM)
    await settle()
    assert desk.asked == [CALM] and desk.flags == []
    desk.now += 5
    desk.type(2, CALM + SAFETY)
    await settle()
    assert desk.flags == [(KEY, CALM + SAFETY, ("self_harm",))]
    desk.now += 5
    desk.type(3, CALM + SAFETY + " The lamp turned.")
    await settle()
    assert len(desk.asked) == 3 and len(desk.flags) == 1  # the same reason is not raised again


async def test_nothing_new_is_not_checked_again() -> None:
    desk = Desk()
    desk.type(1, CALM)
    await settle()
    desk.now += 60
    desk.check.seen(KEY, 1)
    await settle()
    assert desk.asked == [CALM]


async def test_a_change_inside_the_window_is_checked_when_it_ends() -> None:
    desk = Desk(interval=0.01)  # the timer's real wait; the window is the injected clock's
    desk.type(1, CALM)
    await settle()
    desk.type(2, CALM + SAFETY)  # same instant: inside the window
    await settle()
    assert desk.asked == [CALM] and desk.flags == []
    desk.now += 0.01
    async with asyncio.timeout(10):
        await desk.flagged.wait()
    assert desk.asked == [CALM, CALM + SAFETY] and desk.flags[0][2] == ("self_harm",)


async def test_one_check_at_a_time_then_the_latest_draft() -> None:
    desk = Desk(interval=0.0001)
    desk.gate = asyncio.Event()
    desk.type(1, CALM)
    await settle()
    for seq in range(2, 6):
        desk.now += 1
        desk.type(seq, CALM + " more" * seq)
        await settle()
    assert desk.asked == [CALM]  # one in flight per seat
    desk.now += 1
    desk.type(6, CALM + SAFETY)
    desk.gate.set()
    await settle()
    assert desk.asked == [CALM, CALM + SAFETY]  # the drafts in between were never needed
    assert [f[1] for f in desk.flags] == [CALM + SAFETY]


async def test_a_seat_no_longer_writing_is_not_checked() -> None:
    desk = Desk(interval=0.01)
    desk.type(1, CALM)
    await settle()
    desk.type(2, CALM + SAFETY)  # armed for the end of the window
    desk.drafts[KEY] = None  # the write phase ended: the piece is moderated by the match
    desk.now += 1
    await asyncio.sleep(0.05)
    assert desk.asked == [CALM] and desk.flags == []


async def test_forget_and_stop_cancel_what_runs() -> None:
    desk = Desk()
    desk.gate = asyncio.Event()
    other: SeatKey = ("m2", PlayerId("p2"))
    desk.type(1, CALM + SAFETY)
    desk.type(1, CALM + SAFETY, key=other)
    await settle()
    assert len(desk.asked) == 2
    desk.check.forget("m1")
    desk.gate.set()
    await settle()
    assert [f[0] for f in desk.flags] == [other]
    desk.gate.clear()
    desk.now += 10
    desk.type(2, CALM + SAFETY + " again", key=other)
    await settle()
    desk.check.stop()
    desk.gate.set()
    await settle()
    assert len(desk.flags) == 1

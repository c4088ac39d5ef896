"""Time that tests move by hand: a monotonic clock and a recording sleep."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A callable returning monotonic seconds that only move when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records each delay.

    With ``real=False`` (the default) it returns at once (after yielding to the loop);
    with ``real=True`` it really sleeps, for the one test that checks a short retry-after.
    It also advances ``clock`` by the delay when one is given.
    """

    def __init__(self, clock: FakeClock | None = None, *, real: bool = False) -> None:
        self.calls: list[float] = []
        self.clock = clock
        self.real = real

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        await asyncio.sleep(seconds if self.real else 0)

"""The one clock of a node's matches: wall-clock seconds, advanced by the monotonic loop clock.

The engine is told the time (``now``, Unix seconds); only this object reads a clock.  It
reads the wall clock once, when created, and from then on adds the event loop's monotonic
time, so a wall-clock step (NTP) cannot make a deadline jump.  Deadlines survive a restart
in snapshots as Unix seconds; a restarted node re-anchors to the wall clock.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._offset = time.time() - self._loop.time()

    def now(self) -> float:
        """Unix time in seconds."""
        return self._offset + self._loop.time()

    def now_ms(self) -> int:
        """Unix time in milliseconds, as on the wire."""
        return round(self.now() * 1000)

    def until(self, at: float) -> float:
        """Seconds from now until ``at`` (0 if it has passed)."""
        return max(0.0, at - self.now())

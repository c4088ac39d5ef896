"""A circuit breaker told the time by an injectable clock.

States::

    CLOSED ──(``failures`` consecutive failures)──▶ OPEN
    OPEN ──(``reset_seconds`` elapsed on the clock)──▶ HALF_OPEN
    HALF_OPEN ──(the one trial call succeeds)──▶ CLOSED
    HALF_OPEN ──(the trial call fails)──▶ OPEN (the reset timer starts again)

In HALF_OPEN exactly one caller gets a trial permit; everyone else is refused until that
trial reports back.  The breaker does no I/O and never sleeps: ``clock`` is any callable
returning monotonic seconds (``time.monotonic`` in production, a counter in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum


class BreakerState(IntEnum):
    """Numeric values are what the ``quill_ai_breaker_state`` gauge exports."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    def __init__(
        self,
        failures: int,
        reset_seconds: float,
        clock: Callable[[], float],
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> BreakerState:
        """The current state; an OPEN breaker whose reset time has passed reads HALF_OPEN."""
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.reset_seconds
        ):
            self._set(BreakerState.HALF_OPEN)
            self._trial_out = False
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive

    def allow(self) -> bool:
        """Ask to make a call.  True means go ahead and report the outcome afterwards."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_out:
            self._trial_out = True
            return True
        return False

    def is_trial(self) -> bool:
        """True while the single half-open trial permit is out."""
        return self._state is BreakerState.HALF_OPEN and self._trial_out

    def record_success(self) -> None:
        self._consecutive = 0
        self._trial_out = False
        if self._state is not BreakerState.CLOSED:
            self._set(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._consecutive += 1
        if self._state is BreakerState.HALF_OPEN or self._consecutive >= self.failures:
            self._trial_out = False
            self._opened_at = self._clock()
            self._set(BreakerState.OPEN)

    def release(self) -> None:
        """Give back a permit without an outcome (the call was cancelled)."""
        if self._state is BreakerState.HALF_OPEN:
            self._trial_out = False

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)

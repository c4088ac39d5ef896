"""The circuit breaker as a pure state machine, driven by a fake clock."""

from __future__ import annotations

import itertools

import pytest

from server.ai.breaker import BreakerState, CircuitBreaker
from tests.fakes.clock import FakeClock

C, H, OPEN = BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN


# Each step: "ok" / "fail" (a permitted call and its outcome), "deny" (allow() must refuse),
# or a number (advance the clock).  After each step the breaker must be in the given state.
@pytest.mark.parametrize(
    ("steps", "states"),
    [
        (["fail", "fail"], [C, C]),
        (["fail", "fail", "fail"], [C, C, OPEN]),
        (["fail", "fail", "ok", "fail", "fail"], [C, C, C, C, C]),
        (["fail", "fail", "fail", "deny", 29.9, "deny"], [C, C, OPEN, OPEN, OPEN, OPEN]),
        (["fail", "fail", "fail", 30, "ok"], [C, C, OPEN, H, C]),
        (["fail", "fail", "fail", 30, "fail", "deny", 30, "ok"], [C, C, OPEN, H, OPEN, OPEN, H, C]),
        (["fail", "fail", "fail", 30, "ok", "fail"], [C, C, OPEN, H, C, C]),
    ],
)
def test_transitions(steps: list[str | float], states: list[BreakerState]) -> None:
    clock = FakeClock()
    changes: list[BreakerState] = []
    breaker = CircuitBreaker(3, 30.0, clock, on_change=changes.append)
    for step, expected in zip(steps, states, strict=True):
        if isinstance(step, int | float):
            clock.advance(step)
        elif step == "deny":
            assert not breaker.allow()
        else:
            assert breaker.allow()
            if step == "ok":
                breaker.record_success()
            else:
                breaker.record_failure()
        assert breaker.state is expected, (steps, step)
    assert all(a is not b for a, b in itertools.pairwise(changes))


def test_half_open_gives_out_one_permit_until_it_reports() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(1, 5.0, clock)
    assert breaker.allow()
    breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    assert breaker.is_trial()
    assert not breaker.allow()
    breaker.release()  # the trial was cancelled
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_failures_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(0, 1.0, FakeClock())

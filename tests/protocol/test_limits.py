"""The per-socket token bucket, on a fake clock."""

from __future__ import annotations

import pytest

from server.config import LimitSettings
from server.protocol import ErrorCode, ProtocolError, TokenBucket


def test_burst_then_refill() -> None:
    bucket = TokenBucket(rate=10, burst=10, now=0.0)
    assert all(bucket.take(0.0) for _ in range(10))
    assert not bucket.take(0.0)
    assert bucket.retry_after(0.0) == pytest.approx(0.1)
    assert bucket.take(0.1)
    assert not bucket.take(0.1)
    assert all(bucket.take(10.0) for _ in range(10))  # refills up to the burst only
    assert not bucket.take(10.0)


def test_answer_the_first_refusal_only_and_close_floods() -> None:
    bucket = TokenBucket(rate=1, burst=1, now=0.0)
    bucket.take(0.0)
    answers = []
    for _ in range(5):
        bucket.take(0.0)
        answers.append(bucket.should_answer())
    assert answers == [True, False, False, False, False]
    assert bucket.should_close(close_after=5) and not bucket.should_close(close_after=6)
    assert bucket.take(1.0) and bucket.refused == 0


def test_check_raises_with_retry_after() -> None:
    bucket = TokenBucket.for_messages(LimitSettings(messages_per_second=2), now=0.0)
    bucket.check(0.0)
    bucket.check(0.0)
    with pytest.raises(ProtocolError) as info:
        bucket.check(0.0)
    assert info.value.code is ErrorCode.TOO_MANY_MESSAGES
    assert info.value.retry_after_ms == 500


def test_clock_going_backwards_is_harmless() -> None:
    bucket = TokenBucket(rate=5, burst=5, now=10.0)
    assert bucket.take(9.0)
    assert bucket.tokens == 4


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1, now=0)

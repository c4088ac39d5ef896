"""Per-connection rate limiting: a token bucket that is told the time.

Overflow rule (for the gateway): a message that finds the bucket empty is dropped and
answered with ``error`` code ``too_many_messages`` (with ``retry_after_ms``); only the
first refusal of a burst is answered, so a flooding client cannot make the server write
as fast as it reads.  After ``close_after`` refusals in a row (the count resets when a message gets through)
the gateway should close the socket with code 1008 (policy violation).

A dropped ``draft.edit`` is not lost for good: the client's next edit arrives with a gap in
``seq`` and the engine asks for a snapshot.
"""

from __future__ import annotations

from server.config import LimitSettings
from server.protocol.errors import ErrorCode, ProtocolError


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; ``now`` is in seconds."""

    __slots__ = ("burst", "rate", "refused", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
        self.refused = 0  # refusals since the bucket last let a message through

    @classmethod
    def for_messages(cls, limits: LimitSettings, now: float) -> TokenBucket:
        """The bucket for one socket: ``messages_per_second``, bursts of one second's worth."""
        rate = float(limits.messages_per_second)
        return cls(rate, max(rate, 1.0), now)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def take(self, now: float, n: float = 1.0) -> bool:
        """Spend ``n`` tokens if there are enough; False means drop the message."""
        self._refill(now)
        if self.tokens >= n:
            self.tokens -= n
            self.refused = 0
            return True
        self.refused += 1
        return False

    def retry_after(self, now: float, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens will be available."""
        self._refill(now)
        return max(0.0, (n - self.tokens) / self.rate)

    def check(self, now: float) -> None:
        """Take one token or raise ``too_many_messages`` (see :meth:`should_answer`)."""
        if not self.take(now):
            raise ProtocolError(
                ErrorCode.TOO_MANY_MESSAGES,
                f"more than {self.rate:g} messages per second",
                retry_after_ms=max(1, round(self.retry_after(now) * 1000)),
            )

    def should_answer(self) -> bool:
        """True for the first refusal of a burst: answer that one, drop the rest silently."""
        return self.refused == 1

    def should_close(self, close_after: int = 100) -> bool:
        """True once a client keeps flooding; close the socket with 1008."""
        return self.refused >= close_after

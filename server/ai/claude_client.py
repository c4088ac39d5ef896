"""One guarded road to the Messages API: tool-use calls with limits, retries and a breaker.

``ClaudeClient.call`` sends one request that forces a single tool, validates the tool input
with the caller's ``parse`` function and returns its value.  Around every call:

- the circuit breaker (``server.ai.breaker``) refuses calls while open, and lets one trial
  call (a single attempt, no retries) through when half-open;
- attempts run under an ``asyncio.Semaphore`` of ``AISettings.concurrency`` and a hard
  ``timeout_seconds`` deadline (the SDK's own retries are off: ``max_retries=0``);
- a failed attempt is retried up to ``max_retries`` times with exponential backoff and
  jitter when it is worth retrying: 429 (``retry-after``/``retry-after-ms`` honoured),
  408/409, 5xx, 529 overloaded, timeouts, dropped connections, unparsable bodies and tool
  input that fails validation.  Other 4xx answers are not retried;
- a call that still fails counts once against the breaker and raises
  :class:`ClaudeUnavailable`; the engine then falls back to the offline engine.

Tokens, cost, attempts, calls, latency and the breaker state go to the metrics registry.
Sleeping between attempts goes through the injectable ``sleep`` (``asyncio.sleep``
by default) and the breaker reads the injectable ``clock``, so tests move time by hand.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anthropic
from anthropic.types import Message, TextBlockParam, ToolParam

from server.ai.breaker import BreakerState, CircuitBreaker
from server.config import AISettings
from server.metrics import Registry

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_BASE_URL = "https://api.anthropic.com"  # explicit, so ANTHROPIC_BASE_URL is not read
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0
CACHE_WRITE_PRICE_FACTOR = 1.25  # a 5-minute cache write costs 1.25 × the input price
CACHE_READ_PRICE_FACTOR = 0.1  # a cache hit costs 0.1 × the input price
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)

_RETRY_STATUSES = frozenset({408, 409, 429})


class InvalidOutput(ValueError):
    """The model's tool input is missing, malformed or out of range; never passed on."""


class ClaudeUnavailable(Exception):
    """The call did not produce a valid result; ``reason`` names the last failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model is forced to call; its input is the structured answer."""

    name: str
    description: str
    input_schema: Mapping[str, Any]

    def param(self) -> ToolParam:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": dict(self.input_schema),
        }


class _AttemptFailed(Exception):
    def __init__(self, result: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(result)
        self.result = result
        self.retryable = retryable
        self.retry_after = retry_after


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (numbers only; an HTTP date is
    ignored and the normal backoff applies)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            continue
        if value == value and value >= 0:
            return value
    return None


def _classify(exc: BaseException) -> _AttemptFailed:
    if isinstance(exc, InvalidOutput):
        return _AttemptFailed("invalid", retryable=True)
    if isinstance(exc, anthropic.APITimeoutError | TimeoutError):
        return _AttemptFailed("timeout", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return _AttemptFailed("connection", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        code = exc.status_code
        after = _retry_after(exc.response.headers)
        if code == 429:
            return _AttemptFailed("rate_limited", retryable=True, retry_after=after)
        if code == 529:
            return _AttemptFailed("overloaded", retryable=True, retry_after=after)
        if code >= 500:
            return _AttemptFailed("server_error", retryable=True, retry_after=after)
        if code in _RETRY_STATUSES:
            return _AttemptFailed("client_error", retryable=True, retry_after=after)
        return _AttemptFailed("client_error", retryable=False)
    # An unparsable body, a response the SDK could not build, a transport oddity.
    return _AttemptFailed("bad_response", retryable=True)


class ClaudeClient:
    """Shared by all Claude tasks of one process: one SDK client, semaphore and breaker."""

    def __init__(
        self,
        settings: AISettings,
        registry: Registry,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        sdk: anthropic.AsyncAnthropic | None = None,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._max_retry_after = max_retry_after
        self._sdk = sdk or anthropic.AsyncAnthropic(
            api_key=settings.api_key,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            max_retries=0,
            timeout=settings.timeout_seconds,
        )
        self._sem = asyncio.Semaphore(settings.concurrency)
        self.breaker = CircuitBreaker(
            settings.breaker_failures, settings.breaker_reset_seconds, clock
        )
        breaker = self.breaker
        self._calls = registry.counter(
            "quill_ai_calls_total",
            "Claude calls by task and outcome (ok, failed, breaker_open).",
            ("task", "outcome"),
        )
        self._attempts = registry.counter(
            "quill_ai_attempts_total",
            "HTTP attempts to the Messages API by task and result.",
            ("task", "result"),
        )
        self._tokens = registry.counter(
            "quill_ai_tokens_total",
            "Tokens used, by kind (input, output, cache_read, cache_write) and task.",
            ("kind", "task"),
        )
        self._cost = registry.counter(
            "quill_ai_cost_usd_total", "Estimated spend on the Messages API in USD.", ("task",)
        )
        self._latency = registry.histogram(
            "quill_ai_latency_seconds",
            "Duration of one attempt to the Messages API.",
            ("task",),
            LATENCY_BUCKETS,
        )
        registry.gauge(
            "quill_ai_breaker_state",
            "Claude circuit breaker: 0 closed, 1 half-open, 2 open.",
            read=lambda: float(breaker.state),
        )

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    async def aclose(self) -> None:
        await self._sdk.close()

    async def call(
        self,
        task: str,
        *,
        system: Sequence[str],
        tool: Tool,
        user: str,
        parse: Callable[[Mapping[str, Any]], T],
        max_tokens: int | None = None,
    ) -> T:
        """Run one task; return the parsed tool input or raise :class:`ClaudeUnavailable`."""
        if not self.breaker.allow():
            self._calls.inc(task=task, outcome="breaker_open")
            raise ClaudeUnavailable("breaker_open")
        trial = self.breaker.is_trial()  # the single half-open permit: one attempt only
        attempts = 1 if trial else 1 + self.settings.max_retries
        last = "unknown"
        try:
            for attempt in range(attempts):
                try:
                    value = await self._attempt(task, system, tool, user, parse, max_tokens)
                except _AttemptFailed as failure:
                    last = failure.result
                    delay = self._backoff(attempt, failure)
                    if attempt + 1 >= attempts or delay is None:
                        break
                    await self._sleep(delay)
                    if self.breaker.state is BreakerState.OPEN:
                        break  # other calls opened the breaker meanwhile; stop pressing
                    continue
                self.breaker.record_success()
                self._calls.inc(task=task, outcome="ok")
                return value
        except Exception as exc:  # a bug of ours, not the API's: still fall back cleanly
            self.breaker.record_failure()
            self._calls.inc(task=task, outcome="failed")
            raise ClaudeUnavailable("internal_error") from exc
        except BaseException:
            if trial:
                self.breaker.release()  # a cancelled trial gives its permit back, no verdict
            raise
        self.breaker.record_failure()
        self._calls.inc(task=task, outcome="failed")
        raise ClaudeUnavailable(last)

    def _backoff(self, attempt: int, failure: _AttemptFailed) -> float | None:
        """Seconds to wait before the next attempt, or None when retrying is pointless."""
        if not failure.retryable:
            return None
        if failure.retry_after is not None:
            if failure.retry_after > self._max_retry_after:
                return None
            return failure.retry_after * self._rng.uniform(1.0, 1.1)
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt)
        return ceiling * self._rng.uniform(0.5, 1.0)

    async def _attempt(
        self,
        task: str,
        system: Sequence[str],
        tool: Tool,
        user: str,
        parse: Callable[[Mapping[str, Any]], T],
        max_tokens: int | None,
    ) -> T:
        blocks: list[TextBlockParam] = [{"type": "text", "text": text} for text in system]
        # One cache breakpoint on the last system block caches tools + the whole system prompt.
        blocks[-1] = {**blocks[-1], "cache_control": {"type": "ephemeral"}}
        async with self._sem:
            started = self._clock()
            try:
                async with asyncio.timeout(self.settings.timeout_seconds):
                    message = await self._sdk.messages.create(
                        model=self.settings.model,
                        max_tokens=max_tokens or self.settings.max_tokens,
                        system=blocks,
                        messages=[{"role": "user", "content": user}],
                        tools=[tool.param()],
                        tool_choice={"type": "tool", "name": tool.name},
                    )
            except Exception as exc:
                failure = _classify(exc)
                self._attempts.inc(task=task, result=failure.result)
                raise failure from exc
            finally:
                self._latency.observe(max(0.0, self._clock() - started), task=task)
        self._account(task, message)
        try:
            value = parse(self._tool_input(message, tool))
        except Exception as exc:  # InvalidOutput, or a parser tripping over odd input
            self._attempts.inc(task=task, result="invalid")
            raise _AttemptFailed("invalid", retryable=True) from exc
        self._attempts.inc(task=task, result="ok")
        return value

    @staticmethod
    def _tool_input(message: Message, tool: Tool) -> Mapping[str, Any]:
        if message.stop_reason == "max_tokens":
            raise InvalidOutput("the answer was cut off at max_tokens")
        for block in message.content:
            if block.type == "tool_use" and block.name == tool.name:
                if not isinstance(block.input, dict):
                    raise InvalidOutput("tool input is not an object")
                return block.input
        raise InvalidOutput(f"no {tool.name} tool_use block in the answer")

    def _account(self, task: str, message: Message) -> None:
        usage = message.usage
        counts = {
            "input": usage.input_tokens or 0,
            "output": usage.output_tokens or 0,
            "cache_read": usage.cache_read_input_tokens or 0,
            "cache_write": usage.cache_creation_input_tokens or 0,
        }
        for kind, n in counts.items():
            if n:
                self._tokens.inc(float(n), kind=kind, task=task)
        price_in = self.settings.input_cost_per_mtok / 1e6
        price_out = self.settings.output_cost_per_mtok / 1e6
        cost = (
            counts["input"] * price_in
            + counts["cache_write"] * price_in * CACHE_WRITE_PRICE_FACTOR
            + counts["cache_read"] * price_in * CACHE_READ_PRICE_FACTOR
            + counts["output"] * price_out
        )
        self._cost.inc(cost, task=task)

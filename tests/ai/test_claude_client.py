"""ClaudeClient against the fake Messages API: request shape, retries, breaker, metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from server.ai.breaker import BreakerState
from server.ai.claude_client import ClaudeClient, ClaudeUnavailable, Tool
from server.ai.claude_parse import int_in
from server.config import AISettings
from server.metrics import Registry
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fake_anthropic import (
    Behaviour,
    FakeAnthropic,
    drop,
    hold,
    malformed,
    ok,
    overloaded,
    rate_limited,
    server_error,
    slow,
    status,
)

MODEL = "claude-sonnet-4-6"  # the SDK warns about deprecated models; warnings are errors here
TOOL = Tool(
    name="record_number",
    description="Record a number from 1 to 6.",
    input_schema={
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 6}},
        "required": ["n"],
    },
)


def parse(data: Mapping[str, Any]) -> int:
    return int_in(data, "n", 1, 6)


def ai_settings(base_url: str, **changes: Any) -> AISettings:
    base = AISettings(
        engine="claude",
        api_key="test-key",
        base_url=base_url,
        model=MODEL,
        max_tokens=300,
        timeout_seconds=5.0,
        max_retries=2,
        concurrency=4,
        breaker_failures=3,
        breaker_reset_seconds=30.0,
    )
    return dataclasses.replace(base, **changes)


@dataclasses.dataclass
class Rig:
    fake: FakeAnthropic
    clock: FakeClock
    sleep: RecordingSleep
    registry: Registry
    client: ClaudeClient

    async def call(self, task: str = "score") -> int:
        return await self.client.call(
            task,
            system=("rules", "rubric"),
            tool=TOOL,
            user="<student_data>{}</student_data>",
            parse=parse,
        )


async def make_rig(fake: FakeAnthropic, *, real_sleep: bool = False, **changes: Any) -> Rig:
    clock = FakeClock()
    sleep = RecordingSleep(real=real_sleep)
    registry = Registry()
    client = ClaudeClient(
        ai_settings(fake.base_url, **changes),
        registry,
        clock=clock,
        sleep=sleep,
        rng=random.Random(7),
    )
    return Rig(fake, clock, sleep, registry, client)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as api:
        yield api


@pytest.fixture
async def rig(fake: FakeAnthropic) -> AsyncIterator[Rig]:
    r = await make_rig(fake)
    try:
        yield r
    finally:
        await r.client.aclose()


def state_of(r: Rig) -> BreakerState:
    return r.client.breaker_state


def gauge(registry: Registry, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", registry.render(), flags=re.M)
    assert match is not None, name
    return float(match.group(1))


async def test_ok_call_returns_the_parsed_tool_input(rig: Rig) -> None:
    rig.fake.script(ok({"n": 5}))
    assert await rig.call() == 5
    assert rig.sleep.calls == []
    calls = rig.registry.counter("quill_ai_calls_total", "", ("task", "outcome"))
    assert calls.value(task="score", outcome="ok") == 1


async def test_request_forces_the_tool_and_caches_the_system_prompt(rig: Rig) -> None:
    await rig.call()
    (request,) = rig.fake.requests
    body = request.body
    assert body["model"] == MODEL
    assert body["max_tokens"] == 300
    assert body["tool_choice"] == {"type": "tool", "name": "record_number"}
    assert [t["name"] for t in body["tools"]] == ["record_number"]
    assert body["tools"][0]["input_schema"]["required"] == ["n"]
    assert body["system"] == [
        {"type": "text", "text": "rules"},
        {"type": "text", "text": "rubric", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"] == [{"role": "user", "content": "<student_data>{}</student_data>"}]
    assert request.headers["x-stainless-retry-count"] == "0"  # the SDK does not retry


async def test_tokens_and_cost_are_counted(rig: Rig) -> None:
    first = {"input_tokens": 1000, "output_tokens": 200, "cache_creation_input_tokens": 4000}
    second = {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 4000}
    rig.fake.script(
        ok({"n": 2}, usage={**first, "cache_read_input_tokens": 0}),
        ok({"n": 2}, usage={**second, "cache_creation_input_tokens": 0}),
    )
    await rig.call("judge")
    await rig.call("judge")
    tokens = rig.registry.counter("quill_ai_tokens_total", "", ("kind", "task"))
    assert tokens.value(kind="input", task="judge") == 2000
    assert tokens.value(kind="output", task="judge") == 400
    assert tokens.value(kind="cache_write", task="judge") == 4000
    assert tokens.value(kind="cache_read", task="judge") == 4000
    cost = rig.registry.counter("quill_ai_cost_usd_total", "", ("task",)).value(task="judge")
    # input 2000×$3 + cache write 4000×$3.75 + cache read 4000×$0.30 + output 400×$15, per Mtok
    assert cost == pytest.approx((2000 * 3 + 4000 * 3.75 + 4000 * 0.3 + 400 * 15) / 1e6)
    text = rig.registry.render()
    assert 'quill_ai_tokens_total{kind="cache_read",task="judge"} 4000' in text


@pytest.mark.parametrize(
    ("failure", "result"),
    [
        (rate_limited(retry_after=None), "rate_limited"),
        (server_error(500), "server_error"),
        (server_error(503), "server_error"),
        (overloaded(), "overloaded"),
        (status(408, "timeout_error"), "client_error"),
        (drop(), "connection"),
        (malformed("missing_field"), "invalid"),
        (malformed("out_of_range"), "invalid"),
        (malformed("wrong_type"), "invalid"),
        (malformed("no_tool_use"), "invalid"),
        (malformed("bad_json"), "bad_response"),
        (ok({"n": 7}), "invalid"),
        (ok({"n": True}), "invalid"),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "malformed", None) or v.kind,
)
async def test_a_failed_attempt_is_retried_then_succeeds(
    rig: Rig, failure: Behaviour, result: str
) -> None:
    rig.fake.script(failure, ok({"n": 3}))
    assert await rig.call() == 3
    assert len(rig.fake.requests) == 2
    assert len(rig.sleep.calls) == 1
    attempts = rig.registry.counter("quill_ai_attempts_total", "", ("task", "result"))
    assert attempts.value(task="score", result=result) == 1
    assert attempts.value(task="score", result="ok") == 1
    assert rig.client.breaker.consecutive_failures == 0


async def test_backoff_grows_exponentially_with_jitter(rig: Rig) -> None:
    rig.fake.default = server_error(500)
    with pytest.raises(ClaudeUnavailable) as info:
        await rig.call()
    assert info.value.reason == "server_error"
    assert len(rig.fake.requests) == 3  # one attempt + max_retries=2
    first, second = rig.sleep.calls
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


async def test_backoff_is_capped(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, max_retries=8)
    try:
        fake.default = overloaded()
        with pytest.raises(ClaudeUnavailable):
            await r.call()
        assert len(r.sleep.calls) == 8
        assert max(r.sleep.calls) <= 8.0
        assert r.sleep.calls[-1] >= 4.0
    finally:
        await r.client.aclose()


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [(rate_limited("7"), 7.0), (rate_limited(None, retry_after_ms="1500"), 1.5)],
    ids=["retry-after", "retry-after-ms"],
)
async def test_retry_after_is_honoured(rig: Rig, behaviour: Behaviour, expected: float) -> None:
    rig.fake.script(behaviour, ok({"n": 1}))
    assert await rig.call() == 1
    (delay,) = rig.sleep.calls
    assert expected <= delay <= expected * 1.1


async def test_a_retry_after_beyond_the_limit_falls_back_at_once(rig: Rig) -> None:
    rig.fake.script(rate_limited("600"))
    with pytest.raises(ClaudeUnavailable) as info:
        await rig.call()
    assert info.value.reason == "rate_limited"
    assert rig.sleep.calls == []
    assert len(rig.fake.requests) == 1


async def test_a_short_retry_after_really_waits(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, real_sleep=True)
    try:
        fake.script(rate_limited("0.05"), ok({"n": 4}))
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await r.call() == 4
        assert loop.time() - started >= 0.05
        assert r.sleep.calls[0] >= 0.05
    finally:
        await r.client.aclose()


@pytest.mark.parametrize("code", [400, 401, 403, 404, 413, 422])
async def test_client_errors_are_not_retried(rig: Rig, code: int) -> None:
    rig.fake.script(status(code))
    with pytest.raises(ClaudeUnavailable) as info:
        await rig.call()
    assert info.value.reason == "client_error"
    assert len(rig.fake.requests) == 1
    assert rig.sleep.calls == []


async def test_a_slow_answer_times_out_and_is_retried(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, timeout_seconds=0.2)
    try:
        fake.script(slow(60), ok({"n": 6}))
        assert await r.call() == 6
        attempts = r.registry.counter("quill_ai_attempts_total", "", ("task", "result"))
        assert attempts.value(task="score", result="timeout") == 1
    finally:
        await r.client.aclose()


async def test_concurrency_is_limited(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, concurrency=2)
    try:
        fake.default = hold(ok({"n": 2}))
        calls = [asyncio.create_task(r.call()) for _ in range(5)]
        await fake.wait_in_flight(2)
        for _ in range(20):  # give a third request every chance to arrive if the limit leaks
            await asyncio.sleep(0.005)
        assert fake.in_flight == 2
        fake.release()
        assert await asyncio.gather(*calls) == [2] * 5
        assert fake.max_in_flight == 2
    finally:
        await r.client.aclose()


async def test_breaker_opens_falls_back_half_opens_and_closes(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, max_retries=1, breaker_failures=3, breaker_reset_seconds=30.0)
    try:
        assert gauge(r.registry, "quill_ai_breaker_state") == BreakerState.CLOSED
        fake.default = server_error(503)
        for _ in range(3):
            with pytest.raises(ClaudeUnavailable):
                await r.call()
        assert len(fake.requests) == 6  # three calls, each one attempt plus one retry
        assert state_of(r) is BreakerState.OPEN
        assert gauge(r.registry, "quill_ai_breaker_state") == BreakerState.OPEN

        # Open: refused without touching the network.
        with pytest.raises(ClaudeUnavailable) as info:
            await r.call()
        assert info.value.reason == "breaker_open"
        assert len(fake.requests) == 6

        # Half-open after the reset time: one trial, a single attempt; it fails → open again.
        r.clock.advance(30.0)
        assert gauge(r.registry, "quill_ai_breaker_state") == BreakerState.HALF_OPEN
        with pytest.raises(ClaudeUnavailable):
            await r.call()
        assert len(fake.requests) == 7
        assert state_of(r) is BreakerState.OPEN
        r.clock.advance(29.0)
        with pytest.raises(ClaudeUnavailable) as info:
            await r.call()
        assert info.value.reason == "breaker_open"

        # The next trial succeeds → closed; normal calls flow again.
        r.clock.advance(1.0)
        fake.default = ok({"n": 5})
        assert await r.call() == 5
        assert state_of(r) is BreakerState.CLOSED
        assert gauge(r.registry, "quill_ai_breaker_state") == BreakerState.CLOSED
        assert await r.call() == 5
        calls = r.registry.counter("quill_ai_calls_total", "", ("task", "outcome"))
        assert calls.value(task="score", outcome="breaker_open") == 2
        assert calls.value(task="score", outcome="failed") == 4
        assert calls.value(task="score", outcome="ok") == 2
    finally:
        await r.client.aclose()


async def test_half_open_lets_only_one_trial_through(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, max_retries=0, breaker_failures=1)
    try:
        fake.script(server_error(500))
        with pytest.raises(ClaudeUnavailable):
            await r.call()
        r.clock.advance(30.0)
        fake.default = hold(ok({"n": 3}))
        trial = asyncio.create_task(r.call())
        await fake.wait_in_flight(1)
        with pytest.raises(ClaudeUnavailable) as info:
            await r.call()  # a second caller while the trial is out
        assert info.value.reason == "breaker_open"
        fake.release()
        assert await trial == 3
        assert state_of(r) is BreakerState.CLOSED
    finally:
        await r.client.aclose()


async def test_a_cancelled_trial_gives_its_permit_back(fake: FakeAnthropic) -> None:
    r = await make_rig(fake, max_retries=0, breaker_failures=1)
    try:
        fake.script(server_error(500))
        with pytest.raises(ClaudeUnavailable):
            await r.call()
        r.clock.advance(30.0)
        fake.script(hold(ok({"n": 1})))
        trial = asyncio.create_task(r.call())
        await fake.wait_in_flight(1)
        trial.cancel()
        with pytest.raises(asyncio.CancelledError):
            await trial
        assert state_of(r) is BreakerState.HALF_OPEN
        fake.release()
        fake.default = ok({"n": 2})
        assert await r.call() == 2
        assert state_of(r) is BreakerState.CLOSED
    finally:
        await r.client.aclose()

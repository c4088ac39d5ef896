"""The tutor on the Claude path: the real ``anthropic`` SDK against the local fake of the
Messages API (tests/fakes).  The answer and its confidence come from Claude; the spend
cap, counted from token usage, hands over to the offline tutor and says so; the cache
spares a call; requests to write the piece never reach the model, and an answer that is
a ready-made piece is refused whatever the model says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from server.api.tutor import service_of
from server.config import Settings
from server.http import ratelimit
from server.realtime.aipool import PooledOffline
from server.realtime.lifecycle import OFFLINE
from server.tutor.guard import REFUSAL
from tests.classes.helpers import call, ok
from tests.conftest import Node, start_node
from tests.fakes import quill_answers
from tests.fakes.fake_anthropic import FakeAnthropic, Json, hold, server_error
from tests.fakes.fake_anthropic import ok as fake_ok
from tests.tutor.helpers import PIECE, add_piece, answer_of, ask, follow_up, player
from tests.tutor.test_tutor_api import ATTEMPTS

# One call of the fake's default usage (120 in, 80 out, 1,500 cache reads) at the
# default prices (3 $ / 15 $ per million): 0.00036 + 0.0012 + 0.00045 = 0.00201 $.
CALL_COST = 0.00201


@dataclass
class Rig:
    fake: FakeAnthropic
    node: Node

    def tutor_calls(self) -> int:
        return sum(1 for r in self.fake.requests if r.tool_name == "record_tutor_answer")


@pytest.fixture
async def rig_of(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Any]:
    """``await rig_of(**tutor)``: a node whose tutor is Claude (the fake)."""
    running: list[Any] = []
    async with FakeAnthropic() as fake:
        quill_answers.install(fake)

        async def start(**tutor: Any) -> Rig:
            s = settings.replace(
                ai={
                    "engine": "claude",
                    "api_key": "sk-test",
                    "base_url": fake.base_url,
                    "max_retries": 0,
                },
                tutor=tutor,
            )
            runner, node = await start_node(s, database, redis_url)
            running.append((runner, node))
            return Rig(fake, node)

        try:
            yield start
        finally:
            for runner, node in running:
                await node.http.close()
                await runner.cleanup()


async def test_claude_answers_with_its_confidence(rig_of: Any) -> None:
    rig = await rig_of()
    s = await player(rig.node)
    await add_piece(rig.node, s.id)
    answer = answer_of(await ask(rig.node, s.token, "When do I start a new paragraph?"))
    assert answer["engine"] == "claude" and answer["notice"] is None
    assert answer["text"] == "Start a new paragraph when the time, place or speaker changes."
    assert answer["confidence"] == "high" and answer["factors"]["support"] == 1.0
    (request,) = rig.fake.requests
    assert PIECE.split(".")[0] in request.user_text  # the student's recent writing went along
    # The same question again comes from the cache: no second call.
    again = answer_of(await ask(rig.node, s.token, "when do i start a new paragraph"))
    assert again["cached"] is True and again["engine"] == "claude"
    assert rig.tutor_calls() == 1


async def test_the_thread_s_recent_turns_go_along(rig_of: Any) -> None:
    rig = await rig_of()
    s = await player(rig.node)
    thread = (await ask(rig.node, s.token, "What is voice in writing?"))["thread"]
    await follow_up(rig.node, s.token, thread["id"], "Can you say more about that?")
    last = rig.fake.requests[-1]
    data = quill_answers.block(last.body, "student_data")
    assert data["history"][0]["question"] == "What is voice in writing?"
    assert data["question"] == "Can you say more about that?"


async def test_past_the_spend_cap_the_offline_tutor_answers(rig_of: Any) -> None:
    rig = await rig_of(daily_spend_usd=CALL_COST * 1.5)
    s = await player(rig.node)
    first = answer_of(await ask(rig.node, s.token, "What is voice in writing?"))
    second = answer_of(await ask(rig.node, s.token, "How do I punctuate dialogue?"))
    assert first["engine"] == second["engine"] == "claude"  # 0.002 $ spent < 0.003 $
    status = await ok(await call(rig.node, "GET", "/api/v1/tutor/status", s.token))
    assert status["spend_capped"] is True  # 0.004 $ spent
    third = answer_of(await ask(rig.node, s.token, "What is a hook?"))
    assert third["engine"] == "offline" and third["notice"] == "spend_cap"
    assert rig.tutor_calls() == 2
    # The spend-cap answer is not cached: tomorrow the same question goes to Claude.
    clock = rig.node.app[ratelimit.CLOCK]
    clock.fixed = (clock.now() // 86400 + 1) * 86400 + 1
    status = await ok(await call(rig.node, "GET", "/api/v1/tutor/status", s.token))
    assert status["spend_capped"] is False
    fourth = answer_of(await ask(rig.node, s.token, "What is a hook?"))
    assert fourth["engine"] == "claude" and fourth["notice"] is None and not fourth["cached"]
    assert rig.tutor_calls() == 3


async def test_a_zero_cap_never_calls_claude(rig_of: Any) -> None:
    rig = await rig_of(daily_spend_usd=0)
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, "What is voice in writing?"))
    assert (answer["engine"], answer["notice"]) == ("offline", "spend_cap")
    assert rig.tutor_calls() == 0


async def test_guests_never_reach_claude(rig_of: Any) -> None:
    rig = await rig_of()
    body = await ok(await rig.node.post("/api/v1/auth/guest", {}), 201)
    answer = answer_of(await ask(rig.node, body["access_token"], "What is voice in writing?"))
    assert answer["engine"] == "offline" and rig.tutor_calls() == 0


async def test_when_claude_fails_the_offline_tutor_answers(rig_of: Any) -> None:
    rig = await rig_of()
    rig.fake.script(server_error())
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, "What is voice in writing?"))
    assert answer["engine"] == "offline" and answer["notice"] == "ai_unavailable"
    # Not cached: the next time Claude is asked again.
    again = answer_of(await ask(rig.node, s.token, "What is voice in writing?"))
    assert again["engine"] == "claude" and not again["cached"]


@pytest.mark.parametrize("attempt", ATTEMPTS)
async def test_requests_to_write_the_piece_never_reach_claude(rig_of: Any, attempt: str) -> None:
    rig = await rig_of()
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, attempt))
    assert answer["declined"] is True and answer["text"] == REFUSAL
    assert rig.tutor_calls() == 0


STORY = (
    "The lighthouse stood alone on the black rocks. Rain hammered the glass of the lamp "
    "room. Old Tom climbed the spiral stairs one last time. Far below, a fishing boat "
    "fought the waves. He swung the great beam toward it and held his breath. Slowly, the "
    "boat turned away from the rocks and into the safe harbour."
)


def writes_a_story(body: Json) -> Json:
    return {**quill_answers.tutor_answer(body), "answer": STORY, "citations": []}


@pytest.mark.parametrize(
    "question",
    [
        "What could happen next after the boat in the storm?",
        "Show me what a strong middle part would look like",
    ],
)
async def test_a_ready_made_piece_from_the_model_is_refused(rig_of: Any, question: str) -> None:
    rig = await rig_of()
    rig.fake.respond("record_tutor_answer", writes_a_story)
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, question))
    assert rig.tutor_calls() == 1  # the question itself was fair
    assert (
        answer["declined"] is True and answer["text"] == REFUSAL and STORY[:20] not in str(answer)
    )
    assert answer["engine"] == "claude"


async def test_advice_with_a_short_example_is_kept(rig_of: Any) -> None:
    rig = await rig_of()
    advice = (
        "Try ending on an image instead of a summary. For example: 'The beam swept the empty "
        "sea.' Then read your last paragraph aloud and cut any sentence that repeats."
    )
    rig.fake.script(
        fake_ok(
            {
                "answer": advice,
                "declined": False,
                "confidence": 0.9,
                "relevance": 0.9,
                "clarity": 0.9,
                "completeness": 0.8,
                "citations": [],
            }
        )
    )
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, "How do I end my story well?"))
    assert answer["text"] == advice and answer["declined"] is False


async def test_a_slow_claude_is_answered_by_the_offline_tutor(rig_of: Any) -> None:
    rig = await rig_of(answer_timeout_seconds=0.2)
    rig.fake.script(hold())  # held until the fake closes: never answers in time
    s = await player(rig.node)
    answer = answer_of(await ask(rig.node, s.token, "What is voice in writing?"))
    assert answer["engine"] == "offline" and answer["notice"] == "ai_unavailable"


async def test_the_checks_run_in_the_ai_pool(rig_of: Any) -> None:
    rig = await rig_of()
    s = await player(rig.node)
    await ask(rig.node, s.token, "What is voice in writing?")
    service = service_of(rig.node.app)
    pooled = rig.node.app[OFFLINE].tutor
    assert isinstance(pooled, PooledOffline)
    assert service.offload == pooled.pool.call  # screen and prose check: off the loop
    assert service.offline is rig.node.app[OFFLINE]  # the offline tutor: the pool too

"""Answering one tutor question: the guards, the cache, the limits and the engine.

:meth:`TutorService.answer` takes a :class:`~server.ai.types.TutorRequest` and gives an
:class:`Answered`, in this order:

1. :func:`server.tutor.guard.screen` reads the question (in the node's AI pool): a
   request to write the piece (or an instruction hidden in the question) is refused
   with :data:`~server.tutor.guard.REFUSAL` and no engine is asked; a self-harm signal
   or a message the offline moderator's rules block goes to the offline tutor, whose
   caring reply or decline is the answer (``safety`` says so: the handler escalates it
   to the teacher);
3. the answer cache: the same student, the same normalised question about the same
   piece within ``tutor.cache_seconds`` is answered from Redis (``cached``);
4. the engine: guests and, past ``tutor.daily_spend_usd`` today, everyone get the
   offline tutor (in the AI pool; ``notice="spend_cap"`` for the cap); otherwise the
   configured one (Claude, or the offline tutor).  An answer that takes longer than
   ``tutor.answer_timeout_seconds``, or Claude's own fallback, is the offline tutor's
   with ``notice="ai_unavailable"``;
5. an answer that is mostly ready-made prose
   (:func:`server.tutor.guard.is_ready_made_prose`, in the AI pool too) is replaced by
   the refusal.

Nothing here computes on the event loop: the checks, the offline tutor and the
moderator's rules run in the AI pool (``offload``), Claude over the network.

**Why Redis for the cache.**  Every node shares it, entries expire by themselves
(``SET … EX``) and a lost entry costs one AI call, never data: the answer itself is
stored with the thread in PostgreSQL.  The key is a hash of the student, the piece the
thread is about (or the focus trait chosen from their recent scores) and the normalised
question: answers quote the student's own writing and lean on their scores, so one
student's answer is never served to another.

**Spend.**  The Claude client counts every call's cost from its token usage in the
``quill_ai_cost_usd_total{task="tutor"}`` counter.  After each Claude answer the growth of
that counter since the last look is added to today's total in Redis (``INCRBYFLOAT`` on
a key per UTC day), so every node sharing the Redis shares the cap.  Answers already in
flight when the cap is reached still finish: the overshoot is at most
``ai.concurrency`` answers.

**Daily question limit.**  One Redis counter per student and UTC day; a question past
``tutor.questions_per_day`` (guests: ``tutor.guest_questions_per_day``) is refused with
429 ``tutor_daily_limit``, ``details.resets_at`` the next midnight UTC.  Days come from
the app's rate-limit clock (``server.http.ratelimit.WindowClock``), which tests move.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis

from server.ai.types import Engines, TutorAnswer, TutorRequest
from server.config import TutorSettings
from server.errors import ApiError, RateLimited
from server.metrics import Registry
from server.tutor import guard

log = structlog.get_logger("quill.tutor")

DAY = 86400
COST_METRIC = "quill_ai_cost_usd_total"
COST_HELP = "Estimated spend on the Messages API in USD."  # as server/ai/claude_client.py
Offload = Callable[..., Awaitable[Any]]
"""``offload(fn, *args)``: ``fn(*args)`` off the event loop (the AI pool's ``call``)."""
REFUSAL_FACTORS = {"support": 0.0, "relevance": 0.0, "clarity": 1.0, "completeness": 0.0}


class DailyLimit(RateLimited):
    code = "tutor_daily_limit"


class TutorUnavailable(ApiError):
    status = 503
    code = "tutor_unavailable"


@dataclass(frozen=True, slots=True)
class Answered:
    answer: TutorAnswer
    cached: bool = False
    notice: str | None = None  # spend_cap | ai_unavailable
    safety: bool = False  # a self-harm signal: the handler escalates to the teacher


def day_of(now: float) -> int:
    return int(now // DAY)


def resets_at(now: float) -> datetime:
    return datetime.fromtimestamp((day_of(now) + 1) * DAY, UTC)


def refusal(engine: str = "offline") -> TutorAnswer:
    return TutorAnswer(
        answer=guard.REFUSAL,
        confidence="high",
        factors=dict(REFUSAL_FACTORS),
        escalate=False,
        declined=True,
        sources=(),
        engine="claude" if engine == "claude" else "offline",
    )


def cache_key(user_id: str, context: str, normalised: str) -> str:
    """The cache key of a question in its :func:`~server.tutor.guard.normalise` form."""
    digest = hashlib.sha256("\x1f".join((user_id, context, normalised)).encode()).hexdigest()
    return f"quill:tutor:cache:{digest}"


def _encode(a: TutorAnswer) -> bytes:
    return orjson.dumps(
        {
            "answer": a.answer,
            "confidence": a.confidence,
            "factors": dict(a.factors),
            "escalate": a.escalate,
            "declined": a.declined,
            "sources": list(a.sources),
            "engine": a.engine,
        }
    )


def _decode(raw: bytes | str) -> TutorAnswer | None:
    try:
        d = orjson.loads(raw)
        return TutorAnswer(
            answer=str(d["answer"]),
            confidence=d["confidence"],
            factors={k: float(v) for k, v in d["factors"].items()},
            escalate=bool(d["escalate"]),
            declined=bool(d["declined"]),
            sources=tuple(d["sources"]),
            engine="claude" if d["engine"] == "claude" else "offline",
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None


def offloader(offline: Engines) -> Offload:
    """The AI pool's ``call`` behind the offline engines (a thread where there is none)."""
    pool = getattr(offline.tutor, "pool", None)
    call = getattr(pool, "call", None)
    if call is not None:
        return call  # type: ignore[no-any-return]
    return asyncio.to_thread


class TutorService:
    """One per node (built on the first question).  Holds no connection of its own."""

    def __init__(
        self,
        settings: TutorSettings,
        engines: Engines,
        offline: Engines,
        redis: Redis,
        registry: Registry,
        clock: Callable[[], float],
        offload: Offload | None = None,
    ) -> None:
        self.settings = settings
        self.engines = engines
        self.offline = offline
        self.redis = redis
        self.clock = clock
        self.offload: Offload = offload or offloader(offline)
        self._cost = registry.counter(COST_METRIC, COST_HELP, ("task",))
        self._seen = self._cost.value(task="tutor")

    @property
    def uses_claude(self) -> bool:
        return self.engines.names.get("tutor") == "claude"

    # --- limits ---------------------------------------------------------------------------

    def _asked_key(self, user_id: str, now: float) -> str:
        return f"quill:tutor:asked:{user_id}:{day_of(now)}"

    async def count_question(self, user_id: str, guest: bool) -> None:
        """Count one question of today; 429 ``tutor_daily_limit`` past the limit."""
        now = self.clock()
        limit = self.settings.guest_questions_per_day if guest else self.settings.questions_per_day
        key = self._asked_key(user_id, now)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * DAY)
            count, _ = await pipe.execute()
        if int(count) > limit:
            await self.redis.decr(key)
            reset = resets_at(now)
            raise DailyLimit(
                f"you have asked the tutor {limit} questions today; ask again after "
                f"{reset.strftime('%H:%M')} UTC",
                retry_after=max(1, math.ceil(reset.timestamp() - now)),
                details={"limit": limit, "resets_at": reset.isoformat().replace("+00:00", "Z")},
            )

    async def uncount_question(self, user_id: str) -> None:
        await self.redis.decr(self._asked_key(user_id, self.clock()))

    async def asked_today(self, user_id: str) -> int:
        raw = await self.redis.get(self._asked_key(user_id, self.clock()))
        return max(0, int(raw or 0))

    def _spend_key(self, now: float) -> str:
        return f"quill:tutor:spend:{day_of(now)}"

    async def spent_today(self) -> float:
        raw = await self.redis.get(self._spend_key(self.clock()))
        return float(raw or 0.0)

    async def spend_capped(self) -> bool:
        if not self.uses_claude:
            return False
        cap = self.settings.daily_spend_usd
        return cap <= 0 or await self.spent_today() >= cap

    async def _count_spend(self) -> None:
        total = self._cost.value(task="tutor")
        delta, self._seen = total - self._seen, total  # no await between: no double count
        if delta > 0:
            key = self._spend_key(self.clock())
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.incrbyfloat(key, delta)
                pipe.expire(key, 3 * DAY)
                await pipe.execute()

    # --- answering ------------------------------------------------------------------------

    async def answer(
        self, user_id: str, req: TutorRequest, context: str, *, guest: bool
    ) -> Answered:
        """The answer to ``req`` (see the module docstring for the order of the rules)."""
        try:
            seen: guard.Screened = await self.offload(guard.screen, req.question)
        except Exception as exc:
            log.warning("tutor_screen_failed", error=repr(exc))
            raise TutorUnavailable("the tutor cannot answer right now; try again soon") from exc
        if seen.asks_for_writing:
            return Answered(refusal())
        if seen.self_harm or seen.blocked:
            said = await self._offline(req)
            return Answered(said, safety=seen.self_harm)
        key = cache_key(user_id, context, seen.normalised)
        if self.settings.cache_seconds > 0:
            raw = await self.redis.get(key)
            hit = None if raw is None else _decode(raw)
            if hit is not None:
                return Answered(hit, cached=True)
        said, notice = await self._ask(req, guest)
        if not said.declined and await self._prose(said.answer):
            log.info("tutor_prose_refused", engine=said.engine)
            said = refusal(said.engine)
        if notice is None and self.settings.cache_seconds > 0:
            await self.redis.set(key, _encode(said), ex=self.settings.cache_seconds)
        return Answered(said, notice=notice)

    async def _ask(self, req: TutorRequest, guest: bool) -> tuple[TutorAnswer, str | None]:
        if guest or not self.uses_claude:
            return await self._offline(req), None
        if await self.spend_capped():
            return await self._offline(req), "spend_cap"
        try:
            async with asyncio.timeout(self.settings.answer_timeout_seconds):
                said = await self.engines.tutor.answer(req)
        except Exception as exc:  # a timeout, or the engine failing outright
            log.warning("tutor_engine_failed", error=repr(exc))
            said = dataclasses.replace(await self._offline(req), provisional=True)
        finally:
            await self._count_spend()
        if said.engine == "offline":
            return said, "ai_unavailable"
        return said, None

    async def _prose(self, answer: str) -> bool:
        try:
            return bool(await self.offload(guard.is_ready_made_prose, answer))
        except Exception as exc:
            log.warning("tutor_prose_check_failed", error=repr(exc))
            raise TutorUnavailable("the tutor cannot answer right now; try again soon") from exc

    async def _offline(self, req: TutorRequest) -> TutorAnswer:
        try:
            return await self.offline.tutor.answer(req)
        except Exception as exc:  # the pool is gone (shutting down) or lost its worker
            log.warning("tutor_offline_failed", error=repr(exc))
            raise TutorUnavailable("the tutor cannot answer right now; try again soon") from exc

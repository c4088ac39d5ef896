"""The Claude engine: every AI task through the Messages API, with an offline fallback.

One :class:`ClaudeEngine` implements all six protocols of ``server.ai.types``.  Each task
builds a fixed (cached) system prompt, a data-only user message and a forced tool call
(``server.ai.claude_prompts``), sends it through the shared :class:`ClaudeClient`
(limits, retries, breaker, metrics) and validates the tool input
(``server.ai.claude_parse``).  When the client gives up or the breaker is open, the same
request goes to the offline engine and the result is marked ``engine="offline"``,
``provisional=True``.

Task-specific choices:

- scoring an empty piece never calls Claude: the offline scorer's answer is exact there;
- moderation always runs the offline rules first as a floor (they catch e-mail addresses,
  phone numbers and listed names deterministically); Claude can make the verdict
  stricter, never looser, and its masks are applied on top of the offline masks;
- tutor confidence: one sample that must cite its support (exact quotes of the student's
  writing or of the reference text) and rate itself; quotes are checked here, and the
  label comes from the verified support and the self-ratings (see ``tutor_confidence``);
- bot pieces get their typing timeline from the offline typing model.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from server.ai.claude_client import ClaudeClient, ClaudeUnavailable
from server.ai.claude_parse import (
    find_quote,
    parse_bot_piece,
    parse_bot_review,
    parse_judgement,
    parse_moderation,
    parse_score,
    parse_tutor,
)
from server.ai.claude_prompts import (
    BOT_REVIEW_SYSTEM,
    BOT_REVIEW_TOOL,
    BOT_WRITE_SYSTEM,
    BOT_WRITE_TOOL,
    JUDGE_SYSTEM,
    JUDGE_TOOL,
    MODERATION_SYSTEM,
    MODERATION_TOOL,
    SCORE_SYSTEM,
    SCORE_TOOL,
    TUTOR_SYSTEM,
    TUTOR_TOOL,
    focus_name,
    prompt_payload,
    system_blocks,
    tutor_reference,
    user_message,
)
from server.ai.offline.bot_typing import typing_timeline, word_budget
from server.ai.types import (
    BotPiece,
    BotPieceRequest,
    BotReview,
    BotReviewRequest,
    Confidence,
    Engines,
    ModerationRequest,
    ModerationResult,
    PieceRequest,
    PieceScore,
    ReviewRequest,
    ReviewScore,
    TutorAnswer,
    TutorRequest,
    Verdict,
)
from server.metrics import Registry

R = TypeVar("R", PieceScore, ReviewScore, ModerationResult, TutorAnswer, BotPiece, BotReview)

_SEVERITY: dict[Verdict, int] = {"allow": 0, "mask": 1, "block": 2}
MASK_CHAR = "*"


def _mask(text: str, spans: tuple[str, ...]) -> str:
    for span in spans:
        text = text.replace(span, MASK_CHAR * len(span))
    return text


def tutor_confidence(
    self_rating: float, support: float, relevance: float, clarity: float, completeness: float
) -> Confidence:
    """Blend verified support with the self-ratings; the self-rating caps the result."""
    blended = 0.4 * support + 0.6 * (relevance + clarity + completeness) / 3
    score = min(self_rating, blended)
    return "high" if score >= 0.75 else "medium" if score >= 0.5 else "low"


class ClaudeEngine:
    """Scorer, judge, moderator, tutor, bot writer and bot reviewer in one object."""

    def __init__(self, client: ClaudeClient, offline: Engines, registry: Registry) -> None:
        self.client = client
        self.offline = offline
        self._fallbacks = registry.counter(
            "quill_ai_fallbacks_total",
            "Results produced by the offline engine in place of Claude, by task and reason.",
            ("task", "reason"),
        )
        self._system = {
            "score": system_blocks(SCORE_SYSTEM),
            "judge": system_blocks(JUDGE_SYSTEM),
            "moderate": system_blocks(MODERATION_SYSTEM),
            "tutor": system_blocks(TUTOR_SYSTEM),
            "bot_write": system_blocks(BOT_WRITE_SYSTEM),
            "bot_review": system_blocks(BOT_REVIEW_SYSTEM),
        }

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _fallback(self, task: str, reason: str, result: Awaitable[R]) -> R:
        self._fallbacks.inc(task=task, reason=reason)
        value = await result
        return dataclasses.replace(value, engine="offline", provisional=True)

    # -- scoring -------------------------------------------------------------------------------

    async def score_piece(self, req: PieceRequest) -> PieceScore:
        if not req.text.strip():
            return await self.offline.scorer.score_piece(req)
        user = user_message(
            "Score the student's piece in <student_data> with the record_piece_score tool.",
            {
                "prompt": prompt_payload(req.prompt),
                "focus_trait": req.focus.value,
                "level": req.level,
                "minutes": round(req.seconds_allowed / 60, 1),
            },
            {"piece": req.text},
        )
        try:
            parsed = await self.client.call(
                "score",
                system=self._system["score"],
                tool=SCORE_TOOL,
                user=user,
                parse=lambda data: parse_score(data, req.text),
            )
        except ClaudeUnavailable as exc:
            return await self._fallback("score", exc.reason, self.offline.scorer.score_piece(req))
        return PieceScore(
            traits=parsed.traits,
            overall=parsed.overall,
            rationale=parsed.rationale,
            suggestions=parsed.suggestions,
            engine="claude",
            flags=parsed.flags,
        )

    async def judge_review(self, req: ReviewRequest) -> ReviewScore:
        user = user_message(
            "Judge the peer review in <student_data> with the record_review_score tool.",
            {"prompt": prompt_payload(req.prompt), "focus_trait": req.focus.value},
            {
                "piece": req.piece_text,
                "review": {
                    "strength": req.strength,
                    "suggestion": req.suggestion,
                    "rating": req.rating,
                },
            },
        )
        try:
            parsed = await self.client.call(
                "judge",
                system=self._system["judge"],
                tool=JUDGE_TOOL,
                user=user,
                parse=parse_judgement,
            )
        except ClaudeUnavailable as exc:
            return await self._fallback("judge", exc.reason, self.offline.judge.judge_review(req))
        return ReviewScore(
            helpfulness=parsed.helpfulness,
            specificity=parsed.specificity,
            actionability=parsed.actionability,
            justification=parsed.justification,
            tone=parsed.tone,
            reasons=parsed.reasons,
            engine="claude",
        )

    # -- moderation -----------------------------------------------------------------------------

    async def moderate(self, req: ModerationRequest) -> ModerationResult:
        floor = await self.offline.moderator.moderate(req)
        if floor.verdict == "block" or not req.text.strip():
            return floor
        user = user_message(
            "Moderate the text in <student_data> with the record_moderation tool.",
            {"classmate_names": list(req.known_names)},
            {"text": req.text},
        )
        try:
            parsed = await self.client.call(
                "moderate",
                system=self._system["moderate"],
                tool=MODERATION_TOOL,
                user=user,
                parse=lambda data: parse_moderation(data, req.text),
            )
        except ClaudeUnavailable as exc:
            self._fallbacks.inc(task="moderate", reason=exc.reason)
            return dataclasses.replace(floor, engine="offline", provisional=True)
        claude_verdict: Verdict = (
            "block"
            if parsed.verdict == "block"
            else "mask"
            if parsed.verdict == "mask"
            else "allow"
        )
        verdict = max(floor.verdict, claude_verdict, key=_SEVERITY.__getitem__)
        reasons = tuple(dict.fromkeys((*floor.reasons, *parsed.reasons)))
        if verdict == "block":
            shown = ""
        elif verdict == "mask":
            base = floor.text if floor.verdict == "mask" else req.text
            shown = _mask(base, parsed.mask_spans)
        else:
            shown = req.text
        return ModerationResult(
            verdict=verdict,
            text=shown,
            reasons=reasons,
            flag_teacher=floor.flag_teacher or parsed.flag_teacher,
            engine="claude",
        )

    # -- tutor ------------------------------------------------------------------------------------

    async def answer(self, req: TutorRequest) -> TutorAnswer:
        user = user_message(
            "Answer the student's question in <student_data> with the record_tutor_answer tool.",
            {"focus_trait": focus_name(req.focus)},
            {
                "question": req.question,
                "recent_writing": list(req.recent_writing),
                "history": [{"question": q, "answer": a} for q, a in req.history[-4:]],
            },
        )
        try:
            parsed = await self.client.call(
                "tutor",
                system=self._system["tutor"],
                tool=TUTOR_TOOL,
                user=user,
                parse=parse_tutor,
            )
        except ClaudeUnavailable as exc:
            return await self._fallback("tutor", exc.reason, self.offline.tutor.answer(req))
        writing = "\n\n".join(req.recent_writing)
        reference = tutor_reference()
        verified: list[str] = []
        for source, quote in parsed.citations:
            haystack = writing if source == "student_writing" else reference
            if find_quote(quote, haystack) is not None:
                verified.append(source)
        support = len(verified) / len(parsed.citations) if parsed.citations else 0.3
        label = tutor_confidence(
            parsed.confidence, support, parsed.relevance, parsed.clarity, parsed.completeness
        )
        if len(verified) < len(parsed.citations) and label == "high":
            label = "medium"  # a quote we could not find is a warning sign
        return TutorAnswer(
            answer=parsed.answer,
            confidence=label,
            factors={
                "support": round(support, 3),
                "relevance": parsed.relevance,
                "clarity": parsed.clarity,
                "completeness": parsed.completeness,
            },
            escalate=label == "low" and not parsed.declined,
            declined=parsed.declined,
            sources=tuple(dict.fromkeys(verified)),
            engine="claude",
        )

    # -- bots -------------------------------------------------------------------------------------

    async def write_piece(self, req: BotPieceRequest) -> BotPiece:
        skill = min(1.0, max(0.0, req.skill))
        target = word_budget(skill, req.seconds_allowed)
        user = user_message(
            "Write the piece with the record_bot_piece tool.",
            {
                "prompt": prompt_payload(req.prompt),
                "focus_trait": req.prompt.focus.value,
                "level": req.prompt.level,
                "skill": round(skill, 2),
                "target_words": target,
            },
            {},
        )
        try:
            text = await self.client.call(
                "bot_write",
                system=self._system["bot_write"],
                tool=BOT_WRITE_TOOL,
                user=user,
                parse=lambda data: parse_bot_piece(data, max_words=2 * target + 20),
            )
        except ClaudeUnavailable as exc:
            return await self._fallback(
                "bot_write", exc.reason, self.offline.writer.write_piece(req)
            )
        text = "\n\n".join(p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip())
        rng = random.Random(f"claude-typing|{req.seed}|{req.prompt.id}|{skill:.4f}")
        timeline = typing_timeline(text, skill, req.seconds_allowed, rng)
        return BotPiece(text=text, timeline=timeline, engine="claude")

    async def write_review(self, req: BotReviewRequest) -> BotReview:
        skill = min(1.0, max(0.0, req.skill))
        context: Mapping[str, Any] = {
            "prompt": prompt_payload(req.prompt),
            "focus_trait": req.focus.value,
            "skill": round(skill, 2),
        }
        user = user_message(
            "Write the peer review of the piece in <student_data> with the record_bot_review tool.",
            context,
            {"piece": req.piece_text},
        )
        try:
            parsed = await self.client.call(
                "bot_review",
                system=self._system["bot_review"],
                tool=BOT_REVIEW_TOOL,
                user=user,
                parse=parse_bot_review,
            )
        except ClaudeUnavailable as exc:
            return await self._fallback(
                "bot_review", exc.reason, self.offline.reviewer.write_review(req)
            )
        return BotReview(
            strength=parsed.strength,
            suggestion=parsed.suggestion,
            rating=parsed.rating,
            engine="claude",
        )

"""AI requests of the matches: the configured engines, a node-wide bound, the offline fallback.

A match's ``Moderate``, ``ScorePiece`` and ``ScoreReview`` effects each become one task
(owned by the match's runner) that calls :meth:`AIService.answer` and puts the answer in
the match's inbox.  At most ``Tuning.ai_concurrency`` requests run at once on a node;
the others wait their turn.  If the engine raises or takes longer than
``Tuning.ai_timeout_seconds``, the offline engine answers instead and the result is
marked ``provisional`` — every request is answered.

:class:`OfflineFallback` is the synchronous :class:`server.game.scoring.Fallback` the
engine itself uses at the scoring deadline for whatever is still missing.
"""

from __future__ import annotations

import asyncio
import dataclasses

import structlog

from server.ai.offline.judge import judge_review_sync
from server.ai.offline.scorer import score_piece_sync
from server.ai.types import (
    Engines,
    ModerationRequest,
    PieceRequest,
    PieceScore,
    ReviewRequest,
    ReviewScore,
)
from server.game import Input, Moderate, Moderated, PieceScored, ReviewScored, ScorePiece
from server.game import ScoreReview as ScoreReviewEffect
from server.realtime.metrics import RealtimeMetrics

AIRequest = Moderate | ScorePiece | ScoreReviewEffect

log = structlog.get_logger("quill.match.ai")


def task_name(request: AIRequest) -> str:
    if isinstance(request, Moderate):
        return "moderate"
    return "score_piece" if isinstance(request, ScorePiece) else "judge_review"


class OfflineFallback:
    """The engine's scoring-deadline fallback: the offline scorer and judge, provisional."""

    def score_piece(self, req: PieceRequest) -> PieceScore:
        return dataclasses.replace(score_piece_sync(req), provisional=True)

    def judge_review(self, req: ReviewRequest) -> ReviewScore:
        return dataclasses.replace(judge_review_sync(req), provisional=True)


class AIService:
    def __init__(
        self,
        engines: Engines,
        offline: Engines,
        *,
        concurrency: int,
        timeout: float,
        metrics: RealtimeMetrics,
    ) -> None:
        self.engines = engines
        self.offline = offline
        self.timeout = timeout
        self.metrics = metrics
        self._slots = asyncio.Semaphore(concurrency)

    async def answer(self, request: AIRequest) -> Input:
        """The engine input answering ``request`` (from the offline engine on failure)."""
        async with self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await ask(self.engines, request, provisional=False)
            except Exception as exc:
                task = task_name(request)
                log.warning("ai_request_failed", task=task, error=repr(exc))
                self.metrics.ai_fallbacks.inc(task=task)
            return await ask(self.offline, request, provisional=True)


async def ask(engines: Engines, request: AIRequest, *, provisional: bool) -> Input:
    if isinstance(request, Moderate):
        moderated = await engines.moderator.moderate(ModerationRequest(request.text))
        if provisional:
            moderated = dataclasses.replace(moderated, provisional=True)
        return Moderated(request.key, moderated)
    if isinstance(request, ScorePiece):
        score = await engines.scorer.score_piece(request.request)
        if provisional:
            score = dataclasses.replace(score, provisional=True)
        return PieceScored(request.piece_id, score)
    judged = await engines.judge.judge_review(request.request)
    if provisional:
        judged = dataclasses.replace(judged, provisional=True)
    return ReviewScored(request.review_id, judged)

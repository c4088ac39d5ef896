"""AI requests of the matches: the configured engines, a node-wide bound, the offline fallback.

A match's ``Moderate``, ``ScorePiece`` and ``ScoreReview`` effects each become one task
(owned by the match's runner) that calls :meth:`AIService.answer` and puts the answer in
the match's inbox.  At most ``Tuning.ai_concurrency`` requests run at once on a node
(bot pieces and reviews, :meth:`AIService.write_piece` / :meth:`AIService.write_review`,
included); the others wait their turn.  If the engine raises or takes longer than
``Tuning.ai_timeout_seconds``, the offline engine answers instead and the result is
marked ``provisional`` — every request is answered.

The offline engine is the node's :class:`~server.realtime.aipool.OfflinePool`: nothing
here computes on the event loop, and the semaphore also bounds the work waiting for the
pool.

:class:`OfflineFallback` is the synchronous :class:`server.game.scoring.Fallback` the
engine itself uses at the scoring deadline for whatever is still missing.  It must answer
at once, so it does not wait for the pool: while a score or judgement is asked of another
engine (Claude), the offline answer is computed in the pool beside it and kept until the
request is answered (at most ``ai_concurrency`` of them); the fallback takes that one.
Only a request with nothing ready (one still waiting for its turn at the deadline, or the
offline engine itself being that late) is computed on the loop, by the offline functions
directly: about 1 ms per piece or review once their material is loaded (a few hundred ms,
once per process, the first time).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

import structlog

from server.ai.offline.judge import judge_review_sync
from server.ai.offline.scorer import score_piece_sync
from server.ai.types import (
    BotPiece,
    BotPieceRequest,
    BotReview,
    BotReviewRequest,
    Engines,
    ModerationRequest,
    ModerationResult,
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
        # Offline answers computed beside a request to another engine, by request.
        self.ready: dict[PieceRequest | ReviewRequest, asyncio.Future[PieceScore | ReviewScore]]
        self.ready = {}

    async def answer(self, request: AIRequest) -> Input:
        """The engine input answering ``request`` (from the offline engine on failure)."""
        async with self._slots:
            spare = self._beside(request)
            try:
                async with asyncio.timeout(self.timeout):
                    return await ask(self.engines, request, provisional=False)
            except Exception as exc:
                task = task_name(request)
                log.warning("ai_request_failed", task=task, error=repr(exc))
                self.metrics.ai_fallbacks.inc(task=task)
                if spare is not None and not isinstance(request, Moderate):
                    with contextlib.suppress(Exception):
                        return answered(request, await spare, provisional=True)
            finally:
                if spare is not None and not isinstance(request, Moderate):
                    self._drop(request.request, spare)
            return await ask(self.offline, request, provisional=True)

    def _beside(self, request: AIRequest) -> asyncio.Future[PieceScore | ReviewScore] | None:
        """Start the offline answer of a score or judgement asked of another engine."""
        if isinstance(request, Moderate):
            return None
        task = "scorer" if isinstance(request, ScorePiece) else "judge"
        if self.engines.names.get(task) == "offline":
            return None  # the offline engine is the one asked
        spare: asyncio.Future[PieceScore | ReviewScore]
        if isinstance(request, ScorePiece):
            spare = asyncio.ensure_future(self.offline.scorer.score_piece(request.request))
        else:
            spare = asyncio.ensure_future(self.offline.judge.judge_review(request.request))
        spare.add_done_callback(_consume)
        self.ready[request.request] = spare
        return spare

    def _drop(self, key: PieceRequest | ReviewRequest, spare: asyncio.Future[Any]) -> None:
        if self.ready.get(key) is spare:
            del self.ready[key]
        spare.cancel()

    async def write_piece(self, req: BotPieceRequest) -> BotPiece:
        """A bot's piece and whole typing timeline, in turn with the other AI requests."""
        async with self._slots:
            return await self.engines.writer.write_piece(req)

    async def write_review(self, req: BotReviewRequest) -> BotReview:
        async with self._slots:
            return await self.engines.reviewer.write_review(req)

    async def moderate_draft(self, req: ModerationRequest) -> ModerationResult:
        """A draft checked while it is typed (``server.lobbies.draftcheck``): always the
        offline moderator, in turn with the other requests."""
        async with self._slots:
            return await self.offline.moderator.moderate(req)


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: an unused spare that failed is not an error


class OfflineFallback:
    """The engine's scoring-deadline fallback: the offline scorer and judge, provisional.

    Takes the answer the service computed in the pool when there is one (see the module
    docstring); else computes it here, on the loop.
    """

    def __init__(self, service: AIService | None = None) -> None:
        self.service = service

    def _ready(self, req: PieceRequest | ReviewRequest) -> PieceScore | ReviewScore | None:
        spare = None if self.service is None else self.service.ready.get(req)
        if spare is None or not spare.done() or spare.cancelled() or spare.exception():
            return None
        return spare.result()

    def score_piece(self, req: PieceRequest) -> PieceScore:
        score = self._ready(req)
        if not isinstance(score, PieceScore):
            score = score_piece_sync(req)
        return dataclasses.replace(score, provisional=True)

    def judge_review(self, req: ReviewRequest) -> ReviewScore:
        judged = self._ready(req)
        if not isinstance(judged, ReviewScore):
            judged = judge_review_sync(req)
        return dataclasses.replace(judged, provisional=True)


def answered(
    request: ScorePiece | ScoreReviewEffect, result: PieceScore | ReviewScore, *, provisional: bool
) -> Input:
    result = dataclasses.replace(result, provisional=provisional)
    if isinstance(request, ScorePiece):
        assert isinstance(result, PieceScore)
        return PieceScored(request.piece_id, result)
    assert isinstance(result, ReviewScore)
    return ReviewScored(request.review_id, result)


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

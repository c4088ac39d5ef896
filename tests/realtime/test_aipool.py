"""The offline AI engines run in the node's process pool, never on the event loop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from server.ai.claude import ClaudeEngine
from server.ai.offline.scorer import score_piece_sync
from server.ai.types import (
    BotPieceRequest,
    BotReviewRequest,
    ModerationRequest,
    PieceRequest,
    PieceScore,
    Prompt,
    ReviewRequest,
    ReviewScore,
    Trait,
)
from server.config import Settings
from server.game import PieceScored, ScorePiece, ScoreReview
from server.http.state import ENGINES, REALTIME
from server.metrics import Registry
from server.realtime.ai import AIService, OfflineFallback
from server.realtime.aipool import OfflinePool, PooledOffline, WorkerLost, worker_pid
from server.realtime.lifecycle import OFFLINE
from server.realtime.metrics import RealtimeMetrics
from server.types import PlayerId
from tests.bots.helpers import until
from tests.realtime.helpers import running_node

PROMPT = Prompt(id="lighthouse", title="The lighthouse", text="A lighthouse in a storm.")
PIECE = "The keeper climbed the stairs. The lamp turned and the waves broke white below. " * 3
REVIEW = ReviewRequest(PROMPT, PIECE, "The waves feel real.", "Say what the keeper hears.", 4)
HEAVY = PieceRequest(PROMPT, ("The storm rose over the bay and the keeper watched it. " * 400))


@pytest.fixture
async def pool() -> AsyncIterator[OfflinePool]:
    p = OfflinePool(1)
    await p.start()
    try:
        yield p
    finally:
        await p.close()


async def ticks_while(work: Callable[[], Awaitable[Any]]) -> int:
    """How many times a heartbeat task got the loop while ``work`` ran (counted)."""
    ticks = 0
    stop = False

    async def heartbeat() -> None:
        nonlocal ticks
        while not stop:
            await asyncio.sleep(0)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)  # let it start
    ticks = 0
    try:
        await work()
        seen = ticks
    finally:
        stop = True
        await beat
    return seen


def test_requests_and_answers_pickle() -> None:
    score = score_piece_sync(PieceRequest(PROMPT, PIECE, focus=Trait.VOICE))
    for value in (
        PieceRequest(PROMPT, PIECE, focus=Trait.VOICE),
        REVIEW,
        ModerationRequest("hello", known_names=("Ada Lovelace",)),
        BotPieceRequest(PROMPT, skill=0.4, seed=3),
        BotReviewRequest(PROMPT, PIECE, skill=0.4),
        score,
    ):
        assert pickle.loads(pickle.dumps(value)) == value


async def test_answers_come_from_a_warm_worker_process(pool: OfflinePool) -> None:
    assert await pool.call(worker_pid) != os.getpid()
    engines = pool.engines()
    score = await engines.scorer.score_piece(PieceRequest(PROMPT, PIECE))
    assert score == score_piece_sync(PieceRequest(PROMPT, PIECE))  # same engine, same answer
    judged = await engines.judge.judge_review(REVIEW)
    assert isinstance(judged, ReviewScore) and judged.engine == "offline"
    moderated = await engines.moderator.moderate(ModerationRequest("a calm sea"))
    assert moderated.verdict == "allow"
    piece = await engines.writer.write_piece(BotPieceRequest(PROMPT, skill=0.5, seed=1))
    assert piece.text and piece.timeline  # the whole timeline at once
    review = await engines.reviewer.write_review(BotReviewRequest(PROMPT, piece.text, 0.5))
    assert 1 <= review.rating <= 6


async def test_the_loop_keeps_running_during_a_heavy_request(pool: OfflinePool) -> None:
    pooled = pool.engines().scorer

    async def on_loop() -> None:
        score_piece_sync(HEAVY)

    async def in_pool() -> None:
        await pooled.score_piece(HEAVY)

    assert await ticks_while(on_loop) == 0  # what the node did before: the loop stood still
    assert await ticks_while(in_pool) > 0


async def test_zero_workers_runs_in_a_thread() -> None:
    pool = OfflinePool(0)
    await pool.start()
    try:
        assert await pool.call(threading.get_ident) != threading.get_ident()
        assert (await pool.engines().scorer.score_piece(HEAVY)).engine == "offline"
    finally:
        await pool.close()


async def test_a_dead_worker_is_replaced(pool: OfflinePool) -> None:
    pid = await pool.call(worker_pid)
    os.kill(pid, signal.SIGKILL)
    score = await pool.engines().scorer.score_piece(PieceRequest(PROMPT, PIECE))
    assert score.engine == "offline"
    assert await pool.call(worker_pid) not in (pid, os.getpid())


async def test_a_request_that_kills_its_worker_is_tried_once_more_then_fails(
    pool: OfflinePool,
) -> None:
    first = await pool.call(worker_pid)
    with pytest.raises(WorkerLost):
        await pool.call(os._exit, 3)  # kills the worker, and the one it is tried on next
    assert await pool.call(abs, -5) == 5  # a third worker answers
    assert await pool.call(worker_pid) not in (first, os.getpid())


async def test_an_answer_that_does_not_pickle_fails_alone(pool: OfflinePool) -> None:
    pid = await pool.call(worker_pid)
    results = await asyncio.gather(
        pool.call(threading.Lock), pool.call(abs, -2), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError) and "could not be sent back" in str(results[0])
    assert results[1] == 2  # sent in the same message, answered apart
    assert await pool.call(worker_pid) == pid  # the worker lives on


async def test_the_pool_runs_no_helper_thread_in_this_process(pool: OfflinePool) -> None:
    """The executor's manager and queue-feeder threads took the GIL at every submission."""
    await asyncio.gather(*(pool.call(abs, -i) for i in range(50)))
    busy = [t.name for t in threading.enumerate() if "Feeder" in t.name or "Manager" in t.name]
    assert busy == []


async def test_requests_made_together_share_submissions_and_fail_alone() -> None:
    pool = OfflinePool(2)
    await pool.start()
    try:
        calls = [pool.call(abs, -i) for i in range(40)]
        calls.insert(7, pool.call(int, "not a number"))  # fails in the worker, alone
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert isinstance(results.pop(7), ValueError)
        assert results == list(range(40))
        pids = set(await asyncio.gather(*(pool.call(worker_pid) for _ in range(8))))
        assert os.getpid() not in pids  # computed in the workers, not here
    finally:
        await pool.close()


class SlowClaude(PooledOffline):
    """Another engine than the offline one, answering only when told to (or failing)."""

    def __init__(self, pool: OfflinePool) -> None:
        super().__init__(pool)
        self.go = asyncio.Event()
        self.fail = False

    async def score_piece(self, req: PieceRequest) -> PieceScore:
        await self.go.wait()
        if self.fail:
            raise RuntimeError("overloaded")
        return await super().score_piece(req)

    async def judge_review(self, req: ReviewRequest) -> ReviewScore:
        await self.go.wait()
        return await super().judge_review(req)


def service(pool: OfflinePool, primary: PooledOffline) -> AIService:
    offline = pool.engines()
    engines = type(offline)(
        scorer=primary,
        judge=primary,
        moderator=primary,
        tutor=primary,
        writer=primary,
        reviewer=primary,
        names=dict.fromkeys(offline.names, "claude"),
    )
    return AIService(
        engines, offline, concurrency=4, timeout=60.0, metrics=RealtimeMetrics(Registry())
    )


async def test_deadline_fallback_takes_the_answer_computed_beside(pool: OfflinePool) -> None:
    claude = SlowClaude(pool)
    ai = service(pool, claude)
    req = PieceRequest(PROMPT, PIECE)
    asking = asyncio.create_task(ai.answer(ScorePiece("p1", PlayerId("u1"), req)))
    judging = asyncio.create_task(ai.answer(ScoreReview("r1", PlayerId("u2"), REVIEW)))
    await until(  # the offline answers, computed in the pool meanwhile
        lambda: len(ai.ready) == 2 and all(f.done() for f in ai.ready.values()), "spares"
    )
    fallback = OfflineFallback(ai)
    score = fallback.score_piece(req)  # the scoring deadline, Claude still thinking
    assert score == dataclasses.replace(ai.ready[req].result(), provisional=True)
    assert fallback.judge_review(REVIEW).provisional
    claude.go.set()
    answer = await asking
    assert isinstance(answer, PieceScored) and not answer.score.provisional
    await judging
    assert ai.ready == {}  # kept only while the request is in flight


async def test_a_failed_engine_is_answered_by_the_spare(pool: OfflinePool) -> None:
    claude = SlowClaude(pool)
    claude.fail = True
    claude.go.set()
    ai = service(pool, claude)
    answer = await ai.answer(ScorePiece("p1", PlayerId("u1"), PieceRequest(PROMPT, PIECE)))
    assert isinstance(answer, PieceScored) and answer.score.provisional
    assert answer.score.engine == "offline" and ai.ready == {}


async def test_the_node_wires_its_pool(settings: Settings, database: str, redis_url: str) -> None:
    async with running_node(settings, database, redis_url) as node:
        offline = node.app[OFFLINE]
        assert node.app[ENGINES] is offline  # no API key: the offline engines, pooled
        hub = node.app[REALTIME]
        assert hub.ai.offline is offline
        scorer = offline.scorer
        assert isinstance(scorer, PooledOffline)
        assert await scorer.pool.call(worker_pid) != os.getpid()


async def test_claude_falls_back_on_the_pool(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(
        ai={"engine": "claude", "api_key": "sk-test", "base_url": "http://127.0.0.1:9"}
    )
    async with running_node(settings, database, redis_url) as node:
        claude = node.app[ENGINES].scorer
        assert isinstance(claude, ClaudeEngine)
        assert claude.offline is node.app[OFFLINE]  # its fallback and moderation floor
        assert node.app[REALTIME].ai.offline is node.app[OFFLINE]


def test_a_process_leaves_no_forkserver_behind() -> None:
    """What ``quill up``, ``quill serve`` and the bot pool call as they exit: the pool's
    forkserver is gone when it returns, not a moment after the process."""
    import subprocess
    import sys

    script = """
import asyncio, os
from multiprocessing import forkserver
from server.realtime.aipool import OfflinePool, stop_forkserver, worker_pid

async def main():
    pool = OfflinePool(1)
    await pool.start()
    assert await pool.call(worker_pid) != os.getpid()
    await pool.close()

asyncio.run(main())
pid = forkserver._forkserver._forkserver_pid
assert pid is not None
stop_forkserver()
try:
    os.kill(pid, 0)
except ProcessLookupError:
    print("gone")
else:
    print("running", pid)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "gone", done.stdout  # after the start-up log

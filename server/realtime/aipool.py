"""The offline AI engines off the event loop: a small process pool, warmed at start-up.

The offline engines are pure CPU (tokenising, dictionaries, rubrics); on the loop a phase
change of many matches stalled every socket for 300–650 ms, and the first request loaded
~68 MB in one stall.  :class:`OfflinePool` runs them in a bounded
:class:`~concurrent.futures.ProcessPoolExecutor` (``ai.offline_workers`` processes in a
node, ``bots.offline_workers`` in a bot pool process, which imports this module) and
:meth:`OfflinePool.engines` is an :class:`~server.ai.types.Engines` bundle whose every
task awaits the pool.  Requests and answers are frozen dataclasses and cross the process
boundary by pickle (a few KB each).

- **Start method: forkserver.**  Never ``fork`` (the node has threads and an event loop);
  ``forkserver`` imports and loads the engines once (:mod:`server.realtime.aipreload`, the
  preload) and forks each worker from that warm image, so a worker (and a node restarted
  in the same process, as tests do) is ready in milliseconds instead of seconds.
- **Warm-up.** :meth:`OfflinePool.start` (in the app's ``cleanup_ctx``, before the node
  listens, and in the bot pool before it reads requests) starts every worker and has
  them answer a tiny request each, so the first match (or bot) pays nothing.
- **Bound.** ``OfflinePool(workers, limit=n)`` hands at most ``n`` requests to the
  executor at once; the others wait their turn on the loop (where a cancelled one costs
  nothing).  The node passes no ``limit``: every request comes through
  :class:`~server.realtime.ai.AIService`, whose semaphore (``Tuning.ai_concurrency``)
  already bounds the work waiting for the pool.  The bot pool process (``bots.ai``)
  has no such service in front and passes one.
- **Batched.** The requests made in one turn of the loop go to the executor as one
  submission per worker (:func:`~server.realtime.aiworker.run_batch`; each request
  still gets its own answer or exception): every submission wakes the executor's helper
  threads, which then hold the GIL while the loop waits.
- **A worker that dies** (killed, out of memory) breaks the executor; the next request
  builds a new one and is tried once more.
- **``ai.offline_workers = 0``** runs the engines in one thread of the node instead (for
  tiny machines where a second process does not fit): the loop no longer waits for a
  whole request, but shares the GIL with it (Python switches every 5 ms).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

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
    TutorAnswer,
    TutorRequest,
)
from server.realtime import aiworker

log = structlog.get_logger("quill.ai.pool")

T = TypeVar("T")
PRELOAD = "server.realtime.aipreload"
TASKS = ("scorer", "judge", "moderator", "tutor", "writer", "reviewer")


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    # Only heeded before the forkserver starts (once per process); harmless after.
    ctx.set_forkserver_preload([PRELOAD])
    return ctx


def stop_forkserver() -> None:
    """End this process's forkserver, if it started one, and wait for it.  A process calls
    this as it exits: the forkserver would go by itself once the process is gone (end of
    its pipe, ``PR_SET_PDEATHSIG``), but only a moment later, so whoever waits for the
    process (``quill up``'s caller, a supervisor) could still find it running.  Pools
    close without it, because the next pool of the process reuses the warm forkserver."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)  # CPython's own, since 3.8; not public
    if stop is not None:
        stop()


class OfflinePool:
    """The offline engines behind an executor.  Constructing it starts nothing."""

    def __init__(self, workers: int, *, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.workers = workers
        self.limit = limit
        self._executor: Executor | None = None
        self._slots = None if limit is None else asyncio.Semaphore(limit)
        self._batch: list[_Pending] = []

    @property
    def in_thread(self) -> bool:
        return self.workers == 0

    def _new_executor(self) -> Executor:
        if self.in_thread:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-ai")
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=_context(), initializer=aiworker.start_worker
        )

    async def start(self) -> list[int]:
        """Start the workers and have them answer one tiny request each (returns the pids
        that answered: a quick worker may answer two, but every worker starts warm, forked
        from the preloaded forkserver and warmed again by the executor's initializer)."""
        self._executor = self._new_executor()
        # One warm-up per worker, submitted together (past the limit) so that each starts
        # its own process.
        warm_ups = [self._call(aiworker.warm_pid) for _ in range(self.workers or 1)]
        pids = sorted(set(await asyncio.gather(*warm_ups)))
        log.info("offline_ai_ready", workers=self.workers, limit=self.limit, pids=pids)
        return pids

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker (``fn`` and the values must pickle); with a ``limit``,
        after waiting on the loop for one of its slots."""
        if self._slots is None:
            return await self._call(fn, *args)
        async with self._slots:
            return await self._call(fn, *args)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if self._executor is None:
            raise RuntimeError("the offline AI pool is not started")
        if self.in_thread:
            return await loop.run_in_executor(self._executor, fn, *args)
        # Batched: every request made in this turn of the loop goes to the workers in one
        # submission per worker.  Each submission wakes the executor's helper threads,
        # which then hold the GIL while the loop waits for it: one submission per request
        # cost a busy node a twentieth of its core at a phase change of many matches.
        done: asyncio.Future[T] = loop.create_future()
        self._batch.append(_Pending(fn, args, done))
        if len(self._batch) == 1:
            loop.call_soon(self._send_batch)
        return await done

    def _send_batch(self) -> None:
        batch, self._batch = [p for p in self._batch if not p.done.done()], []
        if not batch:
            return
        if self._executor is None:  # closed meanwhile
            for p in batch:
                p.fail(RuntimeError("the offline AI pool is closed"))
            return
        size = -(-len(batch) // max(1, self.workers))
        for i in range(0, len(batch), size):
            self._submit(batch[i : i + size], again=True)

    def _submit(self, chunk: list[_Pending], *, again: bool) -> None:
        loop = asyncio.get_running_loop()
        executor = self._executor
        assert executor is not None
        calls = [(p.fn, p.args) for p in chunk]
        try:
            job = executor.submit(aiworker.run_batch, calls)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._broken(chunk, executor, exc, again)
            return

        def settle(job: Future[list[tuple[bool, Any]]]) -> None:
            try:
                results = job.result()
            except BrokenProcessPool as exc:
                self._broken(chunk, executor, exc, again)
                return
            except BaseException as exc:  # e.g. an answer that does not unpickle
                for p in chunk:
                    p.fail(exc)
                return
            for p, (ok, value) in zip(chunk, results, strict=True):
                if ok:
                    p.succeed(value)
                else:
                    p.fail(value)

        job.add_done_callback(lambda job: loop.call_soon_threadsafe(settle, job))

    def _broken(
        self, chunk: list[_Pending], executor: Executor, exc: BaseException, again: bool
    ) -> None:
        """A worker died: the first to notice replaces the executor; the chunk is tried
        once more on the new one."""
        log.warning("offline_ai_pool_broken", error=repr(exc))
        if self._executor is executor:
            executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()
        if again and self._executor is not None:
            self._submit(chunk, again=False)
        else:
            for p in chunk:
                p.fail(exc)

    def engines(self) -> Engines:
        """Every task of the offline engines, computed in the pool."""
        engine = PooledOffline(self)
        return Engines(
            scorer=engine,
            judge=engine,
            moderator=engine,
            tutor=engine,
            writer=engine,
            reviewer=engine,
            names=dict.fromkeys(TASKS, "offline"),
        )


@dataclass(slots=True)
class _Pending:
    """One request waiting for its batch to come back."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    done: asyncio.Future[Any]

    def succeed(self, value: Any) -> None:
        if not self.done.done():  # the caller may have stopped waiting
            self.done.set_result(value)

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


class PooledOffline:
    """Implements every engine protocol of :mod:`server.ai.types` through the pool."""

    def __init__(self, pool: OfflinePool) -> None:
        self.pool = pool

    async def score_piece(self, req: PieceRequest) -> PieceScore:
        return await self.pool.call(aiworker.score_piece, req)

    async def judge_review(self, req: ReviewRequest) -> ReviewScore:
        return await self.pool.call(aiworker.judge_review, req)

    async def moderate(self, req: ModerationRequest) -> ModerationResult:
        return await self.pool.call(aiworker.moderate, req)

    async def answer(self, req: TutorRequest) -> TutorAnswer:
        return await self.pool.call(aiworker.tutor_answer, req)

    async def write_piece(self, req: BotPieceRequest) -> BotPiece:
        return await self.pool.call(aiworker.write_piece, req)

    async def write_review(self, req: BotReviewRequest) -> BotReview:
        return await self.pool.call(aiworker.write_review, req)


def worker_pid() -> int:
    """The pid of the process running this (tests compare it with the node's)."""
    return os.getpid()

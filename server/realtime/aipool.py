"""The offline AI engines off the event loop: a small process pool, warmed at start-up.

The offline engines are pure CPU (tokenising, dictionaries, rubrics); on the loop a phase
change of many matches stalled every socket for 300–650 ms, and the first request loaded
~68 MB in one stall.  :class:`OfflinePool` runs them in ``ai.offline_workers`` worker
processes in a node (``bots.offline_workers`` in a bot pool process, which imports this
module) and :meth:`OfflinePool.engines` is an :class:`~server.ai.types.Engines` bundle
whose every task awaits the pool.  Requests and answers are frozen dataclasses and cross
the process boundary by pickle (a few KB each).

- **No helper threads.**  Each worker is joined to the node by one socket pair, which the
  node reads and writes as asyncio streams on its own loop.  An earlier version used
  :class:`~concurrent.futures.ProcessPoolExecutor`, whose manager and queue-feeder
  threads took the GIL at every submission: the loop then waited for it, and a profile of
  a node with 1,000 players found the loop blocked in the executor's wake-up write 9 % of
  the time.  Pickling a request or unpickling an answer on the loop costs microseconds.
- **Start method: forkserver.**  Never ``fork`` (the node has threads and an event loop);
  ``forkserver`` imports and loads the engines once (:mod:`server.realtime.aipreload`, the
  preload) and forks each worker from that warm image, so a worker (and a node restarted
  in the same process, as tests do) is ready in milliseconds instead of seconds.
- **Warm-up.** :meth:`OfflinePool.start` (in the app's ``cleanup_ctx``, before the node
  listens, and in the bot pool before it reads requests) starts every worker and has
  each answer a tiny request, so the first match (or bot) pays nothing.
- **Bound.** ``OfflinePool(workers, limit=n)`` has at most ``n`` requests in the workers
  at once; the others wait their turn on the loop (where a cancelled one costs nothing).
  The node passes no ``limit``: every request comes through
  :class:`~server.realtime.ai.AIService`, whose semaphore (``Tuning.ai_concurrency``)
  already bounds the work waiting for the pool.  The bot pool process (``bots.ai``)
  has no such service in front and passes one.
- **Batched.** The requests made in one turn of the loop go out as one message per worker
  (:func:`~server.realtime.aiworker.run_batch`; each request still gets its own answer or
  exception), each to the worker with the fewest requests in hand.
- **A worker that dies** (killed, out of memory) is seen as the end of its socket: a new
  one is started, and the requests it held are tried once more (on another worker, or
  the new one); a second loss fails them with :class:`WorkerLost`.
- **``ai.offline_workers = 0``** runs the engines in one thread of the node instead (for
  tiny machines where a second process does not fit): the loop no longer waits for a
  whole request, but shares the GIL with it (Python switches every 5 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import socket
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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


def _context() -> multiprocessing.context.ForkServerContext:
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


class WorkerLost(RuntimeError):
    """A request's worker died twice while computing it."""


_LEN = struct.Struct("!i")  # multiprocessing.connection's framing: a signed 32-bit length,
_LEN_LONG = struct.Struct("!Q")  # or -1 and then an unsigned 64-bit one
STOP_SECONDS = 10.0  # a worker told to stop is killed after this


@dataclass(eq=False)
class _Worker:
    """One worker process and the node's end of its socket."""

    process: Any  # multiprocessing's Process (forkserver context)
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    held: dict[int, _Chunk] = field(default_factory=dict)  # batch id -> its requests
    requests: int = 0  # requests in ``held``
    task: asyncio.Task[None] | None = None  # reads the answers


@dataclass(slots=True)
class _Chunk:
    """Requests sent to a worker as one message."""

    pending: list[_Pending]
    again: bool  # may be tried once more if its worker dies


class OfflinePool:
    """The offline engines in worker processes.  Constructing it starts nothing."""

    def __init__(self, workers: int, *, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        self.workers = workers
        self.limit = limit
        self._thread: ThreadPoolExecutor | None = None
        self._live: list[_Worker] = []
        self._starting = 0  # workers being started (after one died)
        self._backlog: list[_Chunk] = []  # chunks waiting for a worker to be started
        self._started = False
        self._closed = False
        self._next_batch = 0
        self._slots = None if limit is None else asyncio.Semaphore(limit)
        self._batch: list[_Pending] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def in_thread(self) -> bool:
        return self.workers == 0

    async def start(self) -> list[int]:
        """Start the workers and have each answer one tiny request (returns their pids).
        Every worker starts warm: forked from the preloaded forkserver and warmed again
        by :func:`~server.realtime.aiworker.serve`."""
        self._started, self._closed = True, False
        if self.in_thread:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-ai")
            pids = [await self._call(aiworker.warm_pid)]
        else:
            self._live = list(await asyncio.gather(*(self._spawn() for _ in range(self.workers))))
            pids = sorted(
                await asyncio.gather(*(self._ask(w, aiworker.warm_pid) for w in self._live))
            )
        log.info("offline_ai_ready", workers=self.workers, limit=self.limit, pids=pids)
        return pids

    async def close(self) -> None:
        self._closed = True
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.shutdown, wait=True, cancel_futures=True)
        closed = RuntimeError("the offline AI pool is closed")
        for task in list(self._tasks):
            task.cancel()
        workers, self._live = self._live, []
        for chunk in self._backlog:
            chunk_fail(chunk, closed)
        self._backlog.clear()
        for p in self._batch:
            p.fail(closed)
        self._batch.clear()
        await asyncio.gather(*(self._stop(w, closed) for w in workers))

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker (``fn`` and the values must pickle); with a ``limit``,
        after waiting on the loop for one of its slots."""
        if self._slots is None:
            return await self._call(fn, *args)
        async with self._slots:
            return await self._call(fn, *args)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if not self._started or self._closed:
            raise RuntimeError("the offline AI pool is not started")
        if self._thread is not None:
            return await loop.run_in_executor(self._thread, fn, *args)
        done: asyncio.Future[T] = loop.create_future()
        self._batch.append(_Pending(fn, args, done))
        if len(self._batch) == 1:
            loop.call_soon(self._send_batch)
        return await done

    # --- sending ---------------------------------------------------------------------

    def _send_batch(self) -> None:
        batch, self._batch = [p for p in self._batch if not p.done.done()], []
        if not batch:
            return
        size = -(-len(batch) // max(1, self.workers))
        for i in range(0, len(batch), size):
            self._dispatch(_Chunk(batch[i : i + size], again=True))

    def _dispatch(self, chunk: _Chunk) -> None:
        """Send ``chunk`` to the worker with the fewest requests in hand (or keep it until
        a worker is started)."""
        if not self._live:
            self._backlog.append(chunk)
            return
        self._send(min(self._live, key=lambda w: w.requests), chunk)

    def _send(self, worker: _Worker, chunk: _Chunk) -> None:
        """Write ``chunk`` to ``worker`` as one message (multiprocessing's framing)."""
        calls = [(p.fn, p.args) for p in chunk.pending]
        batch_id = self._next_batch = self._next_batch + 1
        try:
            data = pickle.dumps((batch_id, calls), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # e.g. a request that does not pickle
            chunk_fail(chunk, exc)
            return
        worker.held[batch_id] = chunk
        worker.requests += len(chunk.pending)
        n = len(data)
        head = _LEN.pack(n) if n <= 0x7FFFFFFF else _LEN.pack(-1) + _LEN_LONG.pack(n)
        worker.writer.write(head + data)

    async def _ask(self, worker: _Worker, fn: Callable[[], T]) -> T:
        """One request to this very worker (the warm-up)."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._send(worker, _Chunk([_Pending(fn, (), done)], again=False))
        return await done

    # --- workers ---------------------------------------------------------------------

    async def _spawn(self) -> _Worker:
        ctx = _context()
        mine, theirs = ctx.Pipe(duplex=True)  # a Unix socket pair
        process = ctx.Process(target=aiworker.serve, args=(theirs,), name="offline-ai", daemon=True)
        try:
            # Starting asks the forkserver to fork: a few milliseconds of blocking pipe
            # talk, kept off the loop.
            await asyncio.to_thread(process.start)
        finally:
            theirs.close()
        sock = socket.socket(fileno=os.dup(mine.fileno()))
        mine.close()
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        worker = _Worker(process, reader, writer)
        worker.task = self._spawned_task(self._read(worker), "offline-ai-reader")
        return worker

    def _spawned_task(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _read(self, worker: _Worker) -> None:
        """Answers from one worker until its socket ends (then it is replaced)."""
        reader = worker.reader
        try:
            while True:
                (n,) = _LEN.unpack(await reader.readexactly(4))
                if n == -1:
                    (n,) = _LEN_LONG.unpack(await reader.readexactly(8))
                batch_id, answer = pickle.loads(await reader.readexactly(n))
                chunk = worker.held.pop(batch_id, None)
                if chunk is None:
                    continue
                worker.requests -= len(chunk.pending)
                _settle(chunk, answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a garbled message: the worker is not to be trusted
            log.warning("offline_ai_worker_garbled", error=repr(exc))
        if not self._closed:
            self._lost(worker)

    def _lost(self, worker: _Worker) -> None:
        """A worker died: start another; its requests are tried once more."""
        if worker not in self._live:
            return
        self._live.remove(worker)
        code = worker.process.exitcode
        log.warning("offline_ai_worker_lost", pid=worker.process.pid, exitcode=code)
        worker.writer.close()
        held, worker.held = list(worker.held.values()), {}
        lost = WorkerLost(f"an offline AI worker died (exit code {code})")
        for chunk in held:
            if chunk.again:
                chunk.again = False
                self._dispatch(chunk)
            else:
                chunk_fail(chunk, lost)
        self._starting += 1
        self._spawned_task(self._replace(), "offline-ai-respawn")

    async def _replace(self) -> None:
        try:
            worker = await self._spawn()
        except Exception as exc:
            log.error("offline_ai_worker_start_failed", error=repr(exc))
            worker = None
        finally:
            self._starting -= 1
        if worker is None or self._closed:
            if worker is not None:
                await self._stop(worker, RuntimeError("the offline AI pool is closed"))
            if not self._live and not self._starting:
                backlog, self._backlog = self._backlog, []
                for chunk in backlog:
                    chunk_fail(chunk, WorkerLost("no offline AI worker could be started"))
            return
        self._live.append(worker)
        backlog, self._backlog = self._backlog, []
        for chunk in backlog:
            self._dispatch(chunk)

    async def _stop(self, worker: _Worker, why: BaseException) -> None:
        """Close the worker's socket (it exits at the end of it) and wait for it."""
        for chunk in worker.held.values():
            chunk_fail(chunk, why)
        worker.held.clear()
        if worker.task is not None:
            worker.task.cancel()
        worker.writer.close()
        with contextlib.suppress(Exception):
            await worker.writer.wait_closed()
        process = worker.process
        await asyncio.to_thread(process.join, STOP_SECONDS)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, STOP_SECONDS)

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


def chunk_fail(chunk: _Chunk, exc: BaseException) -> None:
    for p in chunk.pending:
        p.fail(exc)


def _settle(chunk: _Chunk, answer: bytes) -> None:
    """Give each request of ``chunk`` its answer (or exception) from ``answer``."""
    try:
        results: list[tuple[bool, Any]] = pickle.loads(answer)
    except Exception as exc:  # e.g. an answer that does not unpickle here
        chunk_fail(chunk, exc)
        return
    for p, (ok, value) in zip(chunk.pending, results, strict=True):
        if ok:
            p.succeed(value)
        else:
            p.fail(value)


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

"""What runs inside an offline AI worker (:mod:`server.realtime.aipool`).

:func:`serve` is a worker's whole life: requests in, answers out, on the socket the pool
gave it.  Top-level functions, so the pool can name them in a pickle.  The engines' material
(dictionaries, rubrics, bot phrases) is loaded once per process by :func:`warm`: the pool's
initializer, and the forkserver's preload (:mod:`server.realtime.aipreload`), so that
forked workers start with it loaded.  Importing this module loads nothing.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from server.ai.types import (
    BotPiece,
    BotPieceRequest,
    BotReview,
    BotReviewRequest,
    ModerationRequest,
    ModerationResult,
    PieceRequest,
    PieceScore,
    Prompt,
    ReviewRequest,
    ReviewScore,
    TutorAnswer,
    TutorRequest,
)


@dataclass(frozen=True, slots=True)
class _Material:
    material: object
    phrases: object


PR_SET_PDEATHSIG = 1

_loaded: _Material | None = None


def die_with_parent() -> None:
    """Be killed when the process that forked us dies (Linux; elsewhere nothing).

    The forkserver's parent is the node (or bot pool) and a worker's is the forkserver:
    without this, a node killed by SIGKILL or the OOM killer left both running forever
    (a worker waits on pipes it holds itself).  If the parent is already gone by now,
    exit at once."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent or parent == 1:
        os._exit(0)


def run_batch(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[tuple[bool, Any]]:
    """Several requests in one submission: (True, answer) or (False, the exception) each,
    so that one failing request does not fail the others."""
    out: list[tuple[bool, Any]] = []
    for fn, args in calls:
        try:
            out.append((True, fn(*args)))
        except Exception as exc:
            out.append((False, exc))
    return out


def _picklable(result: tuple[bool, Any]) -> tuple[bool, Any]:
    try:
        pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return False, RuntimeError(f"an answer could not be sent back: {exc!r}")
    return result


def start_worker() -> None:
    """Tied to the forkserver's life, then warm."""
    die_with_parent()
    warm()


def serve(conn: Connection) -> None:
    """A worker process: read ``(batch id, calls)`` messages from the pool until the end of
    the socket, answer each with ``(batch id, pickled results)``.  The results are
    pickled apart so that an answer that does not unpickle in the node fails its own
    batch, not the worker; one that does not pickle here fails alone."""
    start_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the node's to handle
    while True:
        try:
            batch_id, calls = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        results = run_batch(calls)
        try:
            answer = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            answer = pickle.dumps([_picklable(r) for r in results])
        try:
            conn.send_bytes(pickle.dumps((batch_id, answer), protocol=pickle.HIGHEST_PROTOCOL))
        except (BrokenPipeError, OSError):
            return


def warm() -> None:
    """Load every offline engine's material and run each engine once (idempotent)."""
    global _loaded
    if _loaded is not None:
        return
    from server.ai.offline import judge_review_sync
    from server.ai.offline import warm_up as warm_offline
    from server.ai.offline.bot_reviewer import load_phrases, write_review_sync
    from server.ai.offline.bot_writer import load_material, write_piece_sync

    material, phrases = load_material(), load_phrases()
    warm_offline()  # scorer, moderation, tutor
    prompt = Prompt(id="warm-up", title="Warm up", text="A lighthouse in a storm.")
    piece = write_piece_sync(
        BotPieceRequest(prompt=prompt, skill=0.5, seconds_allowed=30), material
    )
    write_review_sync(
        BotReviewRequest(prompt=prompt, piece_text=piece.text, skill=0.5), material, phrases
    )
    judge_review_sync(
        ReviewRequest(
            prompt=prompt,
            piece_text=piece.text,
            strength="The storm feels real.",
            suggestion="Add the sound of the waves.",
            rating=4,
        )
    )
    _loaded = _Material(material, phrases)


def _material() -> _Material:
    warm()
    assert _loaded is not None
    return _loaded


def warm_pid() -> int:
    """The start-up request: warm this worker, tell its pid."""
    warm()
    return os.getpid()


def score_piece(req: PieceRequest) -> PieceScore:
    from server.ai.offline import score_piece_sync

    return score_piece_sync(req)


def judge_review(req: ReviewRequest) -> ReviewScore:
    from server.ai.offline import judge_review_sync

    return judge_review_sync(req)


def moderate(req: ModerationRequest) -> ModerationResult:
    from server.ai.offline import moderate_sync

    return moderate_sync(req)


def tutor_answer(req: TutorRequest) -> TutorAnswer:
    from server.ai.offline import answer_sync

    return answer_sync(req)


def write_piece(req: BotPieceRequest) -> BotPiece:
    """The whole piece and its typing timeline at once (the bot replays it on the loop)."""
    from server.ai.offline.bot_writer import Material, write_piece_sync

    material = _material().material
    assert isinstance(material, Material)
    return write_piece_sync(req, material)


def write_review(req: BotReviewRequest) -> BotReview:
    from server.ai.offline.bot_reviewer import ReviewPhrases, write_review_sync
    from server.ai.offline.bot_writer import Material

    loaded = _material()
    assert isinstance(loaded.material, Material) and isinstance(loaded.phrases, ReviewPhrases)
    return write_review_sync(req, loaded.material, loaded.phrases)

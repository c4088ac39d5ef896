"""The offline AI engines: deterministic, no network, a few milliseconds per call.

* :class:`OfflineScorer` – 6+1 trait scores from features a teacher recognises
  (:mod:`.features`, :mod:`.order`, :mod:`.scorer`, :mod:`.feedback`);
* :class:`OfflineJudge` – helpfulness of a peer review (:mod:`.judge`);
* :class:`OfflineModerator` – profanity, harassment, self-harm signals, personal data
  (:mod:`.moderation`);
* :class:`OfflineTutor` – answers from the knowledge base in content/tutor/ (:mod:`.tutor`).

Each class wraps a pure synchronous function (``score_piece_sync``, ``judge_review_sync``,
``moderate_sync``, ``answer_sync``) that can be called directly on a hot path.  Call
:func:`warm_up` once at start-up to load the dictionaries and content (about 0.3 s) before
the first request instead of during it.
"""

from server.ai.offline.judge import OfflineJudge, judge_review_sync
from server.ai.offline.moderation import OfflineModerator, moderate_sync
from server.ai.offline.scorer import (
    DetailedScore,
    OfflineScorer,
    score_piece_detailed,
    score_piece_sync,
)
from server.ai.offline.tutor import OfflineTutor, answer_sync


def warm_up() -> None:
    """Load the dictionaries, rubrics, moderation lists and tutor index now."""
    from server.ai.types import ModerationRequest, PieceRequest, Prompt, TutorRequest

    prompt = Prompt(id="warm-up", title="Warm up", text="A lighthouse in a storm.")
    score_piece_sync(PieceRequest(prompt=prompt, text="The keeper lit the lamp. Teh storm came."))
    moderate_sync(ModerationRequest(text="warm up"))
    answer_sync(TutorRequest(question="How do I start a new paragraph?"))


__all__ = [
    "DetailedScore",
    "OfflineJudge",
    "OfflineModerator",
    "OfflineScorer",
    "OfflineTutor",
    "answer_sync",
    "judge_review_sync",
    "moderate_sync",
    "score_piece_detailed",
    "score_piece_sync",
    "warm_up",
]

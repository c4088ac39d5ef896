"""What the engine asks its runner to do.  Small immutable dataclasses, carried out in order.

=================  ==========================================================================
``Persist``        append ``record`` to the match's durable log (before sending what follows)
``Checkpoint``     store ``snapshot`` as the match's latest checkpoint (every phase change)
``Broadcast``      send ``event`` to every attached seat (and, delayed, to spectators)
``SendTo``         send ``event`` to one player
``Moderate``       moderate ``text``; answer with ``Moderated(key, result)``
``ScorePiece``     score a piece; answer with ``PieceScored(piece_id, score)``
``ScoreReview``    judge a review; answer with ``ReviewScored(review_id, score)``
``FlagTeacher``    moderation asked for a human: tell the lobby's teacher / moderators
``SetTimer``       call ``Match.step(now)`` at (or soon after) ``at``; replaces earlier timers
``MatchFinished``  write the outcome (match, submissions, reviews, scores, ratings) in one go
``MatchClosed``    the match is over: store the compressed log, forget the match
=================  ==========================================================================

Every AI request must be answered (the runner falls back to the offline engine on errors);
answers that arrive too late are ignored by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.ai.types import PieceRequest, ReviewRequest
from server.protocol.schema import Message
from server.types import PlayerId

if TYPE_CHECKING:
    from server.game.results import MatchOutcome


@dataclass(frozen=True, slots=True)
class Persist:
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    snapshot: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Broadcast:
    event: Message


@dataclass(frozen=True, slots=True)
class SendTo:
    player: PlayerId
    event: Message


@dataclass(frozen=True, slots=True)
class Moderate:
    key: str  # "piece:<piece_id>" or "review:<review_id>:strength|suggestion"
    text: str
    author: PlayerId


@dataclass(frozen=True, slots=True)
class ScorePiece:
    piece_id: str
    writer: PlayerId
    request: PieceRequest


@dataclass(frozen=True, slots=True)
class ScoreReview:
    review_id: str
    reviewer: PlayerId
    request: ReviewRequest


@dataclass(frozen=True, slots=True)
class FlagTeacher:
    player: PlayerId
    key: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetTimer:
    at: float


@dataclass(frozen=True, slots=True)
class MatchFinished:
    outcome: MatchOutcome


@dataclass(frozen=True, slots=True)
class MatchClosed:
    reason: str  # "finished", "not_enough_players", or an abort reason


Effect = (
    Persist
    | Checkpoint
    | Broadcast
    | SendTo
    | Moderate
    | ScorePiece
    | ScoreReview
    | FlagTeacher
    | SetTimer
    | MatchFinished
    | MatchClosed
)

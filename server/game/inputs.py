"""Input events: everything that can happen to a match, as small dataclasses.

The runner turns client messages into inputs with :data:`MESSAGE_INPUTS` (one table,
message class → builder), socket life into ``Attach``/``Detach``, and AI answers into
``Moderated``/``PieceScored``/``ReviewScored``, then calls ``Match.handle(input, now)``.
``KIND`` names each input in the match log; :data:`INPUTS` maps it back for replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from server.ai.types import ModerationResult, PieceScore, ReviewScore
from server.protocol import client
from server.protocol.client import EditOp
from server.protocol.schema import Message
from server.types import PlayerId


class Input:
    __slots__ = ()
    KIND: ClassVar[str] = ""


INPUTS: dict[str, type[Input]] = {}


InputT = TypeVar("InputT", bound=Input)


def _input(kind: str) -> Callable[[type[InputT]], type[InputT]]:
    def deco(cls: type[InputT]) -> type[InputT]:
        cls.KIND = kind
        INPUTS[kind] = cls
        return cls

    return deco


@_input("attach")
@dataclass(frozen=True, slots=True)
class Attach(Input):
    """A socket took (or re-took) the player's seat; the player gets ``match.state``."""

    player: PlayerId


@_input("detach")
@dataclass(frozen=True, slots=True)
class Detach(Input):
    """The player's socket went away; the seat is kept."""

    player: PlayerId


@_input("ready")
@dataclass(frozen=True, slots=True)
class Ready(Input):
    player: PlayerId


@_input("leave")
@dataclass(frozen=True, slots=True)
class Leave(Input):
    player: PlayerId


@_input("edit")
@dataclass(frozen=True, slots=True)
class EditDraft(Input):
    player: PlayerId
    seq: int
    ops: tuple[EditOp, ...] | None = None
    snapshot: str | None = None
    paste: bool = False
    ref: int | None = None  # the client's envelope id, echoed in the ack


@_input("review")
@dataclass(frozen=True, slots=True)
class SubmitReview(Input):
    player: PlayerId
    assignment_id: str
    strength: str
    suggestion: str
    rating: int
    ref: int | None = None


@_input("moderated")
@dataclass(frozen=True, slots=True)
class Moderated(Input):
    key: str
    result: ModerationResult


@_input("piece_scored")
@dataclass(frozen=True, slots=True)
class PieceScored(Input):
    piece_id: str
    score: PieceScore


@_input("review_scored")
@dataclass(frozen=True, slots=True)
class ReviewScored(Input):
    review_id: str
    score: ReviewScore


@_input("start")
@dataclass(frozen=True, slots=True)
class Start(Input):
    """Leave the lobby now (teacher)."""


@_input("pause")
@dataclass(frozen=True, slots=True)
class Pause(Input):
    """Stop the phase clock (teacher)."""


@_input("resume")
@dataclass(frozen=True, slots=True)
class Resume(Input):
    """Restart the phase clock (teacher)."""


@_input("extend")
@dataclass(frozen=True, slots=True)
class Extend(Input):
    seconds: float


@_input("abort")
@dataclass(frozen=True, slots=True)
class Abort(Input):
    """Close the match without results (operator or teacher)."""

    reason: str = "aborted"


def _edit(player: PlayerId, msg: Message, ref: int | None) -> Input:
    assert isinstance(msg, client.DraftEdit)
    return EditDraft(player, msg.seq, msg.ops, msg.snapshot, msg.paste, ref)


def _review(player: PlayerId, msg: Message, ref: int | None) -> Input:
    assert isinstance(msg, client.ReviewSubmit)
    return SubmitReview(player, msg.assignment_id, msg.strength, msg.suggestion, msg.rating, ref)


def _extend(player: PlayerId, msg: Message, ref: int | None) -> Input:
    assert isinstance(msg, client.TeacherExtend)
    return Extend(float(msg.seconds))


MESSAGE_INPUTS: dict[type[Message], Callable[[PlayerId, Message, int | None], Input]] = {
    client.MatchReady: lambda player, msg, ref: Ready(player),
    client.MatchLeave: lambda player, msg, ref: Leave(player),
    client.DraftEdit: _edit,
    client.ReviewSubmit: _review,
    client.TeacherStart: lambda player, msg, ref: Start(),
    client.TeacherPause: lambda player, msg, ref: Pause(),
    client.TeacherResume: lambda player, msg, ref: Resume(),
    client.TeacherExtend: _extend,
}
"""Client messages that are match inputs.  ``teacher.*`` must be checked for the teacher
role by the gateway before they get here.  Messages not in this table (session, queue,
ping, match.join) are the gateway's."""

"""Messages a client sends, one dataclass each, registered in ``CLIENT_MESSAGES``.

Authentication happens over HTTP; a socket starts with ``session.resume`` (a session token
from ``POST /api/v1/auth/...``) and then either queues (``queue.join``,
``match.quickplay``) or takes a reserved seat (``match.join``).  Inside a match a seat
sends ``match.ready``, ``draft.edit``, ``review.submit``, ``match.leave``; the lobby's
teacher may send ``teacher.*``.  ``ping`` works at any time.

A student joins a teacher's private lobby with ``lobby.join`` (the code the teacher
reads out); the teacher watches it with ``lobby.watch`` and controls it with
``lobby.kick``, ``lobby.lock``, ``lobby.message`` and ``teacher.*`` (docs/lobbies.md).

Text positions in ``draft.edit`` count Unicode code points (not UTF-16 units, not bytes);
see ``docs/protocol.md``.  Every ``str`` field follows the text rule of ``server.text``
(checked by the schema; refused with ``bad_value``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.config import LimitSettings
from server.protocol.errors import ErrorCode, ProtocolError
from server.protocol.schema import MAX_SAFE_INT, Message, client_message, spec

TOKEN_CHARS = 1024
REVIEW_CHARS = 2000
MAX_OPS = 512
MAX_SEQ = 2**31 - 1
MAX_POS = 10_000_000  # above any configurable draft_chars
LOBBY_CODE_CHARS = 32  # a typed code: 6 symbols plus the spaces and dashes people add
LOBBY_MESSAGE_CHARS = 500  # a teacher's message to the lobby
ID_CHARS = 64  # a lobby or player id (a uuid is 36)

Mode = Literal["ranked", "practice"]


@client_message("session.resume")
@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResume(Message):
    """Bind this socket to a session (first message on every socket, also after a drop)."""

    session_token: str = spec(min_len=1, max_len=TOKEN_CHARS)


@client_message("queue.join")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueJoin(Message):
    """Ask the matchmaker for a match."""

    mode: Mode = "ranked"


@client_message("queue.leave")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLeave(Message):
    """Withdraw from the matchmaking queue."""


@client_message("match.quickplay")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchQuickplay(Message):
    """Shorthand for ``queue.join`` in ranked mode."""


@client_message("match.join")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchJoin(Message):
    """Take the seat a reservation (``queue.status`` matched, or a lobby) handed out."""

    seat_token: str = spec(min_len=1, max_len=TOKEN_CHARS)


@client_message("match.ready")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchReady(Message):
    """The seat is ready to start (lobby phase)."""


@client_message("match.leave")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchLeave(Message):
    """Give up the seat for good; what was written so far is the submission."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EditOp:
    """At ``pos`` delete ``delete`` code points, then insert ``insert`` there."""

    pos: int = spec(lo=0, hi=MAX_POS)
    insert: str = spec("", draft=True)
    delete: int = spec(0, lo=0, hi=MAX_POS)


@client_message("draft.edit")
@dataclass(frozen=True, slots=True, kw_only=True)
class DraftEdit(Message):
    """One debounced change of the seat's draft: either ``ops`` or a whole ``snapshot``.

    ``seq`` counts the seat's draft messages from 1; the server applies ``seq`` only
    after ``seq - 1`` (a snapshot is applied whatever its ``seq``, if newer).
    """

    seq: int = spec(lo=1, hi=MAX_SEQ)
    ops: tuple[EditOp, ...] | None = spec(None, min_len=1, max_len=MAX_OPS)
    snapshot: str | None = spec(None, draft=True)
    paste: bool = False

    def check(self, limits: LimitSettings) -> None:
        if (self.ops is None) == (self.snapshot is None):
            raise ProtocolError(ErrorCode.BAD_VALUE, "d: send exactly one of ops and snapshot")
        if self.ops is not None:
            inserted = sum(len(op.insert) for op in self.ops)
            if inserted > limits.draft_chars:
                raise ProtocolError(
                    ErrorCode.DRAFT_TOO_LONG,
                    f"d.ops: inserts {inserted} characters, at most {limits.draft_chars}",
                )


@client_message("review.submit")
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewSubmit(Message):
    """A review of one assigned piece: a strength, a suggestion, a 1–6 focus rating."""

    assignment_id: str = spec(min_len=1, max_len=64)
    strength: str = spec(min_len=1, max_len=REVIEW_CHARS)
    suggestion: str = spec(min_len=1, max_len=REVIEW_CHARS)
    rating: int = spec(lo=1, hi=6)

    def check(self, limits: LimitSettings) -> None:
        for name in ("strength", "suggestion"):
            if not getattr(self, name).strip():
                raise ProtocolError(
                    ErrorCode.BAD_VALUE, f"d.{name}: must not be blank", path=f"d.{name}"
                )


@client_message("ping")
@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Message):
    """Keep-alive and clock probe; answered by ``pong``."""

    client_time: int | None = spec(None, lo=0, hi=MAX_SAFE_INT)


@client_message("teacher.pause")
@dataclass(frozen=True, slots=True, kw_only=True)
class TeacherPause(Message):
    """Stop the phase clock (lobby teacher only)."""


@client_message("teacher.resume")
@dataclass(frozen=True, slots=True, kw_only=True)
class TeacherResume(Message):
    """Restart a paused phase clock (lobby teacher only)."""


@client_message("teacher.extend")
@dataclass(frozen=True, slots=True, kw_only=True)
class TeacherExtend(Message):
    """Move the current phase's deadline later (lobby teacher only)."""

    seconds: int = spec(lo=1, hi=3600)


@client_message("teacher.start")
@dataclass(frozen=True, slots=True, kw_only=True)
class TeacherStart(Message):
    """Start the match from the lobby without waiting for everyone to be ready."""


@client_message("lobby.join")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyJoin(Message):
    """Join a private lobby with its code (case, spaces and dashes do not matter)."""

    code: str = spec(min_len=1, max_len=LOBBY_CODE_CHARS)


@client_message("lobby.leave")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyLeave(Message):
    """Leave the lobby this player is in (a running match seat is kept)."""


@client_message("lobby.watch")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyWatch(Message):
    """The lobby's teacher (or an admin) watches it: roster, rounds, drafts, flags."""

    lobby_id: str = spec(min_len=1, max_len=ID_CHARS)


@client_message("lobby.kick")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyKick(Message):
    """Remove a student from the watched lobby; ``ban`` keeps them out for good."""

    player_id: str = spec(min_len=1, max_len=ID_CHARS)
    ban: bool = False


@client_message("lobby.lock")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyLock(Message):
    """Lock the watched lobby (no more joins), or unlock it with ``locked: false``."""

    locked: bool = True


@client_message("lobby.message")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyMessage(Message):
    """A short message from the teacher to everyone in the watched lobby."""

    text: str = spec(min_len=1, max_len=LOBBY_MESSAGE_CHARS)

    def check(self, limits: LimitSettings) -> None:
        if not self.text.strip():
            raise ProtocolError(ErrorCode.BAD_VALUE, "d.text: must not be blank", path="d.text")


@client_message("spectate.join")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpectateJoin(Message):
    """Watch a running match on this socket (docs/protocol.md#spectating)."""

    match_id: str = spec(min_len=1, max_len=ID_CHARS)


@client_message("spectate.leave")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpectateLeave(Message):
    """Stop watching."""

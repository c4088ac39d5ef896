"""Protocol error codes and the one exception the codec raises.

Every frame a client sends is either decoded into a typed message or refused with a
:class:`ProtocolError` carrying a stable machine ``code`` (an :class:`ErrorCode`), a human
``message``, the client's envelope ``id`` when it could be read (``ref``) and, for field
errors, the dotted ``path`` of the offending field (``d.ops[2].pos``).  The gateway turns
it into an ``error`` event; nothing else escapes the decoder.

``InvalidTransition`` (``server.errors``) is the engine's refusal; its ``code`` is one of
:class:`RefusalCode` and reaches the client through the same ``error`` event.
"""

from __future__ import annotations

from enum import StrEnum

from server.errors import QuillError


class ErrorCode(StrEnum):
    """Codes for frames and messages the protocol layer refuses."""

    BAD_FRAME = "bad_frame"  # wrong frame kind, not an envelope, or nested over MAX_DEPTH
    BAD_JSON = "bad_json"  # text frame is not JSON
    BAD_MSGPACK = "bad_msgpack"  # binary frame is not one msgpack value
    UNKNOWN_TYPE = "unknown_type"  # "t" names no client message
    MISSING_FIELD = "missing_field"  # a required field is absent
    BAD_FIELD_TYPE = "bad_field_type"  # a field has the wrong JSON/msgpack type
    OUT_OF_RANGE = "out_of_range"  # a number or length outside its bounds
    BAD_VALUE = "bad_value"  # right type, but not allowed (also text breaking server.text)
    FRAME_TOO_LARGE = "frame_too_large"  # frame over limits.frame_bytes
    TOO_MANY_MESSAGES = "too_many_messages"  # over limits.messages_per_second
    DRAFT_TOO_LONG = "draft_too_long"  # a draft over limits.draft_chars
    # Used by the gateway (not raised by the codec), listed here so codes live in one place.
    BAD_SESSION = "bad_session"  # unknown or expired session token
    BAD_SEAT = "bad_seat"  # unknown, expired or foreign seat token
    NOT_IN_MATCH = "not_in_match"  # a match message from a connection with no seat
    ALREADY_QUEUED = "already_queued"
    NOT_QUEUED = "not_queued"
    FORBIDDEN = "forbidden"  # e.g. teacher controls from a player
    UNAVAILABLE = "unavailable"  # the node is draining or the queue is down
    INTERNAL = "internal_error"
    # Private lobbies (server/lobbies; docs/lobbies.md).
    BAD_CODE = "bad_code"  # a typed lobby code that cannot be one (look-alike letters…)
    LOBBY_NOT_FOUND = "lobby_not_found"  # no open lobby with this code or id
    LOBBY_CLOSED = "lobby_closed"  # the lobby was closed by its teacher
    LOBBY_ELSEWHERE = "lobby_elsewhere"  # the lobby is hosted by another node
    LOBBY_LOCKED = "lobby_locked"  # the teacher locked the lobby: no more joins
    LOBBY_FULL = "lobby_full"  # limits.lobby_members reached
    NOT_IN_CLASS = "not_in_class"  # the lobby is for a class the player is not in
    LOBBY_BANNED = "lobby_banned"  # the teacher removed this player for good
    NOT_A_MEMBER = "not_a_member"  # kicking someone not in the lobby, leaving none
    NOT_WATCHING = "not_watching"  # a lobby control from a socket that watches no lobby
    CANNOT_SPLIT = "cannot_split"  # the roster cannot be split into parties
    TOO_MANY_ACTIONS = "too_many_actions"  # over limits.lobby_actions_per_minute
    # spectating (docs/protocol.md#spectating)
    MATCH_NOT_FOUND = "match_not_found"  # no running match here, or not the caller's to watch
    SPECTATORS_FULL = "spectators_full"  # match.max_spectators reached


class RefusalCode(StrEnum):
    """Codes of :class:`server.errors.InvalidTransition` raised by the game engine."""

    WRONG_PHASE = "wrong_phase"  # the message does not belong to the current phase
    DEADLINE_PASSED = "deadline_passed"  # the phase's deadline (plus grace) is over
    NOT_SEATED = "not_seated"  # the player holds no seat (or was dropped as a no-show)
    LEFT_MATCH = "left_match"  # the player left; the seat is final
    MATCH_CLOSED = "match_closed"
    DRAFT_TOO_LONG = "draft_too_long"  # the edit would make the draft longer than allowed
    UNKNOWN_ASSIGNMENT = "unknown_assignment"  # no such assignment for this reviewer
    ALREADY_REVIEWED = "already_reviewed"
    PIECES_NOT_READY = "pieces_not_ready"  # feedback opened, pieces still in moderation
    PAUSED = "paused"  # a control that needs a running clock
    NOT_PAUSED = "not_paused"


class ProtocolError(QuillError):
    """A frame or message the server refuses; ``code`` is an :class:`ErrorCode` value."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        ref: int | None = None,
        path: str | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.path = path
        self.retry_after_ms = retry_after_ms

    def with_ref(self, ref: int | None) -> ProtocolError:
        """Return the same error tied to the client's envelope id."""
        self.ref = ref
        return self

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, ref={self.ref!r})"

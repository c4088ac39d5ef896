"""Events the server sends, one dataclass each, registered in ``SERVER_EVENTS``.

Times on the wire are Unix epoch milliseconds (integers); ``remaining_ms`` fields let a
client with a skewed clock count down anyway.  Players are named only by their per-match
alias ("Amber Otter") inside a match, never by user id or name.

Connection:  ``welcome``, ``error``, ``ack``, ``pong``, ``queue.status``, ``notification``.
Match:       ``match.state`` (full snapshot, sent on attach/resume), ``match.phase``,
             ``match.seat``, ``match.prompt``, ``match.progress``,
             ``draft.snapshot_needed``, ``review.assignments``, ``match.results``,
             ``match.report`` (one per seat: its own scores and the reviews it received).
Lobby, to a student:  ``lobby.state``, ``lobby.seat``, ``lobby.notice``.
Lobby, to its teacher: ``lobby.roster``, ``lobby.member``, ``lobby.round``,
             ``lobby.match``, ``lobby.writer`` (the live view), ``lobby.flag``.
The teacher sees names and user ids; students see only the lobby and their own seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from server.protocol.schema import Message, server_event

Phase = str  # "lobby" | "write" | "feedback" | "scoring" | "results" | "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsView:
    frame_bytes: int
    messages_per_second: int
    draft_chars: int


@server_event("welcome")
@dataclass(frozen=True, slots=True, kw_only=True)
class Welcome(Message):
    """Answer to ``session.resume``: who you are and how to behave on this socket."""

    session_token: str
    player_id: str
    server_time: int  # epoch ms
    heartbeat: float  # seconds between pings the client should send
    resume_seconds: float  # how long a dropped seat waits for its player
    limits: LimitsView
    match_id: str | None = None  # the match to re-attach to, if the session holds a seat


@server_event("error")
@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(Message):
    """A refused frame or message; ``ref`` is the envelope ``id`` it answers, if any."""

    code: str
    message: str
    ref: int | None = None
    path: str | None = None
    retry_after_ms: int | None = None


@server_event("ack")
@dataclass(frozen=True, slots=True, kw_only=True)
class Ack(Message):
    """A message was accepted; for ``draft.edit`` ``seq`` is the draft seq the server holds."""

    id: int | None
    seq: int | None = None


@server_event("pong")
@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Message):
    client_time: int | None
    server_time: int


@server_event("queue.status")
@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStatus(Message):
    """Where the player stands in matchmaking; ``matched`` carries the seat reservation."""

    status: Literal["queued", "left", "matched", "expired"]
    mode: str = "ranked"
    estimate_seconds: float | None = None
    match_id: str | None = None
    node_url: str | None = None
    seat_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeatView:
    alias: str
    you: bool
    connected: bool
    ready: bool
    left: bool
    words: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptView:
    id: str
    title: str
    text: str
    image: str
    image_description: str
    focus: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftView:
    seq: int
    text: str
    locked: bool  # true once the write phase is over (or the seat left)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentView:
    assignment_id: str
    alias: str  # the piece's writer, by alias
    text: str  # the moderated text of the piece
    submitted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewView:
    strength: str
    suggestion: str
    rating: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RatingView:
    mu_before: float
    sigma_before: float
    mu_after: float
    sigma_after: float
    display_before: float  # mu - 3 sigma
    display_after: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRow:
    alias: str
    rank: int  # 1 is best; equal scores share a rank ("1, 2, 2, 4")
    score: float  # match score
    writing: float  # writing component (1–6)
    review: float  # review-quality component (1–6)
    traits: dict[str, int]
    words: int
    empty: bool
    left: bool
    provisional: bool  # a fallback engine scored its piece or one of its reviews
    rating: RatingView | None = None  # None in practice matches


@server_event("match.results")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResults(Message):
    """The final ranking, the same for every seat."""

    match_id: str
    focus: str
    ranked: bool
    provisional: bool  # some score came from the fallback engine
    ranking: tuple[ResultRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestionView:
    sentence: str
    advice: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WrittenReviewView:
    alias: str  # whose piece was reviewed
    helpfulness: int
    reasons: tuple[str, ...]


@server_event("match.report")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchReport(Message):
    """One seat's own feedback: the AI's view of its piece and the reviews it received."""

    alias: str
    traits: dict[str, int]
    overall: float
    rationale: str
    suggestions: tuple[SuggestionView, ...]
    reviews_received: tuple[ReviewView, ...]  # moderated, anonymous; withheld ones left out
    reviews_written: tuple[WrittenReviewView, ...]
    flags: tuple[str, ...] = ()


@server_event("match.state")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchState(Message):
    """Everything one seat needs to (re)draw the match; sent on every attach/resume."""

    match_id: str
    phase: Phase
    deadline: int | None  # epoch ms, None when the phase has no deadline
    remaining_ms: int | None
    paused: bool
    you: str  # your alias
    ranked: bool
    seats: tuple[SeatView, ...]
    prompt: PromptView | None = None  # hidden in the lobby
    draft: DraftView | None = None
    assignments: tuple[AssignmentView, ...] = ()
    results: MatchResults | None = None
    report: MatchReport | None = None


@server_event("match.phase")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchPhase(Message):
    """The phase changed, or its deadline moved (pause, resume, extend, pieces ready)."""

    phase: Phase
    deadline: int | None
    remaining_ms: int | None
    paused: bool = False
    reason: str | None = None  # e.g. "all_ready", "deadline", "extended", "aborted"


@server_event("match.seat")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchSeat(Message):
    """A seat's presence changed (connected, ready, left)."""

    seat: SeatView


@server_event("match.prompt")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchPrompt(Message):
    """The prompt, revealed when the write phase opens."""

    prompt: PromptView


@server_event("match.progress")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchProgress(Message):
    """Word counts by alias, at most about once a second while someone writes."""

    words: dict[str, int] = field(default_factory=dict)


@server_event("draft.snapshot_needed")
@dataclass(frozen=True, slots=True, kw_only=True)
class DraftSnapshotNeeded(Message):
    """The server cannot apply your edits; send ``draft.edit`` with a ``snapshot``.

    It answers one op ``draft.edit`` (``ref`` is its envelope ``id``): the one that
    diverged, and again every op edit that arrives while the snapshot is awaited.
    """

    have_seq: int  # the last seq the server applied
    reason: Literal["gap", "bad_range"]  # of the divergence the server is waiting to repair
    ref: int | None = None  # the envelope id of the draft.edit this answers


@server_event("review.assignments")
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewAssignments(Message):
    """The pieces this seat reviews, anonymised and moderated."""

    focus: str
    assignments: tuple[AssignmentView, ...]


@server_event("match.saved")
@dataclass(frozen=True, slots=True, kw_only=True)
class MatchSaved(Message):
    """Whether the finished match's outcome reached storage (after ``match.results``).

    ``saved: false`` means the results shown are final for this match but are not in the
    player's history or ratings yet: the outcome waits in the operator's dead-letter
    store and is saved when the operator retries it.
    """

    match_id: str
    saved: bool


@server_event("notification")
@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationPushed(Message):
    """A notification was stored for this account (docs/notifications.md); the same item
    as ``GET /api/v1/notifications`` lists, with ``at`` in epoch ms. A courtesy: a client
    that is not connected reads the list instead."""

    id: str
    kind: str
    data: dict[str, Any]
    at: int

"""Events the server sends, one dataclass each, registered in ``SERVER_EVENTS``.

Times on the wire are Unix epoch milliseconds (integers); ``remaining_ms`` fields let a
client with a skewed clock count down anyway.  Players are named only by their per-match
alias ("Amber Otter") inside a match, never by user id or name.

Connection:  ``welcome``, ``error``, ``ack``, ``pong``, ``queue.status``.
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
from typing import Literal

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


# --- private lobbies (docs/lobbies.md) ---------------------------------------------------

LobbyStatus = Literal["open", "playing", "closed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyView:
    lobby_id: str
    name: str
    code: str  # as printed: K7M-QXP
    class_id: str | None  # None: open to anyone signed in who has the code
    status: LobbyStatus
    locked: bool
    round: int  # rounds started so far (0 before the first)
    members: int


@server_event("lobby.state")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyState(Message):
    """To a student: the lobby they are in, or were just taken out of (``you``)."""

    lobby: LobbyView
    teacher: str  # the teacher's display name
    you: Literal["in", "left", "kicked", "banned", "closed"]


@server_event("lobby.seat")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbySeat(Message):
    """To a student when a round starts: their seat; send ``match.join`` with it."""

    lobby_id: str
    round: int
    match_id: str
    node_url: str
    seat_token: str


@server_event("lobby.notice")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyNotice(Message):
    """A message from the teacher to the lobby (students and watchers)."""

    lobby_id: str
    teacher: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberView:
    player_id: str
    name: str  # display name (teachers always see names)
    username: str | None
    connected: bool  # has a socket on the lobby's node
    match_id: str | None  # the match of the current round they sit in


@server_event("lobby.roster")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyRoster(Message):
    """To the teacher: the whole roster (on ``lobby.watch`` and after a lock)."""

    lobby: LobbyView
    members: tuple[MemberView, ...]


@server_event("lobby.member")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyMember(Message):
    """To the teacher: one roster change."""

    lobby_id: str
    change: Literal["joined", "left", "kicked", "banned", "connected", "disconnected"]
    member: MemberView
    members: int  # roster size after the change


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyPlayer:
    player_id: str
    name: str
    alias: str  # what the other players of the party see


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyView:
    party: int  # 1, 2, …
    match_id: str
    players: tuple[PartyPlayer, ...]
    bots: int
    quality: float  # TrueSkill match quality of the party (0–1)


@server_event("lobby.round")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyRound(Message):
    """To the teacher: a round started (its parties), or ended."""

    lobby_id: str
    round: int
    status: Literal["playing", "ended"]
    prompt_id: str
    parties: tuple[PartyView, ...]
    skipped: tuple[str, ...] = ()  # members not seated: playing a match elsewhere


@server_event("lobby.match")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyMatch(Message):
    """To the teacher: one match of the round changed phase or deadline."""

    lobby_id: str
    round: int
    party: int
    match_id: str
    phase: Phase
    deadline: int | None
    remaining_ms: int | None
    paused: bool


@server_event("lobby.writer")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyWriter(Message):
    """To the teacher: one writer as they are now (the live view; throttled per seat)."""

    lobby_id: str
    round: int
    party: int
    match_id: str
    player_id: str
    name: str
    alias: str
    phase: Phase
    connected: bool
    ready: bool
    left: bool
    seq: int  # the draft's seq: grows with every applied edit
    words: int
    text: str  # the whole draft, as the server holds it
    pastes: int  # edits flagged as pastes
    pasted_chars: int
    submitted: bool  # the write phase is over and the piece is not empty
    reviews_done: int
    reviews_assigned: int


@server_event("lobby.flag")
@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyFlag(Message):
    """To the teacher, at once: moderation wants an adult to look at this text.

    ``safety`` is true for a self-harm signal: show it first, whatever the phase."""

    lobby_id: str
    round: int
    party: int
    match_id: str
    player_id: str
    name: str
    alias: str
    phase: Phase
    source: Literal["piece", "review"]
    reasons: tuple[str, ...]
    safety: bool
    text: str  # as the student wrote it (not masked)

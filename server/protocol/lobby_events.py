"""Server events of private lobbies (docs/lobbies.md): what a student and a watching
teacher are told.  Apart from :mod:`server.protocol.events` to keep each module small;
registered the same way (``server_event``) and imported by :mod:`server.protocol`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from server.protocol.events import Phase
from server.protocol.schema import Message, server_event

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
    source: Literal["piece", "review", "draft"]  # draft: checked while it is typed
    reasons: tuple[str, ...]
    safety: bool
    text: str  # as the student wrote it (not masked)

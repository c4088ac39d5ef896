"""Server events of live spectating (docs/protocol.md#spectator-events): what a socket
that sent ``spectate.join`` is told.  Registered like the other events
(``server_event``) and imported by :mod:`server.protocol`.

Times are server times in Unix seconds (float), as in replay documents, so that a client
draws a live match and a replay with the same code.  ``spectate.events`` items are plain
dicts (``server.spectate.feed``): they are built once per match and shared by every
spectator, and their kinds are documented in the protocol document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from server.protocol.schema import Message, server_event

LeftReason = Literal["left", "ended", "replaced", "gone"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpectatorSeat:
    seat: int
    alias: str
    name: str | None
    bot: bool
    text_shown: bool
    text: str
    left: bool
    reviews_given: int


@server_event("spectate.state")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpectateState(Message):
    """The match as this spectator sees it at ``at`` (now minus ``delay``)."""

    match_id: str
    delay: float
    at: float
    ranked: bool
    focus: str
    prompt: dict[str, str]
    start: float
    phase: str
    deadline: float | None
    paused: bool
    remaining: float | None
    seats: tuple[SpectatorSeat, ...]
    results: dict[str, Any] | None
    closed: bool
    spectators: int


@server_event("spectate.events")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpectateEvents(Message):
    """What happened since the last frame, in order (kinds in the protocol document)."""

    match_id: str
    events: tuple[dict[str, Any], ...]


@server_event("spectate.left")
@dataclass(frozen=True, slots=True, kw_only=True)
class SpectateLeft(Message):
    """The socket no longer watches the match."""

    match_id: str
    reason: LeftReason

"""Teacher controls: start from the lobby, pause, resume, extend.  Only ``Match`` calls these.

Pausing stops the phase clock (lobby, write, feedback — scoring and results run on their
own); drafts are still accepted while paused so nothing typed is lost.  Resuming moves
the deadline by the time spent paused.  Extending moves the deadline later.  Each change
is broadcast as ``match.phase`` with the reason ``paused``, ``resumed`` or ``extended``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.errors import InvalidTransition
from server.game import flow
from server.game.effects import Broadcast
from server.game.phases import Phase
from server.game.views import phase_event
from server.protocol.errors import RefusalCode

if TYPE_CHECKING:
    from server.game.match import Match

CLOCK_PHASES = (Phase.LOBBY, Phase.WRITE, Phase.FEEDBACK)


def _clock_phase(m: Match) -> None:
    if m.state.phase not in CLOCK_PHASES:
        raise InvalidTransition(RefusalCode.WRONG_PHASE, "this phase has no clock to change")


def start(m: Match, now: float) -> None:
    if m.state.phase is not Phase.LOBBY:
        raise InvalidTransition(RefusalCode.WRONG_PHASE, "the match has started")
    flow.start_write(m, now, "started")


def pause(m: Match, now: float) -> None:
    _clock_phase(m)
    if not m.running():
        raise InvalidTransition(RefusalCode.PAUSED, "the clock is already paused")
    m.state.paused_at = now
    _clock_changed(m, now, "paused")


def resume(m: Match, now: float) -> None:
    _clock_phase(m)
    s = m.state
    if s.paused_at is None:
        raise InvalidTransition(RefusalCode.NOT_PAUSED, "the clock is not paused")
    shift = max(0.0, now - s.paused_at)
    if s.deadline is not None:
        s.deadline += shift
    if s.moderation_due is not None and not s.pieces_ready:
        s.moderation_due += shift
    s.paused_at = None
    _clock_changed(m, now, "resumed")


def extend(m: Match, seconds: float, now: float) -> None:
    _clock_phase(m)
    s = m.state
    if s.deadline is None or seconds <= 0:
        raise InvalidTransition(RefusalCode.WRONG_PHASE, "nothing to extend")
    s.deadline += seconds
    _clock_changed(m, now, "extended")


def _clock_changed(m: Match, now: float, reason: str) -> None:
    """Tell the players, and log the new clock as a derived record (skipped on replay):
    a reader of the log alone (spectators, replays) then knows every deadline without
    re-running the engine's clock rules."""
    s = m.state
    m.record(
        now,
        "clock",
        {"phase": s.phase.value, "deadline": s.deadline, "paused_at": s.paused_at},
        out=True,
    )
    m.emit(Broadcast(phase_event(s, now, reason)))

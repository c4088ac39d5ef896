"""The teacher's live view of a lobby's round: a :class:`~server.realtime.runner.MatchObserver`.

Each match of a round has the lobby's :class:`LiveView` as its observer.  After every
tick the runner calls :meth:`LiveView.after_tick`; the view compares each human seat
with what it last sent the teacher (draft seq, presence, phase, submission, reviews) and
sends a ``lobby.writer`` with the whole draft when something changed — at most once per
``lobbies.live_view_seconds`` per seat: a change inside that window is sent when it
ends (one timer per lobby), so the teacher is never more than that behind.  Whole text
rather than diffs: a draft is at most ``limits.draft_chars``, a lost or late frame
repairs itself with the next one, and the teacher's client needs no state to apply it.

Phase and deadline changes of a match go out at once as ``lobby.match``; moderation
flags (``FlagTeacher``) at once as ``lobby.flag`` with the text as written, kept (the
last :data:`FLAGS_KEPT`) and replayed when a teacher starts watching.  While a match
writes, its drafts are also checked as they are typed (:mod:`server.lobbies.draftcheck`),
so a safety signal is flagged (``source: "draft"``) without waiting for writing to end.
Nothing here raises into the match: the runner logs and ignores an observer's failure.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from server.game import FlagTeacher, Phase
from server.game.draft import is_empty, word_count
from server.game.state import SeatState
from server.game.views import clock
from server.lobbies.draftcheck import DraftCheck
from server.protocol import lobby_events
from server.types import PlayerId

if TYPE_CHECKING:
    from server.lobbies.host import Lobby, LobbyHost
    from server.realtime.runner import MatchRunner

FLAGS_KEPT = 200
SAFETY_REASONS = frozenset({"self_harm"})

SeatKey = tuple[str, PlayerId]
Source = Literal["piece", "review", "draft"]


class LiveView:
    """One lobby's live view; see the module docstring."""

    def __init__(self, host: LobbyHost, lobby: Lobby) -> None:
        self.host = host
        self.lobby = lobby
        self.interval = host.hub.settings.lobbies.live_view_seconds
        self._sent: dict[SeatKey, tuple[tuple[object, ...], float]] = {}
        self._pending: set[SeatKey] = set()
        self._phases: dict[str, tuple[object, ...]] = {}
        self._timer: asyncio.TimerHandle | None = None
        hub = host.hub
        self.drafts = DraftCheck(
            hub.ai.moderate_draft,
            self._draft,
            self._draft_flagged,
            interval=hub.settings.lobbies.draft_moderation_seconds,
            clock=hub.clock.now,
        )
        self._writing: set[str] = set()  # matches whose drafts are being checked

    # --- the runner's calls (MatchObserver) ----------------------------------------------

    def after_tick(self, runner: MatchRunner, now: float) -> None:
        placed = self.lobby.matches.get(runner.match_id)
        if placed is None:
            return
        if self.lobby.watchers:
            self._match(runner, now)
            for seat in runner.match.state.seats:
                if not seat.is_bot:
                    self._seat(runner, seat, now)
        if runner.match.phase is Phase.WRITE and not runner.closed:
            self._writing.add(runner.match_id)
            for seat in runner.match.state.seats:
                if not seat.is_bot:
                    self.drafts.seen((runner.match_id, seat.player), seat.draft.seq)
        elif runner.match_id in self._writing:
            self._writing.discard(runner.match_id)
            self.drafts.forget(runner.match_id)
        if runner.closed or runner.match.phase is Phase.CLOSED:
            self.host.match_over(self.lobby, runner.match_id)

    def flagged(self, runner: MatchRunner, flag: FlagTeacher) -> None:
        source: Source = "review" if flag.key.startswith("review:") else "piece"
        self._flag(runner, flag.player, source, tuple(flag.reasons), flag_text(runner, flag.key))

    def _draft(self, key: SeatKey) -> tuple[int, str] | None:
        """A seat's draft while its match writes (what :class:`DraftCheck` reads)."""
        runner = self.host.hub.runners.get(key[0])  # type: ignore[call-overload]
        if runner is None or runner.closed or runner.match.phase is not Phase.WRITE:
            return None
        seat = runner.match.seats.get(key[1])
        return None if seat is None else (seat.draft.seq, seat.draft.text)

    def _draft_flagged(self, key: SeatKey, text: str, reasons: tuple[str, ...]) -> None:
        runner = self.host.hub.runners.get(key[0])  # type: ignore[call-overload]
        if runner is not None:
            self._flag(runner, key[1], "draft", reasons, text)

    def _flag(
        self,
        runner: MatchRunner,
        player: PlayerId,
        source: Source,
        reasons: tuple[str, ...],
        text: str,
    ) -> None:
        placed = self.lobby.matches.get(runner.match_id)
        if placed is None:
            return
        m = runner.match
        seat = m.seats.get(player)
        event = lobby_events.LobbyFlag(
            lobby_id=self.lobby.id,
            round=placed.round,
            party=placed.party,
            match_id=runner.match_id,
            player_id=player,
            name=self.lobby.name_of(player),
            alias="" if seat is None else seat.alias,
            phase=m.phase.value,
            source=source,
            reasons=reasons,
            safety=bool(SAFETY_REASONS & set(reasons)),
            text=text,
        )
        self.lobby.flags.append(event)
        del self.lobby.flags[:-FLAGS_KEPT]
        self.lobby.to_watchers(event)

    # --- what the teacher is sent --------------------------------------------------------

    def snapshot(
        self, runner: MatchRunner, now: float
    ) -> list[lobby_events.LobbyMatch | lobby_events.LobbyWriter]:
        """Everything about one match as it is now (a teacher started watching)."""
        out: list[lobby_events.LobbyMatch | lobby_events.LobbyWriter] = []
        placed = self.lobby.matches.get(runner.match_id)
        if placed is None:
            return out
        event, sig = self._match_event(runner, now)
        self._phases[runner.match_id] = sig
        out.append(event)
        for seat in runner.match.state.seats:
            if not seat.is_bot:
                writer, seat_sig = self._writer(runner, seat)
                self._sent[(runner.match_id, seat.player)] = (seat_sig, now)
                self._pending.discard((runner.match_id, seat.player))
                out.append(writer)
        return out

    def _match_event(
        self, runner: MatchRunner, now: float
    ) -> tuple[lobby_events.LobbyMatch, tuple[object, ...]]:
        s = runner.match.state
        placed = self.lobby.matches[runner.match_id]
        deadline, remaining = clock(s, now)
        sig = (s.phase, s.deadline, s.paused_at is not None)
        return (
            lobby_events.LobbyMatch(
                lobby_id=self.lobby.id,
                round=placed.round,
                party=placed.party,
                match_id=runner.match_id,
                phase=s.phase.value,
                deadline=deadline,
                remaining_ms=remaining,
                paused=s.paused_at is not None,
            ),
            sig,
        )

    def _match(self, runner: MatchRunner, now: float) -> None:
        event, sig = self._match_event(runner, now)
        if self._phases.get(runner.match_id) != sig:
            self._phases[runner.match_id] = sig
            self.lobby.to_watchers(event)

    def _writer(
        self, runner: MatchRunner, seat: SeatState
    ) -> tuple[lobby_events.LobbyWriter, tuple[object, ...]]:
        m = runner.match
        s = m.state
        placed = self.lobby.matches[runner.match_id]
        mine = [a for a in s.assignments if a.reviewer == seat.player]
        done = sum(1 for a in mine if a.submitted)
        submitted = any(p.writer == seat.player and not p.empty for p in s.pieces)
        draft = seat.draft
        event = lobby_events.LobbyWriter(
            lobby_id=self.lobby.id,
            round=placed.round,
            party=placed.party,
            match_id=runner.match_id,
            player_id=seat.player,
            name=self.lobby.name_of(seat.player),
            alias=seat.alias,
            phase=s.phase.value,
            connected=seat.connected,
            ready=seat.ready,
            left=seat.left or seat.dropped is not None,
            seq=draft.seq,
            words=word_count(draft.text),
            text=draft.text,
            pastes=draft.paste_count,
            pasted_chars=draft.pasted_chars,
            submitted=submitted and not is_empty(draft.text),
            reviews_done=done,
            reviews_assigned=len(mine),
        )
        sig = (
            draft.seq,
            seat.connected,
            seat.ready,
            event.left,
            s.phase,
            submitted,
            done,
            len(mine),
        )
        return event, sig

    def _seat(self, runner: MatchRunner, seat: SeatState, now: float) -> None:
        key = (runner.match_id, seat.player)
        event, sig = self._writer(runner, seat)
        last = self._sent.get(key)
        if last is not None and last[0] == sig:
            return
        if last is None or now - last[1] >= self.interval:
            self._sent[key] = (sig, now)
            self._pending.discard(key)
            self.lobby.to_watchers(event)
            return
        self._pending.add(key)
        self._arm(last[1] + self.interval - now)

    def _arm(self, delay: float) -> None:
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(max(0.0, delay), self._flush)

    def _flush(self) -> None:
        """The window of some pending seats ended: send them as they are now."""
        self._timer = None
        now = self.host.hub.clock.now()
        later: list[float] = []
        for key in list(self._pending):
            match_id, player = key
            runner = self.host.hub.runners.get(match_id)  # type: ignore[call-overload]
            seat = None if runner is None else runner.match.seats.get(player)
            if runner is None or seat is None or not self.lobby.watchers:
                self._pending.discard(key)
                continue
            last = self._sent.get(key)
            if last is not None and now - last[1] < self.interval:
                later.append(last[1] + self.interval - now)
                continue
            self._pending.discard(key)
            event, sig = self._writer(runner, seat)
            self._sent[key] = (sig, now)
            self.lobby.to_watchers(event)
        if later:
            self._arm(min(later))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending.clear()
        self.drafts.stop()


def flag_text(runner: MatchRunner, key: str) -> str:
    """The text a moderation key names, as written: ``piece:p3``, ``review:a2:strength``."""
    s = runner.match.state
    kind, _, rest = key.partition(":")
    if kind == "piece":
        piece = next((p for p in s.pieces if p.piece_id == rest), None)
        return "" if piece is None else piece.text
    review_id, _, part = rest.partition(":")
    review = next((r for r in s.reviews if r.review_id == review_id), None)
    if review is None or part not in ("strength", "suggestion"):
        return ""
    text: str = getattr(review, part)
    return text

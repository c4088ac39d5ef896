"""One match as a state machine: ``handle(input, now)`` and ``step(now)`` return effects.

Usage by a runner (one task per match, the only caller)::

    match, effects = Match.create(config, now, fallback=offline_fallback)
    run(effects)
    ...
    run(match.handle(EditDraft(player, seq, ops=ops, ref=envelope_id), now))
    run(match.step(now))          # at every SetTimer deadline (calling more often is fine)

``now`` is Unix time in seconds (float) read by the runner, preferably a monotonic clock
anchored to the wall clock at start-up; the engine never reads a clock.  Deadlines are on
that clock, go to clients as epoch milliseconds, and survive a restart in a snapshot.

A refused input raises :class:`server.errors.InvalidTransition` (``code`` from
``server.protocol.errors.RefusalCode``) and changes nothing.  Anything else raised is a
bug and may leave the match half-changed: the runner should log it and abort the match.

Logging: every accepted input (and every ``step`` that did something) is appended to
``match.log`` as a plain record ``{"at": now, "k": kind, "d": data}`` and returned as a
``Persist`` effect first, before the effects it caused (a runner that has made records
durable drops them with :meth:`forget_log`; ``log_len`` still counts them); derived
records (``phase``, ``clock`` — a pause, resume or extension —, ``submissions``,
``assignments``, ``results``, ``closed``) carry ``"out": True`` and are skipped on replay.  Every phase change ends with a ``Checkpoint`` effect holding
:meth:`to_snapshot` (which records how long the log was).  A restarted node rebuilds the
match with ``Match.from_snapshot(snapshot, log)`` (the latest checkpoint and the full
persisted log; records after the checkpoint are re-applied), then sends
``match.pending_requests()`` to the AI again and waits for the players to re-attach.  Review and AI flows are in ``server.game.flow``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from server.errors import InvalidTransition
from server.game import controls, flow
from server.game.assign import make_aliases
from server.game.draft import EditOutcome, apply_edit, word_count
from server.game.effects import Broadcast, Checkpoint, Effect, Persist, SendTo, SetTimer
from server.game.inputs import (
    INPUTS,
    Abort,
    Attach,
    Detach,
    EditDraft,
    Extend,
    Input,
    Leave,
    Moderated,
    Pause,
    PieceScored,
    Ready,
    Resume,
    ReviewScored,
    Start,
    SubmitReview,
)
from server.game.phases import Phase, check_transition
from server.game.plain import dump, load
from server.game.scoring import Fallback, NeutralFallback
from server.game.state import GameState, MatchConfig, SeatState
from server.game.views import phase_event, seat_view, state_event
from server.protocol import events as ev
from server.protocol.errors import RefusalCode
from server.types import PlayerId

SNAPSHOT_VERSION = 1
MAX_SEATS = 16


class Match:
    """The engine object that owns one match's state; see the module docstring."""

    def __init__(
        self,
        config: MatchConfig,
        state: GameState,
        log: list[dict[str, Any]],
        fallback: Fallback | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.log = log
        self.log_base = 0  # records dropped from the front of ``log`` by forget_log
        self.fallback: Fallback = fallback if fallback is not None else NeutralFallback()
        self.seats: dict[PlayerId, SeatState] = {s.player: s for s in state.seats}
        self.out: list[Effect] = []
        self.replaying = False
        self.phase_changed = False
        self._handlers: dict[type[Input], Callable[[Any, float], None]] = {
            Attach: self._on_attach,
            Detach: self._on_detach,
            Ready: self._on_ready,
            Leave: self._on_leave,
            EditDraft: self._on_edit,
            SubmitReview: lambda e, now: flow.submit_review(self, e, now),
            Moderated: lambda e, now: flow.on_moderated(self, e, now),
            PieceScored: lambda e, now: flow.on_piece_scored(self, e, now),
            ReviewScored: lambda e, now: flow.on_review_scored(self, e, now),
            Start: lambda e, now: controls.start(self, now),
            Pause: lambda e, now: controls.pause(self, now),
            Resume: lambda e, now: controls.resume(self, now),
            Extend: lambda e, now: controls.extend(self, e.seconds, now),
            Abort: lambda e, now: flow.close(self, now, e.reason),
        }

    # --- construction ----------------------------------------------------------------

    @classmethod
    def create(
        cls, config: MatchConfig, now: float, fallback: Fallback | None = None
    ) -> tuple[Match, list[Effect]]:
        """A new match in the lobby; the effects persist its first record and checkpoint."""
        players = [s.player for s in config.seats]
        if len(set(players)) != len(players):
            raise ValueError("a player can hold only one seat")
        if not 2 <= len(players) <= min(MAX_SEATS, max(2, config.settings.max_players)):
            raise ValueError(f"a match needs 2..{config.settings.max_players} seats")
        aliases = make_aliases(players, config.seed)
        for spec, name in zip(config.seats, config.names, strict=False):
            if name:
                aliases[spec.player] = name
        if len(set(aliases.values())) != len(aliases):
            raise ValueError("seat names must be distinct")
        seats = [
            SeatState(s.player, aliases[s.player], i, s.is_bot, s.mu, s.sigma)
            for i, s in enumerate(config.seats)
        ]
        state = GameState(
            phase=Phase.LOBBY,
            phase_started_at=now,
            deadline=now + config.settings.lobby_seconds,
            seats=seats,
            progress_sent_at=now,
        )
        match = cls(config, state, [], fallback)
        match._begin()
        match.record(now, "create", {"config": dump(config)})
        match.phase_changed = True
        return match, match._finish()

    @classmethod
    def from_snapshot(
        cls,
        snapshot: Mapping[str, Any],
        log: Sequence[Mapping[str, Any]],
        fallback: Fallback | None = None,
    ) -> Match:
        """Rebuild a match from its latest checkpoint and its full persisted log."""
        if snapshot.get("v") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {snapshot.get('v')!r}")
        config = load(MatchConfig, snapshot["config"])
        state = load(GameState, snapshot["state"])
        match = cls(config, state, [dict(r) for r in log], fallback)
        match.replaying = True
        try:
            for rec in log[snapshot["log_len"] :]:
                match.apply_record(rec)
        finally:
            match.replaying = False
        return match

    def to_snapshot(self) -> dict[str, Any]:
        """The whole match as plain data (msgpack-able); see :meth:`from_snapshot`."""
        return {
            "v": SNAPSHOT_VERSION,
            "config": dump(self.config),
            "state": dump(self.state),
            "log_len": self.log_len,
        }

    @property
    def log_len(self) -> int:
        """How many records the match has logged since it was created."""
        return self.log_base + len(self.log)

    def forget_log(self, upto: int) -> None:
        """Drop the records before position ``upto`` (they are durable elsewhere): the
        log, edits included, would otherwise grow with every keystroke of the match."""
        drop = min(max(0, upto - self.log_base), len(self.log))
        del self.log[:drop]
        self.log_base += drop

    def apply_record(self, rec: Mapping[str, Any]) -> list[Effect]:
        """Re-apply one log record (inputs and steps; derived records are skipped)."""
        kind = rec["k"]
        if rec.get("out") or kind == "create":
            return []
        if kind == "step":
            return self.step(rec["at"])
        return self.handle(load(INPUTS[kind], rec["d"]), rec["at"])

    # --- the two entry points --------------------------------------------------------

    def handle(self, event: Input, now: float) -> list[Effect]:
        """Apply one input; raise ``InvalidTransition`` (changing nothing) to refuse it."""
        self._begin()
        self.apply(event, now)
        return self._finish()

    def step(self, now: float) -> list[Effect]:
        """Advance the clock: deadlines, timeouts, batched progress.  Cheap when idle."""
        self._begin()
        flow.fill_missing_scores(self, now)
        log_mark, out_mark = len(self.log), len(self.out)
        self.record(now, "step", {})
        self._advance(now)
        if len(self.out) == out_mark + (0 if self.replaying else 1):
            del self.log[log_mark:]
            del self.out[out_mark:]
        return self._finish()

    def start(self, now: float) -> list[Effect]:
        """Leave the lobby now (teacher); same as ``handle(Start(), now)``."""
        return self.handle(Start(), now)

    def pause(self, now: float) -> list[Effect]:
        """Stop the phase clock (lobby, write, feedback); drafts are still accepted."""
        return self.handle(Pause(), now)

    def resume(self, now: float) -> list[Effect]:
        """Restart the clock; the deadline moves by the time spent paused."""
        return self.handle(Resume(), now)

    def extend(self, seconds: float, now: float) -> list[Effect]:
        """Move the current phase's deadline ``seconds`` later."""
        return self.handle(Extend(seconds), now)

    def abort(self, now: float, reason: str = "aborted") -> list[Effect]:
        """Close the match without results."""
        return self.handle(Abort(reason), now)

    # --- helpers for this module and flow --------------------------------------------

    def apply(self, event: Input, now: float) -> None:
        """Log and apply one input inside a handle/step call."""
        handler = self._handlers[type(event)]
        log_mark, out_mark = len(self.log), len(self.out)
        self.record(now, event.KIND, dump(event))
        try:
            handler(event, now)
        except InvalidTransition:
            del self.log[log_mark:]
            del self.out[out_mark:]
            raise

    def record(self, now: float, kind: str, data: dict[str, Any], out: bool = False) -> None:
        if self.replaying:
            return
        rec: dict[str, Any] = {"at": now, "k": kind, "d": data}
        if out:
            rec["out"] = True
        self.log.append(rec)
        self.out.append(Persist(rec))

    def emit(self, effect: Effect) -> None:
        self.out.append(effect)

    def enter(self, phase: Phase, now: float, deadline: float | None, reason: str) -> None:
        """Move to ``phase`` (checked), broadcast it, log it, checkpoint at the end."""
        check_transition(self.state.phase, phase)
        s = self.state
        s.phase, s.phase_started_at, s.deadline = phase, now, deadline
        if phase in (Phase.SCORING, Phase.RESULTS, Phase.CLOSED):
            s.paused_at = None
        self.phase_changed = True
        self.record(now, "phase", {"phase": phase.value, "deadline": deadline}, out=True)
        self.emit(Broadcast(phase_event(s, now, reason)))

    def seat(self, player: PlayerId) -> SeatState:
        """The player's seat, or ``not_seated``/``match_closed``/``left_match``."""
        seat = self.seats.get(player)
        if seat is None or seat.dropped is not None:
            raise InvalidTransition(RefusalCode.NOT_SEATED, "you have no seat in this match")
        if self.state.phase is Phase.CLOSED:
            raise InvalidTransition(RefusalCode.MATCH_CLOSED, "the match is over")
        if seat.left:
            raise InvalidTransition(RefusalCode.LEFT_MATCH, "you left this match")
        return seat

    def running(self) -> bool:
        """The phase clock runs (not paused)."""
        return self.state.paused_at is None

    def _begin(self) -> None:
        self.out = []
        self.phase_changed = False

    def _finish(self) -> list[Effect]:
        wake = self.wake_at
        if wake != self.state.timer_sent:
            self.state.timer_sent = wake
            if wake is not None:
                self.emit(SetTimer(wake))
        if self.phase_changed and not self.replaying:
            self.emit(Checkpoint(self.to_snapshot()))
        out, self.out = self.out, []
        return out

    # --- reading ---------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def wake_at(self) -> float | None:
        """When :meth:`step` next has something to do (None: only inputs can change things)."""
        s = self.state
        if s.phase is Phase.CLOSED:
            return None
        times: list[float] = []
        if s.paused_at is None and s.deadline is not None:
            if s.phase is Phase.WRITE:
                times.append(s.deadline + self.config.settings.grace_seconds)
            elif s.phase is Phase.FEEDBACK and not s.pieces_ready and s.moderation_due is not None:
                times.append(s.moderation_due)
            else:
                times.append(s.deadline)
        if s.progress_dirty:
            times.append(s.progress_sent_at + self.config.timings.progress)
        return min(times) if times else None

    def state_for(self, player: PlayerId, now: float) -> ev.MatchState:
        """The ``match.state`` event for one seat (also sent on ``Attach``)."""
        return state_event(self.config, self.state, player, now)

    def pending_requests(self) -> list[Effect]:
        """AI requests still unanswered (re-send them after :meth:`from_snapshot`)."""
        return flow.pending_requests(self)

    # --- clock -----------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        for _ in range(len(Phase) + 2):
            before = (self.state.phase, self.state.pieces_ready)
            if self.running():
                self._advance_once(now)
            if (self.state.phase, self.state.pieces_ready) == before:
                break
        flow.flush_progress(self, now)

    def _advance_once(self, now: float) -> None:
        s, settings = self.state, self.config.settings
        if s.deadline is None:
            return
        if s.phase is Phase.LOBBY and now >= s.deadline:
            flow.start_write(self, now, "deadline")
        elif s.phase is Phase.WRITE and now >= s.deadline + settings.grace_seconds:
            flow.end_write(self, now)
        elif s.phase is Phase.FEEDBACK:
            if not s.pieces_ready:
                if s.moderation_due is not None and now >= s.moderation_due:
                    flow.prepare_reviews(self, now)
            elif now >= s.deadline:
                flow.end_feedback(self, now, "deadline")
        elif s.phase is Phase.SCORING and now >= s.deadline:
            flow.finish_scoring(self, now)
        elif s.phase is Phase.RESULTS and now >= s.deadline:
            flow.close(self, now, "finished")

    # --- seat inputs -----------------------------------------------------------------

    def _on_attach(self, e: Attach, now: float) -> None:
        seat = self.seat(e.player)
        seat.attached = seat.connected = True
        self.emit(SendTo(e.player, self.state_for(e.player, now)))
        self.emit(Broadcast(ev.MatchSeat(seat=seat_view(seat))))

    def _on_detach(self, e: Detach, now: float) -> None:
        seat = self.seats.get(e.player)
        if seat is None or not seat.connected or self.state.phase is Phase.CLOSED:
            return
        seat.connected = False
        self.emit(Broadcast(ev.MatchSeat(seat=seat_view(seat))))

    def _on_ready(self, e: Ready, now: float) -> None:
        seat = self.seat(e.player)
        if self.state.phase is not Phase.LOBBY:
            raise InvalidTransition(RefusalCode.WRONG_PHASE, "the match has started")
        if seat.ready:
            return
        seat.ready = True
        self.emit(Broadcast(ev.MatchSeat(seat=seat_view(seat))))
        flow.start_if_all_ready(self, now)

    def _on_leave(self, e: Leave, now: float) -> None:
        seat = self.seat(e.player)
        phase = self.state.phase
        if phase is Phase.RESULTS:  # the match is decided; leaving is just going away
            self._on_detach(Detach(e.player), now)
            return
        seat.left, seat.connected = True, False
        if phase is Phase.LOBBY:
            seat.dropped = "left_lobby"
        seat.draft.locked = True
        self.emit(Broadcast(ev.MatchSeat(seat=seat_view(seat))))
        if phase is Phase.LOBBY:
            flow.start_if_all_ready(self, now)
        elif phase is Phase.FEEDBACK:
            flow.end_feedback_if_done(self, now)

    def _on_edit(self, e: EditDraft, now: float) -> None:
        s, settings = self.state, self.config.settings
        seat = self.seat(e.player)
        if s.phase is Phase.LOBBY:
            raise InvalidTransition(RefusalCode.WRONG_PHASE, "the write phase has not begun")
        if s.phase is not Phase.WRITE:
            raise InvalidTransition(RefusalCode.DEADLINE_PASSED, "the write phase is over")
        if self.running() and s.deadline is not None and now > s.deadline + settings.grace_seconds:
            raise InvalidTransition(RefusalCode.DEADLINE_PASSED, "the write phase is over")
        draft = seat.draft
        words = word_count(draft.text)
        outcome = apply_edit(
            draft,
            seq=e.seq,
            ops=e.ops,
            snapshot=e.snapshot,
            paste=e.paste,
            at=now,
            paste_chars=settings.paste_chars,
            max_chars=self.config.draft_chars,
        )
        # Exactly one answer per draft.edit: an ack, or (not applied) a snapshot request,
        # repeated for every op edit while the snapshot is awaited.
        if outcome in (EditOutcome.APPLIED, EditOutcome.DUPLICATE):
            self.emit(SendTo(e.player, ev.Ack(id=e.ref, seq=draft.seq)))
            if outcome is EditOutcome.APPLIED and word_count(draft.text) != words:
                s.progress_dirty = True
        else:
            needed = ev.DraftSnapshotNeeded(
                have_seq=draft.seq, reason=draft.awaiting_reason, ref=e.ref
            )
            self.emit(SendTo(e.player, needed))

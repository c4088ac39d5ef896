"""Bot seats played inside the node, through the same engine inputs as a human.

A :class:`BotSeat` attaches and readies in the lobby.  When the write phase opens it asks
``Engines.writer`` for a :class:`~server.ai.types.BotPiece` (the whole text and typing
timeline at once, through :meth:`~server.realtime.ai.AIService.write_piece`: in turn with
the other AI requests and, for the offline writer, in the node's process pool, never on
the event loop) and replays the piece's typing timeline as ``draft.edit`` inputs, one per
``Tuning.bot_edit_seconds`` window (as a debouncing client would), at the times the
timeline says.  When its review assignments arrive it asks ``Engines.reviewer`` for each
review the same way and submits them spread over the first half of the feedback phase.
Its inputs go through the match's inbox (waiting for room, never dropped) and are logged
and replayed like anyone's.

After a node restart :meth:`BotSeat.resume` picks up from the engine state: the draft
seq says how many edits are in, and if the text differs from the timeline (an engine
that is not deterministic), one snapshot edit brings it in line first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from server.ai.types import BotPieceRequest, BotReviewRequest, TypingEvent
from server.errors import InvalidTransition
from server.game import EditDraft, Input, Phase, SubmitReview, apply_ops
from server.game.views import assignment_views
from server.protocol import Message
from server.protocol import events as ev
from server.protocol.client import MAX_OPS, EditOp
from server.protocol.errors import RefusalCode
from server.types import PlayerId

if TYPE_CHECKING:
    from server.realtime.runner import MatchRunner

log = structlog.get_logger("quill.bot")

REVIEW_SHARE = 0.5  # reviews are in by this share of the feedback phase
FALLBACK_STRENGTH = "The piece has a clear picture in it."
FALLBACK_SUGGESTION = "Add one more detail about what can be heard."


@dataclass(frozen=True, slots=True)
class TimedEdit:
    at: float  # seconds after the write phase opened
    ops: tuple[EditOp, ...]


def group_timeline(timeline: Sequence[TypingEvent], window: float) -> list[TimedEdit]:
    """The timeline as debounced edits: one per ``window`` seconds, at most MAX_OPS ops."""
    edits: list[TimedEdit] = []
    ops: list[EditOp] = []
    slot: int | None = None
    last = 0.0
    for event in timeline:
        this = int(event.at // window) if window > 0 else 0
        if ops and (this != slot or len(ops) >= MAX_OPS):
            edits.append(TimedEdit(last, tuple(ops)))
            ops = []
        slot, last = this, event.at
        ops.append(EditOp(pos=event.pos, insert=event.insert, delete=event.delete))
    if ops:
        edits.append(TimedEdit(last, tuple(ops)))
    return edits


def text_after(edits: Sequence[TimedEdit]) -> str | None:
    text: str | None = ""
    for edit in edits:
        text = apply_ops(text or "", edit.ops)
        if text is None:
            return None
    return text


class BotSeat:
    """One bot seat; the runner feeds it the events addressed to it."""

    def __init__(self, runner: MatchRunner, player: PlayerId, skill: float, seed: int) -> None:
        self.runner = runner
        self.player = player
        self.skill = skill
        self.seed = seed
        self.log = log.bind(match_id=runner.match_id, player_id=player)
        self._writing: asyncio.Task[None] | None = None
        self._reviewing: asyncio.Task[None] | None = None
        self._resync = False
        self._done = False

    # --- events from the runner --------------------------------------------------------

    def on_event(self, event: Message) -> None:
        if self._done:
            return
        if isinstance(event, ev.MatchPhase):
            if event.phase == Phase.WRITE.value:
                self._start_writing()
            elif event.phase in (Phase.RESULTS.value, Phase.CLOSED.value):
                self.stop()
        elif isinstance(event, ev.ReviewAssignments):
            self._start_reviewing(event.assignments)
        elif isinstance(event, ev.DraftSnapshotNeeded):
            self._resync = True

    def refused(self, exc: InvalidTransition) -> None:
        """The match refused one of the bot's inputs."""
        self.log.debug("bot_input_refused", code=exc.code, message=exc.message)
        if exc.code in (RefusalCode.DEADLINE_PASSED, RefusalCode.MATCH_CLOSED):
            self._cancel(self._writing)

    def resume(self) -> None:
        """After a restart: carry on from what the match state says."""
        state = self.runner.match.state
        if state.phase is Phase.WRITE:
            self._start_writing()
        elif state.phase is Phase.FEEDBACK and state.pieces_ready:
            self._start_reviewing(assignment_views(state, self.player))

    def stop(self) -> None:
        self._done = True
        self._cancel(self._writing)
        self._cancel(self._reviewing)

    @staticmethod
    def _cancel(task: asyncio.Task[None] | None) -> None:
        if task is not None and not task.done():
            task.cancel()

    async def _send(self, event: Input) -> None:
        await self.runner.from_bot(self.player, event)

    # --- writing -----------------------------------------------------------------------

    def _start_writing(self) -> None:
        if self._writing is None:
            self._writing = self.runner.spawn(self._write(), f"bot-write:{self.player}")

    async def _write(self) -> None:
        match = self.runner.match
        config = match.config
        piece = await self.runner.hub.ai.write_piece(
            BotPieceRequest(
                prompt=config.prompt,
                skill=self.skill,
                seconds_allowed=config.settings.write_seconds,
                seed=self.seed,
            )
        )
        edits = group_timeline(piece.timeline, self.runner.hub.tuning.bot_edit_seconds)
        started = match.state.write_started_at or self.runner.hub.clock.now()
        draft = match.seats[self.player].draft
        seq, done = draft.seq, min(draft.seq, len(edits))
        if text_after(edits[:done]) != draft.text:
            self._resync = True  # restarted with another piece: catch up with a snapshot
        clock = self.runner.hub.clock
        while done < len(edits) or self._resync:
            if self._resync:
                elapsed = clock.now() - started
                done = max(done, sum(1 for e in edits if e.at <= elapsed))
                self._resync = False
                seq += 1
                await self._send(
                    EditDraft(self.player, seq, snapshot=text_after(edits[:done]) or "")
                )
                continue
            edit = edits[done]
            await asyncio.sleep(clock.until(started + edit.at))
            if self._resync:
                continue
            seq += 1
            done += 1
            await self._send(EditDraft(self.player, seq, ops=edit.ops))

    # --- reviewing ---------------------------------------------------------------------

    def _start_reviewing(self, assignments: Sequence[ev.AssignmentView]) -> None:
        todo = [a for a in assignments if not a.submitted]
        if self._reviewing is None and todo:
            self._reviewing = self.runner.spawn(self._review(todo), f"bot-review:{self.player}")

    async def _review(self, todo: Sequence[ev.AssignmentView]) -> None:
        match, hub = self.runner.match, self.runner.hub
        opened = hub.clock.now()
        share = match.config.settings.feedback_seconds * REVIEW_SHARE
        for k, assignment in enumerate(todo):
            review = await hub.ai.write_review(
                BotReviewRequest(
                    prompt=match.config.prompt,
                    piece_text=assignment.text,
                    skill=self.skill,
                    focus=match.config.trait,
                    seed=self.seed + k,
                )
            )
            await asyncio.sleep(hub.clock.until(opened + share * (k + 1) / len(todo)))
            await self._send(
                SubmitReview(
                    self.player,
                    assignment.assignment_id,
                    review.strength.strip()[:2000] or FALLBACK_STRENGTH,
                    review.suggestion.strip()[:2000] or FALLBACK_SUGGESTION,
                    min(6, max(1, review.rating)),
                )
            )

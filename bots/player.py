"""A bot that plays one seat over a :class:`~bots.client.BotClient`, like a person would.

::

    async with BotClient(url, tokens) as client:
        outcome = await BotPlayer(client, engines, seat_token, skill=0.6, seed=7).play()

What it does, by event (one :data:`BotPlayer.HANDLERS` table):

- ``welcome`` / :class:`~bots.client.Reconnected` — unless the server re-attached the
  seat (``welcome.match_id`` is this match), send ``match.join {seat_token}``.
- ``match.state`` — the seat is ours on this socket (:attr:`BotPlayer.seated`): line the
  draft up with the server's (:class:`~bots.draft.DraftSync`), and carry on with whatever
  the phase asks for (ready up, write, review), from where it was.
- lobby — ``match.ready`` after a human pause (:class:`~bots.pace.Pace`).
- ``match.phase`` write + ``match.prompt`` — ask the writer engine for a piece that fits
  the time left, and type it along its timeline as debounced ``draft.edit`` messages
  (:func:`bots.timeline.debounce`) with increasing ``seq``; ``draft.snapshot_needed`` and
  edits left unacknowledged are answered with a snapshot.  The write deadline comes from
  the server (``remaining_ms``), never from local configuration.
- ``review.assignments`` — the reviewer engine writes each review; it is sent after the
  time a person of that skill takes to read the piece and type it.
- ``match.results`` — stay a few seconds, then close; ``match.phase`` closed ends at once.

The messages are exactly the browser's; names are the server's aliases; timing has
human pauses and jitter.  All waiting goes through the injected ``clock``/``sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import structlog

from bots.client import BotClient, Closed, GaveUp, NotConnected, Reconnected, Refused
from bots.draft import DraftSync, Pending
from bots.pace import Clock, Pace, Sleep
from bots.timeline import TimedEdit, continue_after, debounce
from server.ai.types import (
    BotPiece,
    BotPieceRequest,
    BotReview,
    BotReviewRequest,
    Engines,
    Prompt,
    Trait,
)
from server.protocol import Message
from server.protocol import client as msgs
from server.protocol import events as ev
from server.protocol.client import REVIEW_CHARS

log = structlog.get_logger("quill.bots.player")

FALLBACK_STRENGTH = "The piece has a clear picture in it."
FALLBACK_SUGGESTION = "Add one more detail about what can be heard."
RETRY_CODES = frozenset({"unavailable", "too_many_messages", "pieces_not_ready"})
"""Refusals that a later attempt of the same message can get past."""
RESEND_POLL = 0.25
"""Seconds between checks for unacknowledged edits at the end of the typing."""


class Status(StrEnum):
    FINISHED = "finished"  # saw the results (or the match closed after them)
    ABORTED = "aborted"  # the match closed without results
    REFUSED = "refused"  # the seat token was refused, or the node refused the bot
    LOST = "lost"  # the connection could not be brought back
    CLOSED = "closed"  # the server closed the socket for good before the end


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    match_id: str | None
    alias: str | None
    results: ev.MatchResults | None
    text: str
    """The bot's draft as it last knew it."""
    reconnects: int
    reason: str = ""


@dataclass(slots=True)
class _Review:
    view: ev.AssignmentView
    review: BotReview | None = None
    due: float | None = None  # clock time at which it is sent
    ref: int | None = None  # envelope id of the submit in flight
    done: bool = False


def prompt_from(view: ev.PromptView) -> Prompt:
    return Prompt(
        id=view.id,
        title=view.title,
        text=view.text,
        tags=tuple(view.tags),
        image_description=view.image_description,
        focus=_trait(view.focus),
        image=view.image,
    )


def _trait(name: str) -> Trait:
    try:
        return Trait(name)
    except ValueError:
        return Trait.IDEAS


class BotPlayer:
    def __init__(
        self,
        client: BotClient,
        engines: Engines,
        seat_token: str,
        *,
        skill: float,
        seed: int = 0,
        pace: Pace | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        name: str = "bot",
    ) -> None:
        self.client = client
        self.engines = engines
        self.seat_token = seat_token
        self.skill = min(1.0, max(0.0, skill))
        self.seed = seed
        self.pace = pace or Pace()
        self.log = log.bind(bot=name)
        self.draft = DraftSync()
        self.seated = asyncio.Event()
        """Set once the server has given this bot its seat (the first ``match.state``)."""
        self.match_id: str | None = None
        self.alias: str | None = None
        self.phase: str | None = None
        self.deadline: float | None = None  # clock time of the phase deadline
        self.prompt: Prompt | None = None
        self.focus: Trait = Trait.IDEAS
        self.piece: BotPiece | None = None
        self.results: ev.MatchResults | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._outcome: Outcome | None = None
        self._socket = 0  # sockets seen (welcome, then one per Reconnected)
        self._synced = -1  # the socket the seat is attached on
        self._attached = asyncio.Event()
        self._prompt_known = asyncio.Event()
        self._refs: dict[int, str] = {}  # envelope id → what it carried
        self._reviews: dict[str, _Review] = {}
        self._ready = False
        self._write_opened: float | None = None
        self._write_allowed = 0.0
        self._plan: list[TimedEdit] | None = None
        self._typed = 0  # edits of the plan typed so far
        self._tasks: dict[str, asyncio.Task[None]] = {}

    # --- the game loop -------------------------------------------------------------------

    async def play(self) -> Outcome:
        """Play the seat to the end; the client is closed on return."""
        try:
            try:
                welcome = await self.client.start()
            except Refused as exc:
                return self._finish(Status.REFUSED, str(exc))
            except GaveUp as exc:
                return self._finish(Status.LOST, str(exc))
            await self._on_welcome(welcome)
            while self._outcome is None:
                event = await self.client.recv()
                handler = self.HANDLERS.get(type(event))
                if handler is not None:
                    await handler(self, event)
            return self._outcome
        finally:
            await self._stop_tasks()
            await self.client.close()

    def _finish(self, status: Status, reason: str = "") -> Outcome:
        if self._outcome is None:
            self._outcome = Outcome(
                status,
                self.match_id,
                self.alias,
                self.results,
                self.draft.text,
                self.client.reconnects,
                reason,
            )
            self.log.info("bot_done", status=status.value, reason=reason, match_id=self.match_id)
        return self._outcome

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        task = self._tasks.get(name)
        if task is not None and not task.done():
            coro.close()
            return
        self._tasks[name] = asyncio.create_task(coro, name=f"bot-{name}")

    def _cancel(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    async def _stop_tasks(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks.values() if t is not current]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                self.log.error(
                    "bot_task_failed", task=task.get_name(), error=repr(task.exception())
                )

    async def _send(self, msg: Message, what: str) -> int | None:
        """Send on the socket the seat is attached to; None when there is none now."""
        try:
            ref = await self.client.send(msg, generation=self._synced)
        except NotConnected:
            self._attached.clear()
            return None
        self._refs[ref] = what
        return ref

    async def _sleep_until(self, at: float) -> None:
        await self._sleep(max(0.0, at - self._clock()))

    def _left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self._clock()

    # --- connection ----------------------------------------------------------------------

    async def _on_welcome(self, welcome: ev.Welcome) -> None:
        self._socket += 1
        self._attached.clear()
        for review in self._reviews.values():
            review.ref = None  # the next match.state says which ones arrived
        if self.match_id is not None and welcome.match_id == self.match_id:
            return  # the server re-attached the seat; match.state follows
        try:
            ref = await self.client.send(msgs.MatchJoin(seat_token=self.seat_token))
        except NotConnected:
            return  # dropped again; the next Reconnected tries again
        self._refs[ref] = "join"

    async def _on_reconnected(self, event: Reconnected) -> None:
        await self._on_welcome(event.welcome)

    async def _on_closed(self, event: Closed) -> None:
        if self.results is not None:
            self._finish(Status.FINISHED)
        elif self.phase == "closed":
            self._finish(Status.ABORTED, "closed")
        elif event.lost:
            self._finish(Status.LOST, f"gave up reconnecting after {event.code} {event.reason}")
        else:
            self._finish(Status.CLOSED, f"{event.code} {event.reason}")

    # --- match events --------------------------------------------------------------------

    def _set_phase(self, phase: str, remaining_ms: int | None) -> None:
        """Note the phase and its deadline on our clock (``remaining_ms`` is frozen while
        the phase is paused, which only makes the bot a little early)."""
        self.phase = phase
        self.deadline = None if remaining_ms is None else self._clock() + remaining_ms / 1000
        if phase == "write" and self._write_opened is None:
            self._write_opened = self._clock()
            self._write_allowed = max(1.0, (remaining_ms or 240_000) / 1000)

    def _set_prompt(self, view: ev.PromptView) -> None:
        if self.prompt is None:
            self.prompt = prompt_from(view)
            self.focus = self.prompt.focus
            self._prompt_known.set()

    async def _on_state(self, s: ev.MatchState) -> None:
        self.match_id, self.alias = s.match_id, s.you
        self._synced = self._socket
        self._attached.set()
        self.seated.set()
        self._set_phase(s.phase, s.remaining_ms)
        if s.prompt is not None:
            self._set_prompt(s.prompt)
        if s.draft is not None:
            if s.draft.locked:  # writing is over: the server's text is the submission
                self.draft.text, self.draft.pending = s.draft.text, []
            else:
                edit = self.draft.rebase(s.draft.seq, s.draft.text)
                if edit is not None:
                    await self._send_edit(edit)
        me = next((seat for seat in s.seats if seat.you), None)
        if me is not None and me.ready:
            self._ready = True
        if s.phase == "lobby":
            self._start_ready()
        elif s.phase == "write":
            self._spawn("write", self._write())
        elif s.phase == "feedback" and s.assignments:
            self._take_assignments(s.assignments)
        if s.results is not None:
            await self._on_results(s.results)
        if s.phase == "closed":
            self._finish(Status.FINISHED if self.results else Status.ABORTED, "closed")

    async def _on_phase(self, p: ev.MatchPhase) -> None:
        self._set_phase(p.phase, p.remaining_ms)
        if p.phase == "write":
            self._spawn("write", self._write())
        elif p.phase != "lobby":
            self._cancel("ready")
            self._cancel("write")
        if p.phase in ("scoring", "results", "closed"):
            self._cancel("review")
        if p.phase == "closed":
            status = Status.FINISHED if self.results is not None else Status.ABORTED
            self._finish(status, p.reason or "closed")

    async def _on_prompt(self, p: ev.MatchPrompt) -> None:
        self._set_prompt(p.prompt)

    async def _on_assignments(self, a: ev.ReviewAssignments) -> None:
        self.focus = _trait(a.focus)
        self._take_assignments(a.assignments)

    async def _on_snapshot_needed(self, e: ev.DraftSnapshotNeeded) -> None:
        # Every op edit in flight is answered with its own request; one snapshot answers
        # them all (if it is lost, the stalled-edit timer sends another).
        if self.phase == "write" and not self.draft.snapshot_in_flight():
            await self._send_edit(self.draft.snapshot(at_least=e.have_seq))

    async def _on_ack(self, a: ev.Ack) -> None:
        what = self._refs.pop(a.id, None) if a.id is not None else None
        if what == "edit" and a.seq is not None:
            self.draft.acked(a.seq)
        elif what == "ready":
            self._ready = True
        elif what is not None and what.startswith("review:"):
            review = self._reviews.get(what.removeprefix("review:"))
            if review is not None:
                review.done = True

    async def _on_error(self, e: ev.ErrorEvent) -> None:
        what = self._refs.pop(e.ref, None) if e.ref is not None else None
        self.log.info("bot_refused", code=e.code, message=e.message, what=what)
        retry = e.code in RETRY_CODES
        if what == "join":
            if retry:
                self._spawn("join", self._join_later((e.retry_after_ms or 1000) / 1000))
            else:
                self._finish(Status.REFUSED, f"{e.code}: {e.message}")
        elif what == "ready" and retry:
            self._spawn("ready", self._get_ready())
        elif what == "edit" and e.code in ("deadline_passed", "wrong_phase", "draft_too_long"):
            self._cancel("write")
        elif what is not None and what.startswith("review:"):
            review = self._reviews.get(what.removeprefix("review:"))
            if review is not None:
                review.ref = None
                if retry:  # try again shortly
                    review.due = self._clock() + (e.retry_after_ms or 1000) / 1000
                    self._spawn("review", self._review())
                else:  # already_reviewed means it arrived; the rest cannot be fixed
                    review.done = True
        elif e.code in ("match_closed", "left_match"):
            self._finish(Status.ABORTED, e.code)

    async def _join_later(self, delay: float) -> None:
        await self._sleep(delay)
        try:
            ref = await self.client.send(msgs.MatchJoin(seat_token=self.seat_token))
        except NotConnected:
            return  # the next Reconnected joins
        self._refs[ref] = "join"

    async def _on_results(self, r: ev.MatchResults) -> None:
        if self.results is None:
            self.results = r
            self._spawn("leave", self._leave())

    HANDLERS: ClassVar[dict[type, Callable[[BotPlayer, Any], Awaitable[None]]]] = {
        Reconnected: _on_reconnected,
        Closed: _on_closed,
        ev.MatchState: _on_state,
        ev.MatchPhase: _on_phase,
        ev.MatchPrompt: _on_prompt,
        ev.ReviewAssignments: _on_assignments,
        ev.DraftSnapshotNeeded: _on_snapshot_needed,
        ev.Ack: _on_ack,
        ev.ErrorEvent: _on_error,
        ev.MatchResults: _on_results,
    }
    """Event type → handler; everything else (seats, progress, pong, report) is ignored."""

    # --- lobby ---------------------------------------------------------------------------

    def _start_ready(self) -> None:
        if not self._ready:
            self._spawn("ready", self._get_ready())

    async def _get_ready(self) -> None:
        await self._sleep(self.pace.ready_delay(self._left(), self._rng))
        while not self._ready and self.phase == "lobby":
            await self._attached.wait()
            if await self._send(msgs.MatchReady(), "ready") is not None:
                return

    # --- writing -------------------------------------------------------------------------

    async def _write(self) -> None:
        """Type the piece; started again after a reconnect, it carries on where it was."""
        await self._prompt_known.wait()
        assert self.prompt is not None and self._write_opened is not None
        opened, allowed = self._write_opened, self._write_allowed
        if self._plan is None:
            self.piece = await self.engines.writer.write_piece(
                BotPieceRequest(
                    prompt=self.prompt, skill=self.skill, seconds_allowed=allowed, seed=self.seed
                )
            )
            plan = debounce(self.piece.timeline, self.pace.quiet, self.pace.max_wait)
            self._plan = continue_after(plan, self.draft.text)
        while self._typed < len(self._plan):
            edit = self._plan[self._typed]
            await self._sleep_until(opened + min(edit.at, allowed))
            try:
                self.draft.type(edit.ops)
            except ValueError:  # the draft changed under the plan: stop typing
                self.log.warning("bot_plan_does_not_fit", text_chars=len(self.draft.text))
                self._typed = len(self._plan)
                break
            self._typed += 1
            await self._flush_draft()
        while self.draft.pending and self.phase == "write":
            await self._sleep(RESEND_POLL)
            await self._flush_draft()

    async def _flush_draft(self) -> None:
        """Send what is pending; a snapshot when the server seems to ignore our edits."""
        if self._synced != self._socket or not self._attached.is_set():
            return  # offline: match.state will rebase
        if self.draft.stalled(self._clock(), self.pace.stall_seconds):
            await self._send_edit(self.draft.snapshot(at_least=self.draft.acked_seq))
            return
        for edit in [p for p in self.draft.pending if p.sent_at is None]:
            if not await self._send_edit(edit):
                return

    async def _send_edit(self, edit: Pending) -> bool:
        if await self._send(edit.message(), "edit") is None:
            return False
        self.draft.sent(edit, self._clock())
        return True

    # --- reviewing -----------------------------------------------------------------------

    def _take_assignments(self, views: tuple[ev.AssignmentView, ...]) -> None:
        for view in views:
            review = self._reviews.setdefault(view.assignment_id, _Review(view))
            if view.submitted:
                review.done = True
        if any(not r.done for r in self._reviews.values()):
            self._spawn("review", self._review())

    async def _review(self) -> None:
        todo = [r for r in self._reviews.values() if not r.done]
        fresh = [r for r in todo if r.due is None]
        for k, r in enumerate(fresh):
            if r.review is None:
                r.review = await self.engines.reviewer.write_review(
                    BotReviewRequest(
                        prompt=self.prompt or _unknown_prompt(self.focus),
                        piece_text=r.view.text,
                        skill=self.skill,
                        focus=self.focus,
                        seed=self.seed + 1 + k,
                    )
                )
        if fresh:
            took = [
                self.pace.review_seconds(
                    len(r.view.text.split()),
                    len(r.review.strength) + len(r.review.suggestion) if r.review else 0,
                    self.skill,
                )
                for r in fresh
            ]
            now = self._clock()
            for r, at in zip(
                fresh, self.pace.review_times(took, self._left(), self._rng), strict=True
            ):
                r.due = now + at
        while True:
            left = sorted(
                (r for r in self._reviews.values() if not r.done and r.ref is None),
                key=lambda r: r.due or 0.0,
            )
            if not left or self.phase != "feedback":
                return
            r = left[0]
            await self._sleep_until(r.due or 0.0)
            await self._attached.wait()
            if not r.done and r.ref is None:
                r.ref = await self._send(_submission(r), f"review:{r.view.assignment_id}")

    # --- results -------------------------------------------------------------------------

    async def _leave(self) -> None:
        await self._sleep(self.pace.linger_delay(self._rng))
        self._finish(Status.FINISHED)
        await self.client.close()  # play() sees Closed and returns


def _submission(r: _Review) -> msgs.ReviewSubmit:
    review = r.review
    strength = (review.strength if review else "").strip()[:REVIEW_CHARS] or FALLBACK_STRENGTH
    suggestion = (review.suggestion if review else "").strip()[:REVIEW_CHARS] or FALLBACK_SUGGESTION
    rating = min(6, max(1, review.rating)) if review else 4
    return msgs.ReviewSubmit(
        assignment_id=r.view.assignment_id,
        strength=strength,
        suggestion=suggestion,
        rating=rating,
    )


def _unknown_prompt(focus: Trait) -> Prompt:
    """Only if assignments came before any prompt (never in a normal match)."""
    return Prompt(id="unknown", title="", text="", focus=focus)

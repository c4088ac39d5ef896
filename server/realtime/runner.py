"""One asyncio task per match: the only owner of its :class:`~server.game.Match`.

The task waits for the first inbox item or the match's next timer (``Match.wake_at``),
then runs one **tick**:

1. drain what else is queued (up to ``Tuning.batch_max`` items) and hand each item to the
   engine (``match.handle``), then ``match.step`` if a timer is due;
2. write the tick's ``Persist`` records and its latest ``Checkpoint`` to Redis in one
   round trip (:meth:`server.realtime.store.MatchStore.append`, retried until it
   succeeds) — the write-ahead;
3. only then send what the tick produced, in order: each event is encoded once per codec
   (:class:`~server.protocol.Outbound`) and queued on every attached socket; bots get
   the events addressed to them;
4. start what the tick asked for: AI requests (tasks whose answers come back through
   the inbox), saving the outcome (``MatchFinished``), closing (``MatchClosed``).

Inbox overflow rule (``Tuning.inbox_size``): a client's match message that finds the
inbox full is dropped and refused with ``unavailable`` (a dropped ``draft.edit`` shows
up as a gap and the engine asks for a snapshot); joins wait up to
``Tuning.join_wait_seconds``; detaches, bot inputs and AI answers wait for room — their
producers are other tasks, never this one.

A refused input (``InvalidTransition``) is answered with an ``error`` to its socket and
changes nothing.

A match may have an **observer** (:class:`MatchObserver`; a private lobby's live view,
``server.lobbies.live``): it is called after every tick and for every ``FlagTeacher``,
reads the match, and never changes it; its failures are logged, never the match's.
Teacher controls reach the match as :class:`FromTeacher` items (:meth:`MatchRunner.control`).  Any other exception from the engine is a bug that may have left the
match half-changed: it is logged and the match is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import structlog

from server.errors import InvalidTransition
from server.game import (
    Abort,
    Attach,
    Broadcast,
    Checkpoint,
    Detach,
    Effect,
    FlagTeacher,
    Input,
    Match,
    MatchClosed,
    MatchFinished,
    MatchOutcome,
    Moderate,
    Persist,
    Phase,
    Ready,
    ScorePiece,
    ScoreReview,
    SendTo,
    SetTimer,
    seat_edits,
)
from server.goals.store import after_scores
from server.protocol import Message, Outbound, error_event
from server.protocol import events as ev
from server.protocol.errors import ErrorCode, ProtocolError
from server.realtime import retry
from server.realtime.ai import AIRequest
from server.realtime.bots import BotSeat
from server.realtime.connection import Connection
from server.realtime.store import pack, unpack_edits
from server.storage import deadletter
from server.storage.matches import save_outcome, save_packed_replay
from server.types import MatchId, PlayerId

if TYPE_CHECKING:
    from server.realtime.hub import Hub

log = structlog.get_logger("quill.match")
T = TypeVar("T")


# --- inbox items ---------------------------------------------------------------------


@dataclass(slots=True)
class FromClient:
    """A match message from a socket (already decoded and turned into an input)."""

    conn: Connection
    input: Input
    ref: int | None


@dataclass(slots=True)
class Join:
    """A socket takes its player's seat (``match.join`` or a resume)."""

    conn: Connection
    ref: int | None


@dataclass(slots=True)
class Part:
    """A socket went away, or moved to another match."""

    conn: Connection


@dataclass(slots=True)
class FromBot:
    player: PlayerId
    input: Input


@dataclass(slots=True)
class FromAI:
    input: Input


@dataclass(slots=True)
class FromTeacher:
    """A lobby teacher's control (start, pause, resume, extend) for this match."""

    input: Input


@dataclass(slots=True)
class Stop:
    """Shutdown: write a checkpoint and stop (the match resumes when the node is back)."""


@dataclass(slots=True)
class Wake:
    """The engine's next deadline has come (put by the runner's own timer)."""


Item = FromClient | Join | Part | FromBot | FromAI | FromTeacher | Stop | Wake
Target = Connection | PlayerId | None  # None: every attached seat


class MatchObserver(Protocol):
    """Watches a match from outside (a lobby's live view): reads, never writes."""

    def after_tick(self, runner: MatchRunner, now: float) -> None:
        """A tick's records are durable and its events sent."""

    def flagged(self, runner: MatchRunner, flag: FlagTeacher) -> None:
        """Moderation wants a person to look at a text of this match."""


class MatchRunner:
    """Runs one match; see the module docstring.  ``start()`` starts its task."""

    def __init__(
        self,
        hub: Hub,
        match: Match,
        *,
        flushed: int,
        effects: list[Effect] | None = None,
        remote_bots: frozenset[PlayerId] = frozenset(),
    ) -> None:
        self.hub = hub
        self.match = match
        self.match_id = MatchId(match.config.match_id)
        self.inbox: asyncio.Queue[Item] = asyncio.Queue(hub.tuning.inbox_size)
        self.conns: dict[PlayerId, Connection] = {}
        self.bots: dict[PlayerId, BotSeat] = {}
        self.flushed = flushed  # log records already in Redis
        self.created_at = hub.clock.now()  # on this node (the live list's order)
        match.forget_log(flushed)  # Redis holds them; the process keeps only what is new
        self.closed = False
        self.log = log.bind(match_id=self.match_id)
        self.task: asyncio.Task[None] | None = None
        self._records: list[dict[str, Any]] = []
        self._checkpoint: dict[str, Any] | None = None
        self._out: list[tuple[Target, Message]] = []
        self._later: list[Effect] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._saving: asyncio.Task[None] | None = None
        self._unsaved: str | None = None  # why the outcome or replay could not be saved
        self._stopping = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_for: float | None = None  # the wake time the timer is set for
        self._carry(effects or [])
        self.remote_bots = remote_bots  # bot seats the bot pool plays over WebSockets
        self.observer: MatchObserver | None = None
        for index, seat in enumerate(match.state.seats):
            if seat.is_bot and seat.player not in remote_bots:
                self.bots[seat.player] = BotSeat(
                    self,
                    seat.player,
                    hub.bot_skill(index, match.config),
                    (match.config.seed * 31 + index) % 2**31,
                )

    # --- life ----------------------------------------------------------------------------

    @property
    def humans(self) -> list[PlayerId]:
        """Human seats still playing (neither left nor dropped)."""
        return [s.player for s in self.match.state.seats if not s.is_bot and s.active]

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def prime(self) -> None:
        """A new match: seat the bots, then make the first records durable."""
        now = self.hub.clock.now()
        for player in self.bots:
            self._handle(FromBot(player, Attach(player)), now)
            self._handle(FromBot(player, Ready(player)), now)
        await self._flush(now)

    def restored(self) -> None:
        """A match rebuilt after a restart: nobody is connected to this process yet."""
        now = self.hub.clock.now()
        if self.match.phase is not Phase.CLOSED:
            for seat in self.match.state.seats:
                if seat.connected and not seat.is_bot:
                    self._carry(self.match.handle(Detach(seat.player), now))
        for request in self.match.pending_requests():
            self._later.append(request)
        if self.match.state.outcome is not None:
            self._later.append(MatchFinished(self.match.state.outcome))
        if self.match.phase is Phase.CLOSED:
            self._later.append(MatchClosed(self.match.state.close_reason or "finished"))
        for bot in self.bots.values():
            bot.resume()

    def start(self) -> None:
        # A fresh context: the match outlives the request that created it, and its logs
        # must not carry that request's bound request_id.
        self.task = asyncio.create_task(
            self._run(), name=f"match:{self.match_id}", context=contextvars.Context()
        )

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """A task owned by this match (AI requests, bots); cancelled when it stops."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.log.error("match_task_failed", task=task.get_name(), error=repr(exc))

    async def stop(self, within: float) -> None:
        """Shutdown: checkpoint and stop; the match stays listed for the next start."""
        if self.task is None or self.task.done():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self.inbox.put(Stop())
                await asyncio.shield(self.task)
        if not self.task.done():
            self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task

    # --- entry points for the gateway, bots and AI tasks --------------------------------

    def submit(self, conn: Connection, event: Input, ref: int | None) -> None:
        """A client's match message; raises ``unavailable`` when the inbox is full."""
        try:
            self.inbox.put_nowait(FromClient(conn, event, ref))
        except asyncio.QueueFull:
            self.hub.metrics.inbox_full.inc()
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the match is busy; send it again", retry_after_ms=250
            ) from None

    async def join(self, conn: Connection, ref: int | None) -> None:
        """Seat ``conn`` (waits for room up to ``join_wait_seconds``)."""
        try:
            async with asyncio.timeout(self.hub.tuning.join_wait_seconds):
                await self.inbox.put(Join(conn, ref))
        except TimeoutError:
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the match is busy; try again", retry_after_ms=1000
            ) from None

    async def part(self, conn: Connection) -> None:
        """The socket left; the seat is kept (nothing to do once the task has ended)."""
        if self.running:
            await self.inbox.put(Part(conn))

    async def from_bot(self, player: PlayerId, event: Input) -> None:
        await self.inbox.put(FromBot(player, event))

    def control(self, event: Input) -> None:
        """A lobby teacher's control; raises ``unavailable`` when the inbox is full."""
        try:
            self.inbox.put_nowait(FromTeacher(event))
        except asyncio.QueueFull:
            self.hub.metrics.inbox_full.inc()
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the match is busy; send it again", retry_after_ms=250
            ) from None

    # --- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        clock = self.hub.clock
        try:
            await self._flush(clock.now())
            while not self.closed and not self._stopping:
                item = await self._next(self.match.wake_at)
                now = clock.now()
                if item is not None:
                    self._handle(item, now)
                    for _ in range(self.hub.tuning.batch_max - 1):
                        try:
                            self._handle(self.inbox.get_nowait(), now)
                        except asyncio.QueueEmpty:
                            break
                wake = self.match.wake_at
                if wake is not None and wake <= now:
                    self._carry(self.match.step(now))
                self._abort_if_only_bots(now)
                self._free_seats()
                await self._flush(now)
            if self._stopping and not self.closed:
                self._checkpoint = self.match.to_snapshot()
                await self._flush(clock.now())
                self.log.info("match_checkpointed", phase=self.match.phase.value)
                return
            await self._finish()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("match_runner_failed")
            await self._crashed()
        finally:
            self._disarm()
            await self._stop_tasks()
            self._release_sockets()

    async def _next(self, wake: float | None) -> Item | None:
        """The next inbox item, or None once the engine's next deadline ``wake`` came.

        One timer per deadline, not one per wait: a match waits for its next message
        several times a second per player, and a fresh ``asyncio.timeout`` each time
        (scheduled, then cancelled) cost a twentieth of a busy node's core."""
        try:
            item = self.inbox.get_nowait()
        except asyncio.QueueEmpty:
            if wake != self._timer_for:
                self._disarm()
                if wake is not None:
                    delay = self.hub.clock.until(wake)
                    self._timer = asyncio.get_running_loop().call_later(delay, self._ring)
                    self._timer_for = wake
            item = await self.inbox.get()
        return None if isinstance(item, Wake) else item

    def _ring(self) -> None:
        self._timer, self._timer_for = None, None  # set again if the deadline is still ahead
        with contextlib.suppress(asyncio.QueueFull):  # full: the loop is awake anyway
            self.inbox.put_nowait(Wake())

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_for = None, None

    def _handle(self, item: Item, now: float) -> None:
        """Hand one inbox item to the engine; refusals go back to whoever sent it."""
        if isinstance(item, FromClient):
            conn = item.conn
            if self.conns.get(conn.player) is not conn:
                self._out.append((conn, _not_in_match(item.ref)))
                return
            try:
                self._carry(self.match.handle(item.input, now))
            except InvalidTransition as exc:
                self._out.append((conn, error_event(exc, item.ref)))
        elif isinstance(item, Join):
            self._join(item, now)
        elif isinstance(item, Part):
            conn = item.conn
            if self.conns.get(conn.player) is conn:
                del self.conns[conn.player]
                self._carry(self.match.handle(Detach(conn.player), now))
            if conn.runner is self:
                conn.runner = None
        elif isinstance(item, FromBot):
            try:
                self._carry(self.match.handle(item.input, now))
            except InvalidTransition as exc:
                bot = self.bots.get(item.player)
                if bot is not None:
                    bot.refused(exc)
        elif isinstance(item, FromAI):
            try:
                self._carry(self.match.handle(item.input, now))
            except InvalidTransition as exc:  # late or duplicate: nothing to do
                self.log.debug("input_ignored", code=exc.code, message=exc.message)
        elif isinstance(item, FromTeacher):
            try:
                self._carry(self.match.handle(item.input, now))
            except InvalidTransition as exc:  # the phase moved on since the teacher asked
                self.log.info("teacher_control_refused", code=exc.code, message=exc.message)
        elif isinstance(item, Stop):
            self._stopping = True
        # Wake: nothing to hand over; the loop steps the engine when its deadline came

    def _join(self, item: Join, now: float) -> None:
        conn, player = item.conn, item.conn.player
        if conn.closing:
            return
        previous = self.conns.get(player)
        self.conns[player] = conn
        try:
            effects = self.match.handle(Attach(player), now)
        except InvalidTransition as exc:
            if previous is None:
                del self.conns[player]
            else:
                self.conns[player] = previous
            if conn.runner is self:
                conn.runner = None
            self._out.append((conn, error_event(exc, item.ref)))
            return
        conn.runner = self
        if previous is not None and previous is not conn:
            previous.runner = None
            previous.close(1000, "replaced by a newer connection for this seat")
        self._carry(effects)

    def _carry(self, effects: list[Effect]) -> None:
        """Sort the engine's effects: durable records, sends, and work for after the write."""
        for eff in effects:
            if isinstance(eff, Persist):
                self._records.append(eff.record)
            elif isinstance(eff, Checkpoint):
                self._checkpoint = eff.snapshot
            elif isinstance(eff, Broadcast):
                self._out.append((None, eff.event))
            elif isinstance(eff, SendTo):
                self._out.append((eff.player, eff.event))
            elif isinstance(eff, SetTimer):
                pass  # the loop reads match.wake_at, which is what SetTimer reports
            else:
                self._later.append(eff)

    def _abort_if_only_bots(self, now: float) -> None:
        """A match with bots closes once no human is left in it (nobody showed up)."""
        m = self.match
        in_play = m.phase not in (Phase.LOBBY, Phase.CLOSED) and not self.closed
        if not in_play or not (self.bots or self.remote_bots):
            return
        if any(s.dropped is None for s in m.state.seats if not s.is_bot):
            return
        self._carry(m.handle(Abort("no_players"), now))

    def _free_seats(self) -> None:
        """Humans who left (or never came) may play elsewhere while this match goes on;
        once the results are out, everyone may, whatever happens to the saving."""
        seated = self.hub.seated
        over = self.closed or self.match.phase in (Phase.RESULTS, Phase.CLOSED)
        for seat in self.match.state.seats:
            if (over or not seat.active) and seated.get(seat.player) == self.match_id:
                del seated[seat.player]

    # --- after the engine: write, send, start ------------------------------------------

    async def _flush(self, now: float) -> None:
        records, checkpoint = self._records, self._checkpoint
        self._records, self._checkpoint = [], None
        if records or checkpoint is not None:
            started = time.perf_counter()
            base, packed = self.flushed, [pack(r) for r in records]
            snapshot = None if checkpoint is None else pack(checkpoint)
            self.flushed = await retry.until_done(
                lambda: self.hub.store.append(self.match_id, base, packed, snapshot),
                what="match_log_write",
                log=self.log,
                max_pause=self.hub.tuning.retry_max_seconds,
            )
            self.match.forget_log(self.flushed)
            self.hub.metrics.edit_flush.observe(time.perf_counter() - started)
            self.hub.spectators.feed(self.match_id, records)
        self._deliver(now)
        later, self._later = self._later, []
        for eff in later:
            self._start(eff)
        if self.observer is not None:
            try:
                self.observer.after_tick(self, now)
            except Exception:
                self.log.exception("match_observer_failed")

    def _deliver(self, now: float) -> None:
        out, self._out = self._out, []
        ts = round(now * 1000)
        for target, event in out:
            outbound = Outbound(event, ts)
            if target is None:
                for conn in self.conns.values():
                    conn.send_shared(outbound)
                for bot in self.bots.values():
                    bot.on_event(event)
            elif isinstance(target, Connection):
                target.send_shared(outbound)
            else:
                seated = self.conns.get(target)
                if seated is not None:
                    seated.send_shared(outbound)
                player_bot = self.bots.get(target)
                if player_bot is not None:
                    player_bot.on_event(event)

    def _start(self, eff: Effect) -> None:
        if isinstance(eff, Moderate | ScorePiece | ScoreReview):
            self.spawn(self._ask(eff), f"ai:{type(eff).__name__}")
        elif isinstance(eff, FlagTeacher):
            self.hub.metrics.moderation_flags.inc()
            self.log.warning(
                "moderation_flag", player_id=eff.player, key=eff.key, reasons=eff.reasons
            )
            if self.observer is not None:
                try:
                    self.observer.flagged(self, eff)
                except Exception:
                    self.log.exception("match_observer_failed")
        elif isinstance(eff, MatchFinished):
            if self._saving is None:
                self._saving = asyncio.create_task(
                    self._save_outcome(eff.outcome), name=f"save-outcome:{self.match_id}"
                )
        elif isinstance(eff, MatchClosed):
            self.closed = True
            self.log.info("match_closed", reason=eff.reason)

    async def _ask(self, request: AIRequest) -> None:
        answer = await self.hub.ai.answer(request)
        await self.inbox.put(FromAI(answer))

    async def _save_outcome(self, outcome: MatchOutcome) -> None:
        async def save() -> bool:
            # The edit logs come from the log in Redis (everything up to the finish was
            # written before this task started), not from the process.
            edits = seat_edits(unpack_edits(await self.hub.store.packed_log(self.match_id)))
            return await save_outcome(
                self.hub.pool, outcome, node_id=self.hub.node_id, mode=self._mode, edits=edits
            )

        saved = await self._save_or_dead_letter(save, "save_outcome")
        if self._unsaved is None:
            self.log.info("match_saved", first_time=saved)
        # Sent straight to the sockets, not through ``_out``: this task runs beside the
        # loop, which may be between writing a tick's records and sending its events.
        outbound = Outbound(
            ev.MatchSaved(match_id=self.match_id, saved=self._unsaved is None),
            self.hub.clock.now_ms(),
        )
        for conn in self.conns.values():
            conn.send_shared(outbound)
        if saved:  # goals these scores meet (server/goals/store.py): after, never in the way
            humans = [str(s.player) for s in outcome.seats if not s.is_bot]
            self.spawn(after_scores(self.hub.pool, self.hub.redis, humans), "goal-check")

    @property
    def _mode(self) -> str:
        return "ranked" if self.match.config.ranked else "practice"

    async def _save_or_dead_letter(self, op: Callable[[], Awaitable[T]], what: str) -> T | None:
        """``op`` with bounded retries; on failure the match goes to the dead-letter store."""
        try:
            return await retry.bounded(
                op,
                attempts=self.hub.settings.storage.save_attempts,
                what=what,
                log=self.log,
                max_pause=self.hub.tuning.save_retry_max_seconds,
                permanent=deadletter.is_permanent,
            )
        except Exception as exc:
            await self._dead_letter(exc)
            return None

    async def _dead_letter(self, exc: BaseException) -> None:
        """Keep the whole match (checkpoint and log) for ``quill deadletter retry``; called
        again at close so the record holds the full log."""
        if self._unsaved is None:
            self._unsaved = repr(exc)
            self.hub.metrics.outcomes_unsaved.inc()
            self.log.error("match_outcome_not_saved", error=self._unsaved)
        snapshot = self.match.to_snapshot()

        async def put() -> None:
            record = deadletter.DeadOutcome(
                match_id=self.match_id,
                node_id=self.hub.node_id,
                mode=self._mode,
                failed_at=self.hub.clock.now(),
                error=self._unsaved or "",
                snapshot=snapshot,
                log=await self.hub.store.log(self.match_id),
            )
            await deadletter.put(self.hub.redis, record)

        await retry.until_done(
            put,
            what="dead_letter_write",
            log=self.log,
            max_pause=self.hub.tuning.retry_max_seconds,
        )

    async def _finish(self) -> None:
        """The match is closed: outcome and replay to PostgreSQL (or to the dead-letter
        store when PostgreSQL will not take them), then forget it."""
        if self._saving is not None:
            await self._saving
        if self.match.state.outcome is not None:
            if self._unsaved is None:

                async def replay() -> None:
                    log = await self.hub.store.packed_log(self.match_id)
                    await save_packed_replay(self.hub.pool, self.match_id, log)

                await self._save_or_dead_letter(replay, "save_replay")
            else:
                await self._dead_letter(RuntimeError(self._unsaved))
        await retry.until_done(
            lambda: self.hub.store.forget(self.match_id),
            what="match_forget",
            log=self.log,
            max_pause=self.hub.tuning.retry_max_seconds,
        )
        self.hub.forget(self)

    async def _crashed(self) -> None:
        """A bug: try to abort cleanly; otherwise stop hosting the match."""
        now = self.hub.clock.now()
        try:
            if self.match.phase is not Phase.CLOSED:
                self._carry(self.match.handle(Abort("internal_error"), now))
            await self._flush(now)
            await self._finish()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("match_abort_failed")
            for conn in self.conns.values():
                conn.send_event(error_event(_internal()))
            with contextlib.suppress(Exception):
                await self.hub.store.quarantine(self.match_id)
            self.hub.forget(self)

    async def _stop_tasks(self) -> None:
        for bot in self.bots.values():
            bot.stop()
        tasks = list(self._tasks)
        if self._saving is not None and not self._saving.done():
            tasks.append(self._saving)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _release_sockets(self) -> None:
        for conn in self.conns.values():
            if conn.runner is self:
                conn.runner = None
        self.conns.clear()


def _not_in_match(ref: int | None) -> Message:
    return error_event(
        ProtocolError(ErrorCode.NOT_IN_MATCH, "this socket holds no seat in the match"), ref
    )


def _internal() -> ProtocolError:
    return ProtocolError(ErrorCode.INTERNAL, "the match stopped after an internal error")

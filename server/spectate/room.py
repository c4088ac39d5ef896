"""The spectators of one match on this node, and the delay the node holds for them.

A :class:`Room` exists while a match has spectators.  The match's runner feeds it every
batch of log records it has written to Redis (:meth:`Room.feed`); the room turns them
into spectator events once (``server.spectate.feed``) and puts them into each of its
groups.  A :class:`Group` is the spectators who watch with the same delay and see the
same text (the public or the class at ``match.spectator_delay_seconds``; admins and the
lobby's teacher at 0): it holds each event until ``at + delay`` has passed on the node's
clock, then sends every due event in one ``spectate.events`` frame, encoded once per
codec for all of its members, at most every ``match.spectator_tick_seconds``.

The *spine* is the group at the full delay: it always exists, members or not, because
every other group can be made from it (its view, plus its queue of the last ``delay``
seconds of events) while a group that is already ahead could not go back.  A room made
for a running match first reads the match's log so far from Redis (the *backfill*);
records the runner writes meanwhile wait in ``pending``.

A frame goes to at most :data:`FANOUT_PER_TURN` members per loop turn, the rest in the
next turns: a match with hundreds of spectators would otherwise write to all their
sockets in one callback while the players' events wait behind it.

Slow spectators are the connection's business: a socket with 256 frames waiting is
closed with 1013 like any other (``server.realtime.connection``), and the frames it
shares are not copied for it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.access.watch import SeatFacts
from server.protocol.codec import Outbound
from server.protocol.spectate_events import LeftReason, SpectateEvents, SpectateLeft
from server.spectate.feed import Event, Transformer, View, for_viewers

if TYPE_CHECKING:
    from server.realtime.clock import Clock
    from server.realtime.connection import Connection

FANOUT_PER_TURN = 32  # sockets written in one loop turn (about 0.3 ms of writes)


@dataclass(slots=True)
class Backfill:
    """A match's log so far, read for a new room (pure; may run on a worker thread)."""

    transformer: Transformer
    view: View  # the spine's view: every event at least ``delay`` old at ``now``
    held: list[Event]  # the younger events, in order

    @classmethod
    def read(
        cls, log: Sequence[Mapping[str, Any]], hidden: frozenset[int], delay: float, now: float
    ) -> Backfill:
        transformer = Transformer(log[0], hidden)
        view = View(log[0])
        held: list[Event] = []
        for rec in log:
            for event in transformer.events(rec):
                if not held and event["at"] + delay <= now:
                    view.apply(event)
                else:
                    held.append(event)
        return cls(transformer, view, held)


class Group:
    """Spectators with one delay and one right to withheld text (see the module doc)."""

    def __init__(self, room: Room, delay: float, sees_withheld: bool, view: View) -> None:
        self.room = room
        self.delay = delay
        self.sees_withheld = sees_withheld
        self.view = view
        self.queue: deque[Event] = deque()  # released at event["at"] + delay, in order
        self.members: dict[Connection, None] = {}  # insertion-ordered set
        self._timer: asyncio.TimerHandle | None = None
        self._last_send = float("-inf")  # loop time of the last frame
        self.ended = False  # the closed event was sent (or the match stopped)
        # Frames being written to the members, oldest first: [outbound, members, next, then].
        self._out: deque[list[Any]] = deque()
        self._fanning = False  # a turn of _fan_out is scheduled

    def put(self, events: Iterable[Event]) -> None:
        self.queue.extend(events)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None or not self.queue or self.ended:
            return
        room = self.room
        loop = asyncio.get_running_loop()
        due = room.clock.until(self.queue[0]["at"] + self.delay)
        earliest = self._last_send + room.tick - loop.time()
        self._timer = loop.call_later(max(due, earliest, 0.0), self._release)

    def _release(self) -> None:
        self._timer = None
        now = self.room.clock.now()
        out: list[Event] = []
        queue, delay = self.queue, self.delay
        while queue and queue[0]["at"] + delay <= now:
            event = queue.popleft()
            self.view.apply(event)
            out.append(for_viewers(event, self.sees_withheld))
        if out:
            self._last_send = asyncio.get_running_loop().time()
            self.send(SpectateEvents(match_id=self.room.match_id, events=tuple(out)), now)
            if self.view.closed:
                self.end("ended")
                return
        if not queue and self.room.stopped:
            self.end("gone")
            return
        self._arm()

    def send(self, event: Any, now: float, then: Callable[[], None] | None = None) -> None:
        """Send ``event`` to the members: :data:`FANOUT_PER_TURN` sockets per loop turn,
        frames in the order they were sent, to those still members when their turn
        comes; ``then`` runs once every member had it."""
        self._out.append([Outbound(event, round(now * 1000)), list(self.members), 0, then])
        if not self._fanning:
            self._fan_out()

    def _fan_out(self) -> None:
        budget, out, of = FANOUT_PER_TURN, self._out, self.room.of
        while out and budget:
            item = out[0]
            outbound, members, start, then = item
            end = min(len(members), start + budget)
            for conn in members[start:end]:
                if of.get(conn) is self and not conn.send_shared(outbound):
                    self.room.drop(conn)
            budget -= end - start
            if end < len(members):
                item[2] = end
                continue
            out.popleft()
            if then is not None:
                then()
        self._fanning = bool(out)
        if out:
            asyncio.get_running_loop().call_soon(self._fan_out)

    def end(self, reason: LeftReason) -> None:
        """No more events: tell the members, forget them."""
        if self.ended:
            return
        self.ended = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        left = SpectateLeft(match_id=self.room.match_id, reason=reason)
        self.send(left, self.room.clock.now(), then=self._forget_members)

    def _forget_members(self) -> None:
        for conn in list(self.members):
            self.room.drop(conn, notify=False)


class Room:
    """A match's spectators on this node (see the module docstring)."""

    def __init__(
        self,
        match_id: str,
        *,
        delay: float,
        tick: float,
        clock: Clock,
        on_drop: Callable[[Room, Connection], None],
        on_empty: Callable[[Room], None],
    ) -> None:
        self.match_id = match_id
        self.delay = delay
        self.tick = tick
        self.clock = clock
        self.groups: dict[tuple[float, bool], Group] = {}
        self.spine: Group | None = None  # set by :meth:`start`
        self.seats: list[SeatFacts] = []
        self.transformer: Transformer | None = None
        self.pending: list[Mapping[str, Any]] = []  # records fed before the backfill ended
        self.ready = asyncio.Event()
        self.failed: BaseException | None = None
        self.of: dict[Connection, Group] = {}
        self.stopped = False  # the match stopped on this node (closed or drained)
        self._on_drop = on_drop
        self._on_empty = on_empty

    @property
    def count(self) -> int:
        return len(self.of)

    # --- the backfill ------------------------------------------------------------------

    def begin(self, backfill: Backfill, seats: list[SeatFacts]) -> None:
        """Start with the log as it stood when the room was made, then every record
        that was fed meanwhile."""
        self.seats = seats
        self.transformer = backfill.transformer
        spine = self.spine = Group(self, self.delay, False, backfill.view)
        self.groups[(self.delay, False)] = spine
        pending, self.pending = self.pending, []
        held = backfill.held
        held.extend(e for rec in pending for e in backfill.transformer.events(rec))
        spine.put(held)
        self.ready.set()

    def fail(self, exc: BaseException) -> None:
        self.failed = exc
        self.ready.set()

    # --- from the runner -----------------------------------------------------------------

    def feed(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Records the match has just written to Redis, in log order."""
        transformer = self.transformer
        if transformer is None:
            self.pending.extend(records)
            return
        events = [e for rec in records for e in transformer.events(rec)]
        if events:
            for group in self.groups.values():
                group.put(events)

    def match_stopped(self) -> None:
        """The runner is gone: once every held event is out, the room ends."""
        self.stopped = True
        for group in self.groups.values():
            if not group.queue and not group.ended:
                group.end("ended" if group.view.closed else "gone")

    # --- spectators ----------------------------------------------------------------------

    def group(self, delay: float, sees_withheld: bool) -> Group:
        """The group for this delay (at most the room's), made from the spine if new."""
        delay = min(delay, self.delay)
        key = (delay, sees_withheld)
        group = self.groups.get(key)
        if group is None:
            assert self.spine is not None
            spine = self.spine
            group = self.groups[key] = Group(self, delay, sees_withheld, spine.view.copy())
            now, held = self.clock.now(), list[Event]()
            for event in spine.queue:
                if event["at"] + delay <= now and not held:
                    group.view.apply(event)
                else:
                    held.append(event)
            group.put(held)
            if spine.ended and not held:
                group.ended = True
        return group

    def add(self, conn: Connection, group: Group) -> None:
        """Make ``conn`` a member of ``group`` (leaving its group here, if any)."""
        old = self.of.get(conn)
        if old is not None:
            old.members.pop(conn, None)
        self.of[conn] = group
        group.members[conn] = None

    def drop(self, conn: Connection, *, notify: bool = False, reason: LeftReason = "left") -> bool:
        group = self.of.pop(conn, None)
        if group is None:
            return False
        group.members.pop(conn, None)
        if notify:
            conn.send_event(SpectateLeft(match_id=self.match_id, reason=reason))
        self._on_drop(self, conn)
        if not self.of:
            self._on_empty(self)
        return True

    def close(self) -> None:
        """Stop every timer (the room is being forgotten)."""
        for group in self.groups.values():
            group.ended = True
            if group._timer is not None:
                group._timer.cancel()
                group._timer = None

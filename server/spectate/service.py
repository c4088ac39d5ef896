"""Live spectating on one node: ``spectate.join`` / ``spectate.leave`` and the rooms.

Who may watch is decided by :mod:`server.access.watch` (the same rules as replays), from
facts read in PostgreSQL at each join (:mod:`server.access.facts`); a refusal and a
match that does not run here get the same ``match_not_found``.  A running match is
watched on the node that runs it (as its replay is served there); the live list
(``GET /api/v1/matches/live``) lists this node's matches for the same reason.

Cost when nobody watches: one dict lookup per batch of records a match writes
(:meth:`Spectating.feed`).  A room's backfill reads the match's log once from Redis and
folds it (on a worker thread when it is long), whatever the number of spectators that
join it together.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from server.access.facts import seat_facts, viewer_and_lobby
from server.access.watch import MatchFacts, decide, seat_label, shows_text
from server.protocol.errors import ErrorCode, ProtocolError
from server.protocol.spectate_events import SpectateLeft, SpectateState, SpectatorSeat
from server.realtime.store import unpack
from server.replays.build import seat_names
from server.replays.service import INLINE_RECORDS  # the same bound as building a replay
from server.spectate.room import Backfill, Room
from server.types import MatchId

if TYPE_CHECKING:
    from server.realtime.connection import Connection
    from server.realtime.hub import Hub
    from server.realtime.runner import MatchRunner

BACKFILL_TRIES = 3


def _not_found() -> ProtocolError:
    return ProtocolError(ErrorCode.MATCH_NOT_FOUND, "no running match to watch with this id")


def _full() -> ProtocolError:
    return ProtocolError(
        ErrorCode.SPECTATORS_FULL, "this match has as many spectators as it can take"
    )


class Spectating:
    """This node's spectator rooms (see the module docstring)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.rooms: dict[str, Room] = {}
        self._of: dict[Connection, Room] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def _settings(self) -> Any:
        return self.hub.settings.match

    def count(self, match_id: str) -> int:
        room = self.rooms.get(match_id)
        return 0 if room is None else room.count

    # --- from the runners and the hub --------------------------------------------------

    def feed(self, match_id: str, records: Sequence[Mapping[str, Any]]) -> None:
        room = self.rooms.get(match_id)
        if room is not None and records:
            room.feed(records)

    def match_stopped(self, match_id: str) -> None:
        room = self.rooms.get(match_id)
        if room is not None:
            room.match_stopped()
            if not room.count:
                self._forget(room)

    def gone(self, conn: Connection) -> None:
        """The socket closed."""
        room = self._of.get(conn)
        if room is not None:
            room.drop(conn)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for room in list(self.rooms.values()):
            room.close()
        self.rooms.clear()
        self._of.clear()

    # --- the two messages --------------------------------------------------------------

    async def leave(self, conn: Connection) -> None:
        room = self._of.get(conn)
        if room is None or not room.drop(conn, notify=True, reason="left"):
            raise ProtocolError(ErrorCode.NOT_WATCHING, "this socket watches no match")

    async def join(self, conn: Connection, match_id: str) -> None:
        hub = self.hub
        try:
            key = MatchId(str(uuid.UUID(match_id)))
        except ValueError:
            raise ProtocolError(
                ErrorCode.BAD_VALUE, "d.match_id: not a match id", path="d.match_id"
            ) from None
        if hub.draining:
            raise ProtocolError(ErrorCode.UNAVAILABLE, "the node is restarting; try again")
        runner = hub.runners.get(key)
        if runner is None or runner.closed:
            raise _not_found()
        config = runner.match.config
        humans = frozenset(str(s.player) for s in config.seats if not s.is_bot)
        async with hub.pool.acquire() as db:
            viewer, lobby = await viewer_and_lobby(db, uuid.UUID(key), str(conn.player))
        if viewer is None:
            raise _not_found()
        finished = runner.match.state.outcome is not None
        facts = MatchFacts(ranked=config.ranked, finished=finished, players=humans, lobby=lobby)
        access = decide(viewer, facts, self._settings.spectator_delay_seconds)
        if access is None:
            raise _not_found()
        room = self.rooms.get(key)
        if room is None:
            if runner.closed:
                raise _not_found()
            room = self._open(runner)
        if self._full(room, conn):
            raise _full()
        await room.ready.wait()
        if room.failed is not None:
            self._forget(room)
            if runner.closed or hub.runners.get(key) is not runner:
                raise _not_found()  # it ended while its log was being read
            raise ProtocolError(ErrorCode.UNAVAILABLE, "cannot read the match now; try again")
        if conn.closing or self.rooms.get(key) is not room:
            if not room.count:
                self._forget(room)
            if conn.closing:
                return
            raise _not_found()  # the match ended and its room with it while we waited
        if self._full(room, conn):  # others joined while the room was read
            if not room.count:
                self._forget(room)
            raise _full()
        group = room.group(access.delay, access.sees_withheld)
        previous = self._of.get(conn)
        if previous is not None and previous is not room:
            previous.drop(conn, notify=True, reason="replaced")
        view = group.view
        labels = [seat_label(access, seat) for seat in room.seats]
        visible = [
            shows_text(access, seat, viewer, i in view.withheld)
            for i, seat in enumerate(room.seats)
        ]
        state = view.state(
            labels,
            visible,
            delay=group.delay,
            at=hub.clock.now() - group.delay,
            spectators=room.count + (0 if conn in room.of else 1),
        )
        state["seats"] = tuple(SpectatorSeat(**s) for s in state["seats"])
        conn.send_event(SpectateState(**state))
        if group.ended:
            conn.send_event(SpectateLeft(match_id=key, reason="ended"))
            if not room.count:
                self._forget(room)
            return
        room.add(conn, group)
        self._of[conn] = room
        hub.metrics.spectators.set(len(self._of))

    # --- rooms ---------------------------------------------------------------------------

    def _open(self, runner: MatchRunner) -> Room:
        key = str(runner.match_id)
        room = Room(
            key,
            delay=self._settings.spectator_delay_seconds,
            tick=self._settings.spectator_tick_seconds,
            clock=self.hub.clock,
            on_drop=self._dropped,
            on_empty=self._forget,
        )
        self.rooms[key] = room
        task = asyncio.create_task(self._backfill(room, runner), name=f"spectate:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return room

    def _full(self, room: Room, conn: Connection) -> bool:
        return conn not in room.of and room.count >= self._settings.max_spectators

    def _dropped(self, room: Room, conn: Connection) -> None:
        if self._of.get(conn) is room:
            del self._of[conn]
        self.hub.metrics.spectators.set(len(self._of))

    def _forget(self, room: Room) -> None:
        if self.rooms.get(room.match_id) is room and not room.count:
            del self.rooms[room.match_id]
            room.close()
        self.hub.metrics.spectators.set(len(self._of))

    async def _backfill(self, room: Room, runner: MatchRunner) -> None:
        """Read the match's log so far (the records the runner has written: later ones
        are fed to the room as they are written) and start the room with it."""
        hub = self.hub
        try:
            base = runner.flushed
            packed: list[bytes] = []
            for _ in range(BACKFILL_TRIES):
                packed = await hub.store.packed_log(runner.match_id, base)
                if len(packed) >= base:
                    break
            if not packed or len(packed) < base:
                raise RuntimeError(f"the match log has {len(packed)} of {base} records")
            if len(packed) <= INLINE_RECORDS:
                log = [unpack(r) for r in packed]
            else:
                log = await asyncio.to_thread(lambda: [unpack(r) for r in packed])
            config = log[0]["d"]["config"]
            aliases, shown = seat_names(config)
            bots = [bool(s.get("is_bot")) for s in config["seats"]]
            players = [str(s["player"]) for s in config["seats"]]
            seats = await seat_facts(hub.pool, players, aliases, shown, bots)
            hidden = frozenset(i for i, s in enumerate(seats) if s.deleted)
            delay, now = room.delay, hub.clock.now()
            if len(log) <= INLINE_RECORDS:
                backfill = Backfill.read(log, hidden, delay, now)
            else:
                backfill = await asyncio.to_thread(Backfill.read, log, hidden, delay, now)
            room.begin(backfill, seats)
        except asyncio.CancelledError:
            room.fail(RuntimeError("cancelled"))
            raise
        except Exception as exc:
            runner.log.warning("spectate_backfill_failed", error=repr(exc))
            room.fail(exc)

"""A node's private lobbies: rosters, rounds, teacher controls (docs/lobbies.md).

The live state of a lobby (who is in it and connected, the current round's matches, the
teacher's sockets) is held by the node that created it (``lobbies.node_id``); everything
that must outlive the process is in PostgreSQL (``server.lobbies.store``).  A lobby is
loaded into memory the first time someone joins or watches it (after a restart too: the
round's matches are rebuilt by the hub, and the lobby becomes their observer again).

Who may do what:

- ``lobby.join`` (code): any signed-in account but a bot; in a class's lobby only the
  class's members (``not_in_class``).  Refused when the lobby is locked, full
  (``lobbies.members``) or the player was banned.  A player is in one lobby at a time
  on a node; joining another leaves the first.
- ``lobby.watch``, ``lobby.kick``, ``lobby.lock``, ``lobby.message`` and ``teacher.*``:
  the lobby's teacher or an admin (the role is read from PostgreSQL), on a socket that
  watches the lobby; at most ``lobbies.actions_per_minute`` actions per lobby.

``teacher.start`` with no round playing splits the connected members into parties
(:mod:`server.lobbies.parties`) and creates one match per party on this node; each
student gets ``lobby.seat`` and sends ``match.join``.  While a round plays it starts
the matches still in their lobby phase.  ``teacher.pause`` / ``resume`` / ``extend`` go
to every match of the round whose clock allows it (refused when none does).  A round
ends when all its matches closed; the teacher may then start the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from server.classes import codes
from server.classes import store as cstore
from server.errors import InvalidTransition, QuillError
from server.game import Extend, Input, Pause, Phase, Resume, Start
from server.game.controls import CLOCK_PHASES
from server.lobbies import store
from server.lobbies.live import LiveView
from server.lobbies.parties import CannotSplit, Rated, form_parties
from server.lobbies.rules import LobbyRules
from server.protocol import ErrorCode, Message, ProtocolError, TokenBucket, lobby_events
from server.protocol.errors import RefusalCode
from server.realtime.connection import Connection
from server.storage.matches import ratings_for
from server.types import MatchId, PlayerId

if TYPE_CHECKING:
    from server.realtime.hub import Hub
    from server.realtime.runner import MatchRunner

log = structlog.get_logger("quill.lobby")
POD_HOST = "your pod"  # who a pod session's lobby is "with" (it has no teacher)
MANAGERS = ("teacher", "admin")


@dataclass(slots=True)
class Member:
    player: PlayerId
    name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class Placed:
    """A match of the lobby's current round."""

    match_id: MatchId
    round: int
    party: int
    players: tuple[PlayerId, ...]
    bots: int


@dataclass(eq=False)
class Lobby:
    id: str
    teacher_id: str
    teacher_name: str
    class_id: str | None
    name: str
    code: str
    rules: LobbyRules
    locked: bool
    closed: bool
    round: int
    bucket: TokenBucket
    members: dict[PlayerId, Member] = field(default_factory=dict)
    banned: set[PlayerId] = field(default_factory=set)
    names: dict[PlayerId, str] = field(default_factory=dict)  # everyone ever seen here
    matches: dict[MatchId, Placed] = field(default_factory=dict)  # the current round's
    over: set[MatchId] = field(default_factory=set)  # of those, the closed ones
    seats: dict[PlayerId, tuple[MatchId, str]] = field(default_factory=dict)  # → seat token
    playing: bool = False
    prompt_id: str = ""
    parties: tuple[lobby_events.PartyView, ...] = ()
    skipped: tuple[str, ...] = ()
    watchers: set[Connection] = field(default_factory=set)
    flags: list[lobby_events.LobbyFlag] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    live: LiveView | None = None
    pod_id: str | None = None  # a study pod's session lobby: its members join, nobody manages

    def name_of(self, player: PlayerId) -> str:
        return self.names.get(player, "")

    def to_watchers(self, event: Message) -> None:
        for conn in list(self.watchers):
            conn.send_event(event)

    @property
    def status(self) -> lobby_events.LobbyStatus:
        return "closed" if self.closed else ("playing" if self.playing else "open")

    def view(self) -> lobby_events.LobbyView:
        return lobby_events.LobbyView(
            lobby_id=self.id,
            name=self.name,
            code=codes.show(self.code),
            class_id=self.class_id,
            status=self.status,
            locked=self.locked,
            round=self.round,
            members=len(self.members),
        )

    def seat_of(self, player: PlayerId) -> Placed | None:
        return next((p for p in self.matches.values() if player in p.players), None)


class LobbyHost:
    """The lobbies this node hosts; owned by the :class:`~server.realtime.hub.Hub`."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.lobbies: dict[str, Lobby] = {}
        self.open_codes: dict[str, str] = {}  # code → lobby id
        self.member_of: dict[PlayerId, str] = {}
        self._loading = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- finding lobbies -----------------------------------------------------------------

    async def _load(self, row: store.LobbyRow) -> Lobby:
        """The lobby in memory, from PostgreSQL (its members, its playing round)."""
        async with self._loading:
            found = self.lobbies.get(row.id)
            if found is not None:
                return found
            if row.node_id != self.hub.node_id:
                raise ProtocolError(
                    ErrorCode.LOBBY_ELSEWHERE,
                    "this lobby is hosted by another server node; connect to that node",
                )
            rate = self.hub.settings.lobbies.actions_per_minute / 60
            lobby = Lobby(
                id=row.id,
                teacher_id=row.teacher_id,
                teacher_name=row.teacher_name,
                class_id=row.class_id,
                name=row.name,
                code=row.code,
                rules=row.rules,
                locked=row.locked,
                closed=row.closed_at is not None,
                round=row.rounds,
                bucket=TokenBucket(rate, max(1.0, rate * 10), asyncio.get_running_loop().time()),
                pod_id=row.pod_id,
            )
            lobby.live = LiveView(self, lobby)
            pg = self.hub.pool
            for m in await store.members(pg, row.id):
                lobby.names[PlayerId(m.user_id)] = m.name
                if m.banned:
                    lobby.banned.add(PlayerId(m.user_id))
                if m.active and not lobby.closed:
                    lobby.members[PlayerId(m.user_id)] = Member(
                        PlayerId(m.user_id), m.name, m.username
                    )
            if row.playing:
                await self._readopt(lobby)
            self.lobbies[lobby.id] = lobby
            if not lobby.closed:
                self.open_codes[lobby.code] = lobby.id
                for player in lobby.members:
                    self._move_in(player, lobby.id)
            return lobby

    async def _readopt(self, lobby: Lobby) -> None:
        """After a restart: observe the round's matches the hub rebuilt; a round whose
        matches are all gone is over."""
        parties = await store.round_matches(self.hub.pool, lobby.id, lobby.round)
        for p in parties:
            placed = Placed(
                MatchId(p.match_id),
                lobby.round,
                p.party,
                tuple(PlayerId(x) for x in p.players),
                p.bots,
            )
            lobby.matches[placed.match_id] = placed
            runner = self.hub.runners.get(placed.match_id)
            if runner is None or runner.closed:
                lobby.over.add(placed.match_id)
            else:
                runner.observer = lobby.live
        lobby.playing = bool(lobby.matches) and len(lobby.over) < len(lobby.matches)
        if not lobby.playing:
            await store.end_round(self.hub.pool, lobby.id, lobby.round)

    async def by_id(self, lobby_id: str) -> Lobby:
        lobby = self.lobbies.get(lobby_id)
        if lobby is not None:
            return lobby
        parsed = cstore.as_uuid(lobby_id)
        row = None if parsed is None else await store.lobby_by_id(self.hub.pool, parsed)
        if row is None:
            raise ProtocolError(ErrorCode.LOBBY_NOT_FOUND, "no such lobby")
        return await self._load(row)

    async def by_code(self, typed: str) -> Lobby:
        problem = codes.code_problem(typed, store.CODE_LENGTH)
        if problem is not None:
            raise ProtocolError(ErrorCode.BAD_CODE, f"d.code: {problem}", path="d.code")
        code = codes.normalize(typed)
        lobby_id = self.open_codes.get(code)
        if lobby_id is not None and not self.lobbies[lobby_id].closed:
            return self.lobbies[lobby_id]
        row = await store.open_lobby_by_code(self.hub.pool, code)
        if row is None:
            raise ProtocolError(
                ErrorCode.LOBBY_NOT_FOUND,
                "no open lobby has this code: check it with your teacher",
            )
        return await self._load(row)

    async def refresh(self, lobby_id: str) -> None:
        """The lobby changed over REST (name, rules, closed): take it in if loaded here."""
        lobby = self.lobbies.get(lobby_id)
        parsed = cstore.as_uuid(lobby_id)
        if lobby is None or parsed is None:
            return
        row = await store.lobby_by_id(self.hub.pool, parsed)
        if row is None:
            return
        lobby.name, lobby.rules, lobby.locked = row.name, row.rules, row.locked
        if row.closed_at is not None and not lobby.closed:
            self._close(lobby)
        else:
            self._tell_members(lobby)
            lobby.to_watchers(self._roster(lobby))

    def _close(self, lobby: Lobby) -> None:
        lobby.closed = True
        if self.open_codes.get(lobby.code) == lobby.id:
            del self.open_codes[lobby.code]
        for player in list(lobby.members):
            self._state_to(player, lobby, "closed")
            if self.member_of.get(player) == lobby.id:
                del self.member_of[player]
        lobby.members.clear()
        lobby.to_watchers(self._roster(lobby))
        if not lobby.playing:
            self._forget(lobby)

    def _forget(self, lobby: Lobby) -> None:
        if lobby.live is not None:
            lobby.live.stop()
        for conn in lobby.watchers:
            if conn.watching == lobby.id:
                conn.watching = None
        lobby.watchers.clear()
        self.lobbies.pop(lobby.id, None)

    # --- students ------------------------------------------------------------------------

    async def join(self, conn: Connection, typed: str) -> None:
        if conn.role == "bot":
            raise ProtocolError(ErrorCode.FORBIDDEN, "bots do not join lobbies")
        lobby = await self.by_code(typed)
        player = conn.player
        if lobby.pod_id is not None:
            if not await _in_pod(self.hub.pool, lobby.pod_id, player):
                raise ProtocolError(ErrorCode.LOBBY_NOT_FOUND, "no open lobby has this code")
        elif player == lobby.teacher_id:
            raise ProtocolError(
                ErrorCode.FORBIDDEN, "you run this lobby: watch it with lobby.watch"
            )
        if player in lobby.banned:
            raise ProtocolError(ErrorCode.LOBBY_BANNED, "the teacher removed you from this lobby")
        if player in lobby.members:
            self._state_to(player, lobby, "in")
            self._seat_to(player, lobby)
            return
        if lobby.locked:
            raise ProtocolError(ErrorCode.LOBBY_LOCKED, "the teacher locked this lobby")
        cap = self.hub.settings.lobbies.members
        if len(lobby.members) >= cap:
            raise ProtocolError(ErrorCode.LOBBY_FULL, f"this lobby is full ({cap} players)")
        user = await store.user_brief(self.hub.pool, player)
        if user is None:
            raise ProtocolError(ErrorCode.FORBIDDEN, "this account cannot join lobbies")
        if lobby.class_id is not None and not await cstore.is_member(
            self.hub.pool, uuid.UUID(lobby.class_id), player
        ):
            raise ProtocolError(
                ErrorCode.NOT_IN_CLASS,
                "this lobby is for another class: check the code with your teacher",
            )
        if player in lobby.members or lobby.closed:  # joined (or closed) while we asked
            self._state_to(player, lobby, "in" if player in lobby.members else "closed")
            return
        if len(lobby.members) >= cap:
            raise ProtocolError(ErrorCode.LOBBY_FULL, f"this lobby is full ({cap} players)")
        member = Member(player, user["display_name"], user["handle"])
        lobby.members[player] = member
        lobby.names[player] = member.name
        previous = self._move_in(player, lobby.id)
        if previous is not None:
            await self._leave(previous, player, kicked=False, banned=False)
        try:
            await store.join(self.hub.pool, lobby.id, player)
        except BaseException:
            lobby.members.pop(player, None)
            if self.member_of.get(player) == lobby.id:
                del self.member_of[player]
            raise
        self._state_to(player, lobby, "in")
        lobby.to_watchers(self._member_event(lobby, player, "joined"))

    def _move_in(self, player: PlayerId, lobby_id: str) -> Lobby | None:
        """Record that ``player`` is in ``lobby_id``; the lobby they were in before."""
        old = self.member_of.get(player)
        self.member_of[player] = lobby_id
        if old is None or old == lobby_id:
            return None
        return self.lobbies.get(old)

    async def leave(self, conn: Connection) -> None:
        lobby_id = self.member_of.get(conn.player)
        lobby = None if lobby_id is None else self.lobbies.get(lobby_id)
        if lobby is None or conn.player not in lobby.members:
            raise ProtocolError(ErrorCode.NOT_A_MEMBER, "you are in no lobby")
        await self._leave(lobby, conn.player, kicked=False, banned=False)
        if self.member_of.get(conn.player) == lobby.id:
            del self.member_of[conn.player]

    async def _leave(self, lobby: Lobby, player: PlayerId, *, kicked: bool, banned: bool) -> None:
        if lobby.members.pop(player, None) is None:
            return
        if banned:
            lobby.banned.add(player)
        await store.leave(self.hub.pool, lobby.id, player, kicked=kicked, banned=banned)
        you = "banned" if banned else ("kicked" if kicked else "left")
        self._state_to(player, lobby, you)
        change = "banned" if banned else ("kicked" if kicked else "left")
        lobby.to_watchers(self._member_event(lobby, player, change))

    def resumed(self, conn: Connection) -> None:
        """A socket of a member opened (``session.resume``): its lobby state, and the
        roster shows the member connected."""
        lobby_id = self.member_of.get(conn.player)
        lobby = None if lobby_id is None else self.lobbies.get(lobby_id)
        if lobby is None or conn.player not in lobby.members:
            return
        conn.send_event(self._state(lobby, "in"))
        if len(self._sockets(conn.player)) == 1:
            lobby.to_watchers(self._member_event(lobby, conn.player, "connected"))

    def gone(self, conn: Connection) -> None:
        """A socket closed (``Hub.remove``): no longer a watcher; a member whose last
        socket it was shows as disconnected."""
        lobby_id = conn.watching
        conn.watching = None
        if lobby_id is not None and (watched := self.lobbies.get(lobby_id)) is not None:
            watched.watchers.discard(conn)
        lobby_id = self.member_of.get(conn.player)
        lobby = None if lobby_id is None else self.lobbies.get(lobby_id)
        if lobby is not None and conn.player in lobby.members and not self._sockets(conn.player):
            lobby.to_watchers(self._member_event(lobby, conn.player, "disconnected"))

    # --- the teacher ---------------------------------------------------------------------

    async def watch(self, conn: Connection, lobby_id: str) -> None:
        lobby = await self.by_id(lobby_id)
        await self._check_manager(conn, lobby)
        previous = conn.watching
        if previous is not None and previous != lobby.id and previous in self.lobbies:
            self.lobbies[previous].watchers.discard(conn)
        conn.watching = lobby.id
        lobby.watchers.add(conn)
        conn.send_event(self._roster(lobby))
        if lobby.matches:
            conn.send_event(self._round_event(lobby))
            now = self.hub.clock.now()
            for match_id in lobby.matches:
                runner = self.hub.runners.get(match_id)
                if runner is not None and lobby.live is not None:
                    for event in lobby.live.snapshot(runner, now):
                        conn.send_event(event)
        for flag in lobby.flags:
            conn.send_event(flag)

    async def _check_manager(self, conn: Connection, lobby: Lobby) -> None:
        if conn.player == lobby.teacher_id and lobby.pod_id is None:
            return
        user = await store.user_brief(self.hub.pool, conn.player)
        if user is None or user["role"] != "admin":
            raise ProtocolError(ErrorCode.FORBIDDEN, "only the lobby's teacher may do this")

    def watched(self, conn: Connection) -> Lobby:
        """The lobby this socket watches, or ``not_watching`` / ``forbidden``."""
        lobby = None if conn.watching is None else self.lobbies.get(conn.watching)
        if lobby is None:
            if conn.role in MANAGERS:
                raise ProtocolError(
                    ErrorCode.NOT_WATCHING, "send lobby.watch with your lobby's id first"
                )
            raise ProtocolError(ErrorCode.FORBIDDEN, "only the lobby's teacher may do this")
        return lobby

    def _act(self, lobby: Lobby) -> None:
        """One teacher action against the lobby's rate (``lobbies.actions_per_minute``)."""
        now = asyncio.get_running_loop().time()
        if not lobby.bucket.take(now):
            raise ProtocolError(
                ErrorCode.TOO_MANY_ACTIONS,
                f"at most {self.hub.settings.lobbies.actions_per_minute} actions a minute",
                retry_after_ms=max(1, round(lobby.bucket.retry_after(now) * 1000)),
            )

    async def kick(self, conn: Connection, player_id: str, ban: bool) -> None:
        lobby = self.watched(conn)
        self._act(lobby)
        player = PlayerId(player_id)
        if player not in lobby.members:
            if ban and player in lobby.names:
                lobby.banned.add(player)
                await store.leave(self.hub.pool, lobby.id, player, kicked=True, banned=True)
                return
            raise ProtocolError(
                ErrorCode.NOT_A_MEMBER, "this player is not in the lobby", path="d.player_id"
            )
        await self._leave(lobby, player, kicked=True, banned=ban)
        if self.member_of.get(player) == lobby.id:
            del self.member_of[player]

    async def lock(self, conn: Connection, locked: bool) -> None:
        lobby = self.watched(conn)
        self._act(lobby)
        if lobby.closed:
            raise ProtocolError(ErrorCode.LOBBY_CLOSED, "this lobby is closed")
        await store.set_locked(self.hub.pool, lobby.id, locked)
        lobby.locked = locked
        self._tell_members(lobby)
        lobby.to_watchers(self._roster(lobby))

    async def message(self, conn: Connection, text: str) -> None:
        lobby = self.watched(conn)
        self._act(lobby)
        notice = lobby_events.LobbyNotice(lobby_id=lobby.id, teacher=lobby.teacher_name, text=text)
        for player in lobby.members:
            for sock in self._sockets(player):
                sock.send_event(notice)
        lobby.to_watchers(notice)

    async def start(self, conn: Connection) -> None:
        lobby = self.watched(conn)
        self._act(lobby)
        if lobby.closed:
            raise ProtocolError(ErrorCode.LOBBY_CLOSED, "this lobby is closed")
        async with lobby.lock:
            if lobby.playing:
                targets = [r for r in self._runners(lobby) if r.match.phase is Phase.LOBBY]
                if not targets:
                    raise InvalidTransition(
                        RefusalCode.WRONG_PHASE, "every match of this round has started"
                    )
                for runner in targets:
                    runner.control(Start())
                return
            await self._start_round(lobby, conn.player)

    async def start_scheduled(self, lobby_id: str, started_by: str) -> bool:
        """Start a round with no teacher's socket (a pod session's lobby at its start
        time, ``server/pods/scheduler.py``); False if it cannot start now (nobody
        connected, too few without bots, a round playing, closed)."""
        lobby = await self.by_id(lobby_id)
        async with lobby.lock:
            if lobby.closed or lobby.playing:
                return False
            try:
                await self._start_round(lobby, PlayerId(started_by))
            except ProtocolError as exc:
                log.info("lobby_scheduled_start_refused", lobby_id=lobby_id, error=str(exc))
                return False
        return True

    def control(self, conn: Connection, action: str, seconds: float = 0.0) -> None:
        """``teacher.pause`` / ``resume`` / ``extend`` for every match of the round."""
        lobby = self.watched(conn)
        self._act(lobby)
        runners = self._runners(lobby)
        if not runners:
            raise InvalidTransition(RefusalCode.WRONG_PHASE, "no round is playing")
        clocked = [r for r in runners if r.match.phase in CLOCK_PHASES]
        if not clocked:
            raise InvalidTransition(RefusalCode.WRONG_PHASE, "this phase has no clock to change")
        event: Input
        if action == "pause":
            targets = [r for r in clocked if r.match.state.paused_at is None]
            event, code, why = Pause(), RefusalCode.PAUSED, "the clock is already paused"
        elif action == "resume":
            targets = [r for r in clocked if r.match.state.paused_at is not None]
            event, code, why = Resume(), RefusalCode.NOT_PAUSED, "the clock is not paused"
        else:
            targets = [r for r in clocked if r.match.state.deadline is not None]
            event, code, why = Extend(seconds), RefusalCode.WRONG_PHASE, "nothing to extend"
        if not targets:
            raise InvalidTransition(code, why)
        for runner in targets:
            runner.control(event)

    def _runners(self, lobby: Lobby) -> list[MatchRunner]:
        found = (self.hub.runners.get(m) for m in lobby.matches if m not in lobby.over)
        return [r for r in found if r is not None and not r.closed]

    # --- rounds --------------------------------------------------------------------------

    async def _start_round(self, lobby: Lobby, started_by: PlayerId) -> None:
        hub, pg = self.hub, self.hub.pool
        parsed = cstore.as_uuid(lobby.id)
        row = None if parsed is None else await store.lobby_by_id(pg, parsed)
        if row is not None:  # changed over REST, maybe on another node
            lobby.rules, lobby.name = row.rules, row.name
        rules = lobby.rules
        present = [p for p in lobby.members if self._sockets(p)]
        skipped = [p for p in present if p in hub.seated]
        players = [p for p in present if p not in hub.seated]
        ratings = await ratings_for(pg, players) if players else {}
        seed = secrets.randbits(31)
        bots = rules.bots and hub.settings.bots.enabled
        try:
            parties = form_parties(
                [Rated(p, *ratings[p]) for p in players],
                rules.party_min,
                rules.party_max,
                bots=bots,
                split=rules.split,
                seed=seed,
            )
        except CannotSplit as exc:
            raise ProtocolError(ErrorCode.CANNOT_SPLIT, str(exc)) from None
        try:
            prompt = rules.prompt_for_round(hub.prompts, lobby.id, seed)
        except LookupError as exc:
            raise ProtocolError(
                ErrorCode.BAD_VALUE, f"{exc}: choose another prompt for this lobby"
            ) from None
        round_no = lobby.round + 1
        async with pg.acquire() as db:
            await store.start_round(db, lobby.id, round_no, prompt.id, started_by)
        lobby.round, lobby.playing, lobby.prompt_id = round_no, True, prompt.id
        lobby.matches, lobby.over = {}, set()
        settings = rules.match_settings(hub.settings.match)
        views: list[lobby_events.PartyView] = []
        records: list[store.PartyRecord] = []
        seats: dict[PlayerId, tuple[MatchId, str]] = {}
        for index, party in enumerate(parties, start=1):
            match_id = MatchId(str(uuid.uuid4()))
            placed = Placed(match_id, round_no, index, party.players, party.bots)
            lobby.matches[match_id] = placed
            names = () if rules.anonymous else _distinct([lobby.name_of(p) for p in party.players])
            try:
                created = await hub.create_match(
                    party.players,
                    party.bots,
                    ranked=rules.ranked,
                    seed=(seed + index) % 2**31,
                    match_id=match_id,
                    prompt=prompt,
                    match_settings=settings,
                    focus=rules.focus,
                    names=names,
                    observer=lobby.live,
                )
            except (QuillError, ValueError) as exc:
                log.warning("lobby_match_refused", lobby_id=lobby.id, error=str(exc))
                del lobby.matches[match_id]
                skipped.extend(party.players)
                continue
            runner = hub.runners.get(match_id)
            aliases = (
                {} if runner is None else {s.player: s.alias for s in runner.match.state.seats}
            )
            views.append(
                lobby_events.PartyView(
                    party=index,
                    match_id=match_id,
                    players=tuple(
                        lobby_events.PartyPlayer(
                            player_id=p, name=lobby.name_of(p), alias=aliases.get(p, "")
                        )
                        for p in party.players
                    ),
                    bots=party.bots,
                    quality=round(party.quality, 4),
                )
            )
            records.append(store.PartyRecord(match_id, index, party.players, party.bots))
            for p, token in created.seats.items():
                seats[p] = (match_id, token)
        if not lobby.matches:
            lobby.playing = False
            lobby.round -= 1
            await store.delete_round(pg, lobby.id, round_no)
            raise ProtocolError(ErrorCode.UNAVAILABLE, "no match of the round could start")
        await store.record_matches(pg, lobby.id, round_no, records)
        lobby.parties, lobby.skipped = tuple(views), tuple(skipped)
        log.info("lobby_round_started", lobby_id=lobby.id, round=round_no, matches=len(views))
        for player, (match_id, token) in seats.items():
            seat = lobby_events.LobbySeat(
                lobby_id=lobby.id,
                round=round_no,
                match_id=match_id,
                node_url=self._node_url(player),
                seat_token=token,
            )
            for sock in self._sockets(player):
                sock.send_event(seat)
        lobby.seats = seats
        self._tell_members(lobby)
        lobby.to_watchers(self._round_event(lobby))
        now = hub.clock.now()
        for match_id in lobby.matches:
            runner = hub.runners.get(match_id)
            if runner is not None and lobby.live is not None:
                for event in lobby.live.snapshot(runner, now):
                    lobby.to_watchers(event)

    def match_over(self, lobby: Lobby, match_id: MatchId) -> None:
        """A match of the round closed (the runner's observer says so)."""
        if match_id in lobby.over or match_id not in lobby.matches:
            return
        lobby.over.add(match_id)
        if len(lobby.over) < len(lobby.matches) or not lobby.playing:
            return
        lobby.playing = False
        log.info("lobby_round_ended", lobby_id=lobby.id, round=lobby.round)
        self._spawn(store.end_round(self.hub.pool, lobby.id, lobby.round), "lobby-round-end")
        lobby.to_watchers(self._round_event(lobby))
        if lobby.closed:
            self._forget(lobby)
        else:
            self._tell_members(lobby)

    # --- events --------------------------------------------------------------------------

    def _sockets(self, player: PlayerId) -> list[Connection]:
        return [
            c
            for c in self.hub.by_player.get(player, ())
            if not c.closing and c.session_token is not None
        ]

    def _node_url(self, player: PlayerId) -> str:
        socks = self._sockets(player)
        return socks[0].node_url if socks else ""

    def _state(self, lobby: Lobby, you: str) -> lobby_events.LobbyState:
        return lobby_events.LobbyState(
            lobby=lobby.view(),
            teacher=lobby.teacher_name if lobby.pod_id is None else POD_HOST,
            you=you,  # type: ignore[arg-type]
        )

    def _state_to(self, player: PlayerId, lobby: Lobby, you: str) -> None:
        event = self._state(lobby, you)
        for sock in self._sockets(player):
            sock.send_event(event)

    def _seat_to(self, player: PlayerId, lobby: Lobby) -> None:
        """A member who comes back during a round gets their seat again."""
        placed = lobby.seat_of(player)
        if placed is None or placed.match_id in lobby.over or player not in lobby.seats:
            return
        match_id, token = lobby.seats[player]
        seat = lobby_events.LobbySeat(
            lobby_id=lobby.id,
            round=lobby.round,
            match_id=match_id,
            node_url=self._node_url(player),
            seat_token=token,
        )
        for sock in self._sockets(player):
            sock.send_event(seat)

    def _tell_members(self, lobby: Lobby) -> None:
        event = self._state(lobby, "in")
        for player in lobby.members:
            for sock in self._sockets(player):
                sock.send_event(event)

    def _member_view(self, lobby: Lobby, player: PlayerId) -> lobby_events.MemberView:
        member = lobby.members.get(player)
        placed = lobby.seat_of(player)
        return lobby_events.MemberView(
            player_id=player,
            name=lobby.name_of(player),
            username=None if member is None else member.username,
            connected=bool(self._sockets(player)),
            match_id=None if placed is None or placed.match_id in lobby.over else placed.match_id,
        )

    def _member_event(
        self, lobby: Lobby, player: PlayerId, change: str
    ) -> lobby_events.LobbyMember:
        return lobby_events.LobbyMember(
            lobby_id=lobby.id,
            change=change,  # type: ignore[arg-type]
            member=self._member_view(lobby, player),
            members=len(lobby.members),
        )

    def _roster(self, lobby: Lobby) -> lobby_events.LobbyRoster:
        members = sorted(lobby.members, key=lambda p: (lobby.name_of(p).casefold(), p))
        return lobby_events.LobbyRoster(
            lobby=lobby.view(), members=tuple(self._member_view(lobby, p) for p in members)
        )

    def _round_event(self, lobby: Lobby) -> lobby_events.LobbyRound:
        return lobby_events.LobbyRound(
            lobby_id=lobby.id,
            round=lobby.round,
            status="playing" if lobby.playing else "ended",
            prompt_id=lobby.prompt_id,
            parties=lobby.parties,
            skipped=lobby.skipped,
        )

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception as exc:
                log.warning("lobby_task_failed", task=name, error=repr(exc))

        task = asyncio.create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for lobby in list(self.lobbies.values()):
            if lobby.live is not None:
                lobby.live.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


async def _in_pod(pool: store.Db, pod_id: str, player: PlayerId) -> bool:
    """Whether ``player`` is a member of the pod (a pod lobby admits only its members)."""
    found = cstore.as_uuid(player)
    return found is not None and bool(
        await pool.fetchval(
            "SELECT 1 FROM pod_members WHERE pod_id = $1 AND user_id = $2",
            uuid.UUID(pod_id),
            found,
        )
    )


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    """Names shown in a match must differ: a second "Maria L." becomes "Maria L. (2)"."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name.casefold(), 0) + 1
        seen[name.casefold()] = n
        out.append(name if n == 1 else f"{name} ({n})")
    return tuple(out)

"""The realtime part of one node: its matches, its sockets, its sessions.

Built and started by :func:`server.realtime.lifecycle.realtime_context` (a
``cleanup_ctx``) after the pools and AI engines, stopped before them.

- :meth:`Hub.start` rebuilds every match Redis lists for this node id, then starts the
  session refresher; clients reconnect into those matches with ``session.resume``.
- :meth:`Hub.create_match` starts a match (admin route, quick play; the matchmaker
  later); :meth:`Hub.quickplay` is one human plus bot seats.
- :meth:`Hub.shutdown` (``on_shutdown``) refuses new sockets and matches, checkpoints
  every match, and closes every socket with 1001; :meth:`Hub.close` is the last step.

Revocations: from :meth:`Hub.start` on, the hub listens on the Redis channel
``quill:revocations`` (``server.api.session``), on a connection of its own outside the
node's pool, and closes the sockets of a revoked session (or of every session of a
deleted or disabled account) with 1008 ``session_revoked``.
When the subscription is lost it subscribes again and re-checks every socket against the
revoked keys, so a message published meanwhile is not missed; a revocation heard in the
last minute also closes a socket whose handshake raced with it.

Sockets per account: at most ``limits.sockets_per_account`` open sockets per account on
this node (bots exempt); a new one beyond that closes the account's oldest with 1008
``too_many_sockets``.  The cap is per node: a client spread over nodes (a player moving to
the node of their match) may hold that many on each.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection as RedisConnection

from server.ai.build import offline_engines
from server.ai.content import load_prompts
from server.ai.types import Engines, Prompt, Trait
from server.api.session import (
    REVOCATIONS,
    Revocation,
    revocation_holds,
    revoked_key,
    revoked_user_key,
)
from server.config import MatchSettings, Settings
from server.errors import QuillError
from server.game import Match, MatchConfig, SeatSpec, replay
from server.lobbies.host import LobbyHost
from server.matchqueue import keys as mmkeys
from server.matchqueue import queue as mmqueue
from server.matchqueue.messages import Assignment, BotRequest, MatchFound, QueueTicket
from server.matchqueue.node import NodeLink
from server.metrics import Registry
from server.notifications import push as notification_push
from server.notifications.store import CHANNEL as NOTIFICATIONS
from server.protocol import events as ev
from server.realtime.ai import AIService, OfflineFallback
from server.realtime.clock import Clock
from server.realtime.connection import (
    GOING_AWAY,
    POLICY,
    SESSION_REVOKED,
    TOO_MANY_SOCKETS,
    Connection,
)
from server.realtime.metrics import RealtimeMetrics
from server.realtime.runner import MatchObserver, MatchRunner
from server.realtime.sessions import SessionStore
from server.realtime.store import MatchStore
from server.realtime.tuning import Tuning
from server.spectate.service import Spectating
from server.storage.matches import DEFAULT_MU, is_bot, ratings_for
from server.types import MatchId, NodeId, PlayerId, SeatToken, SessionToken

log = structlog.get_logger("quill.realtime")

ASSIGNED_MEMORY_S = 86_400  # how long a hosted assignment's id is remembered (dedupe)
BOT_SKILL_STEP = 0.15  # bot n plays at default_skill + (n - 2) · step, within 0..1
REVOCATION_POLL_S = 1.0  # how long one read of the revocation channel waits
REVOCATION_RETRY_S = 1.0  # pause before subscribing again after losing the channel
RECENT_REVOCATION_S = 60.0  # how long a heard revocation also refuses new sockets


class Unavailable(QuillError):
    """The node cannot take this now (draining, bots disabled)."""


class AlreadySeated(Unavailable):
    """A player already holds a seat in a running match on this node."""


@dataclass(frozen=True, slots=True)
class CreatedMatch:
    match_id: MatchId
    seats: dict[PlayerId, str]  # human player → seat token
    bots: tuple[PlayerId, ...]
    prompt_id: str


class Hub:
    def __init__(
        self,
        *,
        settings: Settings,
        node_id: NodeId,
        redis: Redis,
        pool: asyncpg.Pool,
        engines: Engines,
        registry: Registry,
        tuning: Tuning,
        offline: Engines | None = None,
        pubsub: ConnectionPool | None = None,
    ) -> None:
        self.settings = settings
        self.node_id = node_id
        self.redis = redis
        # The revocation channel holds a connection for good: from the node's bounded pool
        # it would leave one fewer for commands (the node passes a pool of its own).
        self.pubsub = pubsub if pubsub is not None else redis.connection_pool
        self.pool = pool
        self.engines = engines
        self.tuning = tuning
        self.metrics = RealtimeMetrics(registry)
        self.clock = Clock()
        self.store = MatchStore(redis, node_id, tuning.seat_ttl_seconds)
        self.sessions = SessionStore(
            redis, settings.match.reconnect_grace_seconds, tuning.session_refresh_seconds
        )
        self.ai = AIService(  # offline: the node's process pool (server.realtime.aipool)
            engines,
            offline if offline is not None else offline_engines(),
            concurrency=tuning.ai_concurrency,
            timeout=tuning.ai_timeout_seconds,
            metrics=self.metrics,
        )
        self.fallback = OfflineFallback(self.ai)
        self.runners: dict[MatchId, MatchRunner] = {}
        self.runners_changed = 0  # counts every match hosted or forgotten (the live list's cache)
        self.connections: set[Connection] = set()
        self.by_player: dict[PlayerId, list[Connection]] = {}  # oldest socket first
        self.by_session: dict[SessionToken, Connection] = {}
        self.seated: dict[PlayerId, MatchId] = {}  # humans → the running match they sit in
        self.draining = False
        self.queued: dict[PlayerId, tuple[str, float]] = {}  # queued here → (mode, mu)
        self.link: NodeLink | None = None
        self._updates: asyncio.Task[None] | None = None
        self.base_url = ""
        self._prompts: dict[str, Prompt] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._revocations: asyncio.Task[None] | None = None
        self._recent: dict[str, float] = {}  # "sid:<sid>" / "user:<id>" → heard at (loop time)
        self._recent_order: deque[tuple[float, str]] = deque()
        self._revoked_at: dict[PlayerId, int] = {}  # account → Unix second of its revocation
        self.lobbies = LobbyHost(self)  # private lobbies (server/lobbies)
        self.spectators = Spectating(self)  # live spectating (server/spectate)

    # --- start -----------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild this node's matches from Redis, then keep live sessions alive and listen
        for revocations (no socket is open before the node listens)."""
        for match_id in await self.store.hosted():
            try:
                await self._restore(match_id)
            except Exception:
                log.exception("match_restore_failed", match_id=match_id)
                with contextlib.suppress(Exception):
                    await self.store.quarantine(match_id)
        channel = await self._subscribe()
        self._revocations = asyncio.create_task(
            self._watch_revocations(channel), name="revocations"
        )
        self._refresher = asyncio.create_task(self._refresh_sessions(), name="session-refresh")

    async def _restore(self, match_id: MatchId) -> None:
        stored = await self.store.load(match_id)
        if stored.checkpoint is not None:
            match = Match.from_snapshot(stored.checkpoint, stored.log, self.fallback)
        elif stored.log:
            match, _ = replay(stored.log, self.fallback)
        else:  # listed but nothing written: the node died while creating it
            await self.store.forget(match_id)
            return
        remote = await self.store.remote_bots(match_id)
        runner = MatchRunner(self, match, flushed=len(stored.log), remote_bots=remote)
        self._host(runner)
        try:
            runner.restored()
        except BaseException:
            self.forget(runner)
            raise
        runner.start()
        log.info(
            "match_restored", match_id=match_id, phase=match.phase.value, records=len(stored.log)
        )

    # --- matches -----------------------------------------------------------------------

    @property
    def prompts(self) -> dict[str, Prompt]:
        if self._prompts is None:
            self._prompts = load_prompts()
        return self._prompts

    def bot_skill(self, index: int, config: MatchConfig | None = None) -> float:
        """Adaptive difficulty: bots play near the humans of their match.

        The humans' mean rating maps to a skill (μ 25 → ``bots.default_skill``, ±20 μ →
        ±0.5), and the bots spread a little around it so they do not write alike.
        """
        base = self.settings.bots.default_skill
        if config is not None:
            humans = [s.mu for s in config.seats if not s.is_bot]
            if humans:
                base += (sum(humans) / len(humans) - DEFAULT_MU) / 40
        return min(0.95, max(0.05, base + (index % 3 - 1) * BOT_SKILL_STEP))

    async def create_match(
        self,
        humans: Sequence[PlayerId],
        bots: int = 0,
        *,
        ranked: bool = True,
        prompt_id: str | None = None,
        seed: int | None = None,
        match_id: MatchId | None = None,
        seat_tokens: Mapping[PlayerId, str] | None = None,
        prompt: Prompt | None = None,
        match_settings: MatchSettings | None = None,
        focus: Trait | None = None,
        names: Sequence[str] = (),
        observer: MatchObserver | None = None,
    ) -> CreatedMatch:
        """Start a match on this node; returns a seat token per human.

        A private lobby also passes its own ``prompt`` (instead of ``prompt_id``),
        ``match_settings`` (instead of ``[match]``), ``focus``, the seats' ``names``
        when the lobby is not anonymous, and its live view as the ``observer``.

        Raises ``ValueError`` for a bad party and :class:`Unavailable` while draining.
        The match is durable (listed for this node, first records in Redis) on return.
        """
        if self.draining:
            raise Unavailable("this node is shutting down")
        if prompt_id is not None and prompt_id not in self.prompts:
            raise ValueError(f"unknown prompt {prompt_id!r}")
        busy = [p for p in humans if p in self.seated]
        if busy:
            raise AlreadySeated(f"{busy[0]} already holds a seat in match {self.seated[busy[0]]}")
        match_id = match_id or MatchId(str(uuid.uuid4()))
        # Held from here, not only once the match runs: a second match for the same player
        # (an assignment and a quick play at once) must see the seat taken.
        for p in humans:
            self.seated[p] = match_id
        extra = _Extra(prompt, match_settings, focus, tuple(names), observer)
        try:
            return await self._create(
                humans, bots, ranked, prompt_id, seed, match_id, seat_tokens, extra
            )
        except BaseException:
            for p in humans:
                if self.seated.get(p) == match_id and match_id not in self.runners:
                    del self.seated[p]
            raise

    async def _create(
        self,
        humans: Sequence[PlayerId],
        bots: int,
        ranked: bool,
        prompt_id: str | None,
        seed: int | None,
        match_id: MatchId,
        seat_tokens: Mapping[PlayerId, str] | None,
        extra: _Extra | None = None,
    ) -> CreatedMatch:
        extra = extra or _Extra()
        seed = secrets.randbits(31) if seed is None else seed
        prompt = (
            extra.prompt
            or self.prompts[prompt_id or random.Random(seed).choice(sorted(self.prompts))]
        )
        players = [*humans, *(PlayerId(f"bot:{n}") for n in range(1, bots + 1))]
        ratings = await ratings_for(self.pool, players)
        config = MatchConfig(
            match_id=match_id,
            prompt=prompt,
            seats=tuple(SeatSpec(p, is_bot(p), *ratings[p]) for p in players),
            seed=seed,
            ranked=ranked,
            level=prompt.level,
            settings=extra.match_settings or self.settings.match,
            draft_chars=self.settings.limits.draft_chars,
            focus=extra.focus,
            names=extra.names,
        )
        match, effects = Match.create(config, self.clock.now(), self.fallback)
        given = seat_tokens or {}
        tokens = {given.get(p) or "seat_" + secrets.token_urlsafe(16): p for p in humans}
        bot_players = [p for p in players if is_bot(p)]
        remote = bot_players if bot_players and await self._pool_alive() else []
        bot_tokens = {"seat_" + secrets.token_urlsafe(16): p for p in remote}
        await self.store.register(config.match_id, {**tokens, **bot_tokens}, remote)
        runner = MatchRunner(self, match, flushed=0, effects=effects, remote_bots=frozenset(remote))
        runner.observer = extra.observer
        self._host(runner)
        try:
            await runner.prime()
        except BaseException:
            self.forget(runner)
            raise
        runner.start()
        if bot_tokens:
            await self._request_bots(config, bot_tokens)
        # A ticket a seated player still has is stale (they queued again while this match
        # was being formed, e.g. from a new socket): left there, it would put them in a
        # second party, which could then not be hosted.
        await mmqueue.leave_all(self.redis, humans)
        log.info(
            "match_created",
            match_id=config.match_id,
            players=len(players),
            bots=bots,
            remote_bots=len(remote),
        )
        return CreatedMatch(
            config.match_id,
            {p: t for t, p in tokens.items()},
            tuple(p for p in players if is_bot(p)),
            prompt.id,
        )

    async def _pool_alive(self) -> bool:
        """A bot pool is running (its heartbeat key lives) and this node knows its own URL."""
        return bool(self.base_url) and bool(await self.redis.exists(mmkeys.BOTS_ALIVE))

    async def _request_bots(self, config: MatchConfig, tokens: Mapping[str, PlayerId]) -> None:
        """Ask the bot pool to play these seats (adaptive skill, like in-process bots)."""
        index = {s.player: i for i, s in enumerate(config.seats)}
        async with self.redis.pipeline(transaction=False) as pipe:
            for token, bot in tokens.items():
                request = BotRequest(
                    config.match_id,
                    self.base_url,
                    bot,
                    SeatToken(token),
                    self.bot_skill(index[bot], config),
                    time.time(),
                )
                pipe.xadd(
                    mmkeys.BOT_REQUESTS,
                    {"request": request.encode()},
                    maxlen=100_000,
                    approximate=True,
                )
            await pipe.execute()

    async def quickplay(self, player: PlayerId) -> CreatedMatch:
        """A ranked match now: this player and bots up to ``match.min_players``."""
        if not self.settings.bots.enabled:
            raise Unavailable("bots are disabled on this node")
        bots = max(1, self.settings.match.min_players - 1)
        return await self.create_match([player], bots, ranked=True)

    def _host(self, runner: MatchRunner) -> None:
        self.runners[runner.match_id] = runner
        self.runners_changed += 1
        for player in runner.humans:
            self.seated[player] = runner.match_id
        self.metrics.matches_running.set(len(self.runners))

    def forget(self, runner: MatchRunner) -> None:
        """The runner is done with its match (closed, or given up after a bug)."""
        if self.runners.get(runner.match_id) is runner:
            del self.runners[runner.match_id]
            self.runners_changed += 1
            self.spectators.match_stopped(runner.match_id)
        for seat in runner.match.state.seats:
            if self.seated.get(seat.player) == runner.match_id:
                del self.seated[seat.player]
        self.metrics.matches_running.set(len(self.runners))

    # --- matchmaking (server.matchqueue) -------------------------------------------------

    async def connect_matchmaking(self, base_url: str) -> None:
        """Announce this node at ``base_url`` and start hosting what the matchmaker assigns.

        Called once the node listens (its URL is known then); see ``server/node.py``.
        """
        self.base_url = base_url.rstrip("/")
        self.link = NodeLink(
            self.redis, self, self.node_id, self.base_url, self.settings.matchmaker.node_ttl_seconds
        )
        await self.link.start()
        self._updates = asyncio.create_task(self._queue_updates(), name="queue-updates")

    def load(self) -> int:
        """Players (humans and bots) in the matches this node hosts."""
        return sum(len(r.match.config.seats) for r in self.runners.values() if not r.closed)

    async def queue_join(self, player: PlayerId, mode: str) -> float | None:
        """Put ``player`` in the matchmaker's queue; returns the wait estimate in seconds,
        or None when a match seated them while the ticket was being written (their
        ``matched`` status comes, or came, as for anyone matched)."""
        if self.draining:
            raise Unavailable("this node is shutting down")
        if self.link is None:
            raise Unavailable("matchmaking is not running on this node")
        if player in self.seated:
            raise AlreadySeated(f"{player} already holds a seat in match {self.seated[player]}")
        mu, sigma = (await ratings_for(self.pool, [player]))[player]
        ticket = QueueTicket(player, mu, sigma, mode, time.time(), self.node_id)
        if not await mmqueue.join(self.redis, ticket):
            return None  # a match is being made for them; its matched status comes
        if player in self.seated:
            # Seated while we waited: either this very ticket was matched already (it is
            # gone), or an older one was and this one is stale: it must not stay.
            await mmqueue.leave(self.redis, player)
            return None
        self.queued[player] = (mode, mu)
        default = self.settings.matchmaker.bot_fill_after_seconds
        return await mmqueue.estimate(self.redis, mode, mu, default)

    async def _queue_updates(self) -> None:
        """Every ``queue_update_seconds``: each player queued here gets a fresh estimate."""
        default = self.settings.matchmaker.bot_fill_after_seconds
        while True:
            await asyncio.sleep(self.tuning.queue_update_seconds)
            queued = list(self.queued.items())
            try:  # one round trip for everyone queued here
                found = await mmqueue.estimates(self.redis, (q for _, q in queued), default)
            except Exception as exc:  # the next round tries again
                log.warning("queue_update_failed", error=repr(exc))
                continue
            statuses: dict[tuple[str, float], ev.QueueStatus] = {}
            for player, (mode, mu) in queued:
                if self.queued.get(player) != (mode, mu):
                    continue  # matched or left meanwhile
                status = statuses.get((mode, mu))
                if status is None:
                    status = statuses[mode, mu] = ev.QueueStatus(
                        status="queued", mode=mode, estimate_seconds=found[mode, mu]
                    )
                for conn in self.by_player.get(player, ()):
                    conn.send_event(status)

    async def queue_leave(self, player: PlayerId) -> bool:
        self.queued.pop(player, None)
        return await mmqueue.leave(self.redis, player)

    async def host_assignment(self, assignment: Assignment) -> None:
        """Create the match the matchmaker assigned here, once (assignments may repeat),
        then send each player's node a ``match.found`` for it."""
        marker = f"quill:assigned:{{{assignment.match_id}}}"
        seats = assignment.seats
        if await self.redis.set(marker, self.node_id, nx=True, ex=ASSIGNED_MEMORY_S):
            # A player who already plays here (a stale ticket) gives their seat to a bot,
            # so the rest of the party still plays; their tickets are spent.
            busy = [s for s in seats if s.player in self.seated]
            seats = tuple(s for s in seats if s.player not in self.seated)
            if busy:
                log.warning(
                    "assignment_seats_busy",
                    match_id=assignment.match_id,
                    players=[s.player for s in busy],
                )
            if not seats:
                await self._release_claims(assignment)
                return
            try:
                await self.create_match(
                    [s.player for s in seats],
                    assignment.bot_seats + len(busy),
                    ranked=assignment.mode == "ranked",
                    match_id=assignment.match_id,
                    seat_tokens={s.player: s.seat_token for s in seats},
                )
            except AlreadySeated as exc:  # seated meanwhile: cannot happen on one loop
                log.warning("assignment_refused", match_id=assignment.match_id, reason=str(exc))
                await self._release_claims(assignment)
                return
            except BaseException:
                await self.redis.delete(marker)  # let the redelivery try again
                raise
            await self._release_claims(assignment)
        else:
            log.info("assignment_repeated", match_id=assignment.match_id)
            runner = self.runners.get(assignment.match_id)
            if runner is not None:  # tell only those who hold a seat in it
                held = {seat.player for seat in runner.match.state.seats}
                seats = tuple(s for s in seats if s.player in held)
        # The match exists: now tell each player's node (again, after a redelivery).
        async with self.redis.pipeline(transaction=False) as pipe:
            for s in seats:
                found = MatchFound(
                    s.player, assignment.match_id, self.node_id, self.base_url, s.seat_token
                )
                pipe.xadd(
                    mmkeys.node_notify(s.node),
                    {"found": found.encode()},
                    maxlen=10_000,
                    approximate=True,
                )
            await pipe.execute()

    async def _release_claims(self, assignment: Assignment) -> None:
        """Its players hold seats now (here, or elsewhere for those a bot replaced): the
        matchmaker's hold on their new tickets can go (it runs out by itself otherwise)."""
        try:
            await mmqueue.release_claims(self.redis, [s.player for s in assignment.seats])
        except Exception as exc:
            log.warning("claim_release_failed", match_id=assignment.match_id, error=repr(exc))

    def deliver(self, found: MatchFound) -> bool:
        """Tell the player's sockets here where their match is (``queue.status`` matched)."""
        self.queued.pop(found.player, None)
        targets = list(self.by_player.get(found.player, ()))
        url = found.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"
        for conn in targets:
            conn.send_event(
                ev.QueueStatus(
                    status="matched",
                    mode="ranked",
                    match_id=found.match_id,
                    node_url=url,
                    seat_token=found.seat_token,
                )
            )
        return bool(targets)

    # --- sockets and sessions ----------------------------------------------------------

    def add(self, conn: Connection) -> None:
        """A socket is open: closed at once if its session was just revoked; the oldest
        socket of its account is closed when it goes over the cap (module docstring)."""
        self.connections.add(conn)
        self.metrics.connections.set(len(self.connections))
        mine = self.by_player.setdefault(conn.player, [])
        mine.append(conn)
        # A revoked account refuses only tokens issued before its revocation (the rule of
        # server.api.session.revocation_holds): a student signing in with the new code a
        # teacher just gave them is not turned away for the next minute.
        user_revoked = self._heard(f"user:{conn.player}")
        if self._heard(f"sid:{conn.auth_session}") or (
            user_revoked and conn.auth_issued_at <= self._revoked_at.get(conn.player, 0)
        ):
            conn.close(POLICY, SESSION_REVOKED)
            return
        if conn.role == "bot":
            return
        live = [c for c in mine if not c.closing]
        for old in live[: max(0, len(live) - self.settings.limits.sockets_per_account)]:
            old.close(POLICY, TOO_MANY_SOCKETS)

    def bind(self, conn: Connection, token: SessionToken) -> None:
        """``conn`` now holds session ``token``; an older socket holding it is closed."""
        previous = self.by_session.get(token)
        self.by_session[token] = conn
        conn.session_token = token
        if previous is not None and previous is not conn:
            previous.close(1000, "session resumed on another connection")

    async def remove(self, conn: Connection) -> None:
        """The socket is gone: leave its match seat (kept) and let the session expire."""
        self.connections.discard(conn)
        self.lobbies.gone(conn)
        self.spectators.gone(conn)
        self.metrics.connections.set(len(self.connections))
        mine = self.by_player.get(conn.player, [])
        if conn in mine:
            mine.remove(conn)
            if not mine:
                del self.by_player[conn.player]
        runner = conn.runner
        conn.runner = None
        if runner is not None and not runner.closed:
            await runner.part(conn)
        if conn.player in self.queued and conn.player not in self.by_player:
            try:
                await self.queue_leave(conn.player)
            except Exception as exc:  # the matchmaker's claim check skips a stale ticket
                conn.log.warning("queue_leave_failed", error=repr(exc))
        token = conn.session_token
        if token is not None and self.by_session.get(token) is conn:
            del self.by_session[token]
            try:
                await self.sessions.release(token)
            except Exception as exc:  # the TTL of a live session runs out on its own
                conn.log.warning("session_release_failed", error=repr(exc))

    # --- revocations (server.api.session) ---------------------------------------------

    def revoke(self, revocation: Revocation) -> int:
        """Close this node's sockets of a revoked session or account; how many."""
        now = asyncio.get_running_loop().time()
        targets: list[Connection] = []
        if revocation.user_id is not None:
            self._remember(f"user:{revocation.user_id}", now)
            self._revoked_at[PlayerId(revocation.user_id)] = int(time.time())
            targets += self.by_player.get(PlayerId(revocation.user_id), [])
        if revocation.session_id is not None:
            self._remember(f"sid:{revocation.session_id}", now)
            sid = revocation.session_id
            targets += [c for c in self.connections if c.auth_session == sid]
        closing = [c for c in targets if not c.closing]
        for conn in closing:
            conn.close(POLICY, SESSION_REVOKED)
        if closing:
            log.info("sockets_revoked", sockets=len(closing), reason=revocation.reason)
        return len(closing)

    def _remember(self, key: str, now: float) -> None:
        self._recent[key] = now
        self._recent_order.append((now, key))
        while self._recent_order and self._recent_order[0][0] < now - RECENT_REVOCATION_S:
            at, old = self._recent_order.popleft()
            if self._recent.get(old) == at:
                del self._recent[old]
                if old.startswith("user:"):
                    self._revoked_at.pop(PlayerId(old[5:]), None)

    def _heard(self, key: str) -> bool:
        at = self._recent.get(key)
        return at is not None and at >= asyncio.get_running_loop().time() - RECENT_REVOCATION_S

    async def _subscribe(self) -> _Channel:
        channel = _Channel(self.pubsub, ignore_subscribe_messages=True)
        try:
            await channel.subscribe(REVOCATIONS, NOTIFICATIONS)  # notifications: push.py
        except BaseException:
            await _close_channel(channel)
            raise
        return channel

    async def _watch_revocations(self, channel: _Channel | None) -> None:
        """Apply every revocation published; after losing the channel (redis-py may also
        reconnect it by itself), subscribe again and re-check every socket: a revocation
        may have been published meanwhile."""
        seen = 0 if channel is None else channel.connects
        try:
            while True:
                try:
                    if channel is None:
                        channel = await self._subscribe()
                        seen = -1  # a new channel: re-check as after a reconnection
                    if channel.connects != seen:
                        seen = channel.connects
                        await self._recheck_sockets()
                    message = await channel.get_message(timeout=REVOCATION_POLL_S)
                except Exception as exc:
                    log.warning("revocations_channel_lost", error=repr(exc))
                    if channel is not None:
                        await _close_channel(channel)
                        channel = None
                    await asyncio.sleep(REVOCATION_RETRY_S)
                    continue
                if message is not None and message.get("type") == "message":
                    if notification_push.is_notification(message):
                        notification_push.deliver(self.by_player, message["data"])
                        continue
                    revocation = Revocation.decode(message["data"])
                    if revocation is not None:
                        self.revoke(revocation)
        finally:
            if channel is not None:
                await _close_channel(channel)

    async def _recheck_sockets(self) -> None:
        """Close every socket whose session or account the revoked keys name."""
        conns = [c for c in self.connections if c.role != "bot" and not c.closing]
        if not conns:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for conn in conns:
                pipe.exists(revoked_key(conn.auth_session))
                pipe.get(revoked_user_key(conn.player))
            found = await pipe.execute()
        for i, conn in enumerate(conns):
            if revocation_holds(found[2 * i], found[2 * i + 1], conn.auth_issued_at):
                conn.close(POLICY, SESSION_REVOKED)

    async def _refresh_sessions(self) -> None:
        while True:
            await asyncio.sleep(self.tuning.session_refresh_seconds)
            try:
                await self.sessions.refresh(list(self.by_session))
            except Exception as exc:
                log.warning("session_refresh_failed", error=repr(exc))

    # --- stop --------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop taking players, checkpoint every match, close every socket with 1001."""
        if self.draining:
            return
        self.draining = True
        log.info("realtime_draining", matches=len(self.runners), sockets=len(self.connections))
        if self.link is not None:  # stop taking assignments; pending ones go to the restart
            await self.link.stop()
        if self._updates is not None:
            self._updates.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._updates
        wait = self.tuning.shutdown_wait_seconds
        await asyncio.gather(*(r.stop(wait) for r in list(self.runners.values())))
        conns = list(self.connections)
        for conn in conns:
            conn.close(GOING_AWAY, "the server is restarting; reconnect and resume", flush=True)
        await asyncio.gather(*(c.wait_closed(self.tuning.close_timeout_seconds) for c in conns))

    async def close(self) -> None:
        """Last step (cleanup_ctx exit): make sure everything above has stopped."""
        await self.shutdown()
        await self.lobbies.close()
        await self.spectators.close()
        for task in (self._refresher, self._revocations):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@dataclass(frozen=True, slots=True)
class _Extra:
    """What a private lobby adds to a match it creates (see :meth:`Hub.create_match`)."""

    prompt: Prompt | None = None
    match_settings: MatchSettings | None = None
    focus: Trait | None = None
    names: tuple[str, ...] = ()
    observer: MatchObserver | None = None


class _Channel(PubSub):
    """A pub/sub connection that counts its reconnections (redis-py calls ``on_connect``
    when it connects the pub/sub connection again, not the first time)."""

    connects = 0

    async def on_connect(self, connection: RedisConnection) -> None:
        self.connects += 1
        await super().on_connect(connection)


async def _close_channel(channel: PubSub) -> None:
    with contextlib.suppress(Exception):
        await channel.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis-py 8.2

"""The realtime part of one node: its matches, its sockets, its sessions.

Built and started by :func:`server.realtime.lifecycle.realtime_context` (a
``cleanup_ctx``) after the pools and AI engines, stopped before them.

- :meth:`Hub.start` rebuilds every match Redis lists for this node id, then starts the
  session refresher; clients reconnect into those matches with ``session.resume``.
- :meth:`Hub.create_match` starts a match (admin route, quick play; the matchmaker
  later); :meth:`Hub.quickplay` is one human plus bot seats.
- :meth:`Hub.shutdown` (``on_shutdown``) refuses new sockets and matches, checkpoints
  every match, and closes every socket with 1001; :meth:`Hub.close` is the last step.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from redis.asyncio import Redis

from server.ai.build import offline_engines
from server.ai.content import load_prompts
from server.ai.types import Engines, Prompt
from server.config import Settings
from server.errors import QuillError
from server.game import Match, MatchConfig, SeatSpec, replay
from server.metrics import Registry
from server.realtime.ai import AIService, OfflineFallback
from server.realtime.clock import Clock
from server.realtime.connection import GOING_AWAY, Connection
from server.realtime.metrics import RealtimeMetrics
from server.realtime.runner import MatchRunner
from server.realtime.sessions import SessionStore
from server.realtime.store import MatchStore
from server.realtime.tuning import Tuning
from server.storage.matches import is_bot, ratings_for
from server.types import MatchId, NodeId, PlayerId, SessionToken

log = structlog.get_logger("quill.realtime")

BOT_SKILL_STEP = 0.15  # bot n plays at default_skill + (n - 2) · step, within 0..1


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
    ) -> None:
        self.settings = settings
        self.node_id = node_id
        self.redis = redis
        self.pool = pool
        self.engines = engines
        self.tuning = tuning
        self.metrics = RealtimeMetrics(registry)
        self.clock = Clock()
        self.store = MatchStore(redis, node_id, tuning.seat_ttl_seconds)
        self.sessions = SessionStore(
            redis, settings.match.reconnect_grace_seconds, tuning.session_refresh_seconds
        )
        self.fallback = OfflineFallback()
        self.ai = AIService(
            engines,
            offline_engines(),
            concurrency=tuning.ai_concurrency,
            timeout=tuning.ai_timeout_seconds,
            metrics=self.metrics,
        )
        self.runners: dict[MatchId, MatchRunner] = {}
        self.connections: set[Connection] = set()
        self.by_session: dict[SessionToken, Connection] = {}
        self.seated: dict[PlayerId, MatchId] = {}  # humans → the running match they sit in
        self.draining = False
        self._prompts: dict[str, Prompt] | None = None
        self._refresher: asyncio.Task[None] | None = None

    # --- start -----------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild this node's matches from Redis, then keep live sessions alive."""
        for match_id in await self.store.hosted():
            try:
                await self._restore(match_id)
            except Exception:
                log.exception("match_restore_failed", match_id=match_id)
                with contextlib.suppress(Exception):
                    await self.store.quarantine(match_id)
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
        runner = MatchRunner(self, match, flushed=len(stored.log))
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

    def bot_skill(self, index: int) -> float:
        base = self.settings.bots.default_skill
        return min(1.0, max(0.0, base + (index % 3 - 1) * BOT_SKILL_STEP))

    async def create_match(
        self,
        humans: Sequence[PlayerId],
        bots: int = 0,
        *,
        ranked: bool = True,
        prompt_id: str | None = None,
        seed: int | None = None,
    ) -> CreatedMatch:
        """Start a match on this node; returns a seat token per human.

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
        seed = secrets.randbits(31) if seed is None else seed
        prompt = self.prompts[prompt_id or random.Random(seed).choice(sorted(self.prompts))]
        players = [*humans, *(PlayerId(f"bot:{n}") for n in range(1, bots + 1))]
        ratings = await ratings_for(self.pool, players)
        config = MatchConfig(
            match_id=MatchId(str(uuid.uuid4())),
            prompt=prompt,
            seats=tuple(SeatSpec(p, is_bot(p), *ratings[p]) for p in players),
            seed=seed,
            ranked=ranked,
            level=prompt.level,
            settings=self.settings.match,
            draft_chars=self.settings.limits.draft_chars,
        )
        match, effects = Match.create(config, self.clock.now(), self.fallback)
        tokens = {"seat_" + secrets.token_urlsafe(16): p for p in humans}
        await self.store.register(config.match_id, tokens)
        runner = MatchRunner(self, match, flushed=0, effects=effects)
        self._host(runner)
        try:
            await runner.prime()
        except BaseException:
            self.forget(runner)
            raise
        runner.start()
        log.info("match_created", match_id=config.match_id, players=len(players), bots=bots)
        return CreatedMatch(
            config.match_id,
            {p: t for t, p in tokens.items()},
            tuple(p for p in players if is_bot(p)),
            prompt.id,
        )

    async def quickplay(self, player: PlayerId) -> CreatedMatch:
        """A ranked match now: this player and bots up to ``match.min_players``."""
        if not self.settings.bots.enabled:
            raise Unavailable("bots are disabled on this node")
        bots = max(1, self.settings.match.min_players - 1)
        return await self.create_match([player], bots, ranked=True)

    def _host(self, runner: MatchRunner) -> None:
        self.runners[runner.match_id] = runner
        for player in runner.humans:
            self.seated[player] = runner.match_id
        self.metrics.matches_running.set(len(self.runners))

    def forget(self, runner: MatchRunner) -> None:
        """The runner is done with its match (closed, or given up after a bug)."""
        if self.runners.get(runner.match_id) is runner:
            del self.runners[runner.match_id]
        for seat in runner.match.state.seats:
            if self.seated.get(seat.player) == runner.match_id:
                del self.seated[seat.player]
        self.metrics.matches_running.set(len(self.runners))

    # --- sockets and sessions ----------------------------------------------------------

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        self.metrics.connections.set(len(self.connections))

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
        self.metrics.connections.set(len(self.connections))
        runner = conn.runner
        conn.runner = None
        if runner is not None and not runner.closed:
            await runner.part(conn)
        token = conn.session_token
        if token is not None and self.by_session.get(token) is conn:
            del self.by_session[token]
            try:
                await self.sessions.release(token)
            except Exception as exc:  # the TTL of a live session runs out on its own
                conn.log.warning("session_release_failed", error=repr(exc))

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
        wait = self.tuning.shutdown_wait_seconds
        await asyncio.gather(*(r.stop(wait) for r in list(self.runners.values())))
        conns = list(self.connections)
        for conn in conns:
            conn.close(GOING_AWAY, "the server is restarting; reconnect and resume", flush=True)
        await asyncio.gather(*(c.wait_closed(self.tuning.close_timeout_seconds) for c in conns))

    async def close(self) -> None:
        """Last step (cleanup_ctx exit): make sure everything above has stopped."""
        await self.shutdown()
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher

"""The pod scheduler: opens, starts and closes the weekly sessions' private lobbies.

One runs on every node, as a background task of the app (:func:`scheduler_context`);
what it does is :meth:`PodScheduler.tick`, given the time, so tests drive it with the
time they choose and nothing sleeps.  Each tick:

1. **opens** every session due (``pods.notify_minutes_before`` before its start, until
   its end, :func:`server.pods.sessions.session_to_open`) that no node has opened: a
   private lobby for the pod (``lobbies.pod_id``; its members only) with the agenda as
   its rules — the focus trait most members are weakest in and a prompt that trains it
   near the pod's level (:mod:`server.pods.agenda`) — and a ``pod_session_soon``
   notification to every member with the lobby's code.  The lobby, the ``pod_sessions``
   row and the notifications are one transaction; the row's primary key
   ``(pod_id, session_start)`` is the lock between nodes: when two nodes tick at once,
   one insert waits for the other and then does nothing, and that node's lobby is
   rolled back;
2. **starts** the round of each session this node opened, from
   ``pods.start_after_minutes`` after the start, with the members connected to the lobby
   then (bots fill up to the party size with ``pods.session_bots``); a round that cannot
   start (nobody there) is tried again next tick, until the session ends;
3. **closes** the lobby of each session this node opened once the session has ended
   (:data:`server.pods.forming.SESSION_MINUTES` after its start); a round still playing
   ends on its own.  Members then check in (``POST /api/v1/pods/me/checkins``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from aiohttp import web
from redis.asyncio import Redis

from server.ai.types import Prompt, Trait
from server.config import Settings
from server.http.state import PG, REALTIME, REDIS, SETTINGS
from server.lobbies import store as lstore
from server.lobbies.rules import LobbyRules, PromptChoice
from server.notifications import store as notes
from server.pods import agenda, forming, sessions
from server.pods import store as pstore
from server.realtime.hub import Hub

log = structlog.get_logger("quill.pods")

SESSION_LENGTH = timedelta(minutes=forming.SESSION_MINUTES)


class PodClock:
    """The wall clock of the pods routes and scheduler; ``fixed`` holds it (tests)."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return datetime.now(UTC) if self.fixed is None else self.fixed


CLOCK = web.AppKey("pod_clock", PodClock)


@dataclass
class Tick:
    """What one tick did (pod id, session start) per step."""

    opened: list[tuple[str, datetime]] = field(default_factory=list)
    started: list[tuple[str, datetime]] = field(default_factory=list)
    closed: list[tuple[str, datetime]] = field(default_factory=list)


def session_rules(settings: Settings, prompt: Prompt, focus: Trait) -> LobbyRules:
    """A pod session's round rules: the node's ``[match]`` phases, the agenda's prompt
    and focus, names shown (the pod knows each other), not ranked."""
    base = LobbyRules.defaults(settings.match, bots=settings.pods.session_bots)
    return dataclasses.replace(
        base,
        prompt=PromptChoice(kind="pack", id=prompt.id),
        focus=focus,
        bots=settings.pods.session_bots and settings.bots.enabled,
        anonymous=False,
    )


async def choose_agenda(
    db: pstore.Db, pod: pstore.PodRow, prompts: list[Prompt], start: datetime
) -> tuple[Prompt, Trait]:
    """The session's focus and prompt, from the members' recent scores and ratings."""
    ids = [u for u, _ in pod.members]
    averages = await pstore.trait_averages(db, ids)
    profiles = await pstore.profiles(db, ids)
    focus = agenda.pod_focus(
        [averages[u] for u in ids], [profiles[u].goals for u in ids if u in profiles]
    )
    level = agenda.pod_level((await pstore.ratings(db, ids)).values())
    prompt = agenda.choose_prompt(prompts, focus.value, level, f"{pod.id}:{start.isoformat()}")
    return prompt, focus


class PodScheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: Redis,
        hub: Hub,
        settings: Settings,
        clock: PodClock,
    ) -> None:
        self.pool, self.redis, self.hub = pool, redis, hub
        self.settings, self.clock = settings, clock
        self._lock = asyncio.Lock()  # one tick at a time on this node

    async def tick(self, now: datetime) -> Tick:
        done = Tick()
        async with self._lock:
            await self._open_due(now, done)
            for row in await pstore.open_sessions_on(self.pool, self.hub.node_id):
                await self._advance(row, now, done)
        return done

    async def _open_due(self, now: datetime, done: Tick) -> None:
        lead = timedelta(minutes=self.settings.pods.notify_minutes_before)
        due: list[tuple[pstore.PodRow, datetime]] = []
        for pod in await pstore.pods(self.pool):
            start = sessions.session_to_open(
                pod.slot_start, pod.created_at, now, lead, SESSION_LENGTH
            )
            if start is not None and pod.members:
                due.append((pod, start))
        for pod, start in due:
            if start in await pstore.sessions_held(self.pool, pod.id, [start]):
                continue
            try:
                if await self._open(pod, start):
                    done.opened.append((pod.id, start))
            except Exception:  # one pod's failure must not stop the others'
                log.exception("pod_session_open_failed", pod_id=pod.id)

    async def _open(self, pod: pstore.PodRow, start: datetime) -> bool:
        prompts = list(self.hub.prompts.values())
        async with self.pool.acquire() as conn:
            prompt, focus = await choose_agenda(conn, pod, prompts, start)
            try:
                async with conn.transaction():
                    lobby = await lstore.create_lobby(
                        conn,
                        teacher_id=pod.members[0][0],
                        class_id=None,
                        name=f"{pod.name} session"[:60],
                        rules=session_rules(self.settings, prompt, focus),
                        node_id=self.hub.node_id,
                        pod_id=pod.id,
                    )
                    claimed = await pstore.record_session(
                        conn, pod.id, start, lobby.id, prompt.id, focus.value, self.hub.node_id
                    )
                    if not claimed:
                        raise _Taken
                    made = [
                        await notes.notify(
                            conn,
                            user,
                            "pod_session_soon",
                            {
                                "pod_id": pod.id,
                                "starts_at": start.isoformat(),
                                "lobby_code": lobby.public()["code"],
                            },
                        )
                        for user, _ in pod.members
                    ]
            except _Taken:
                return False
        await notes.publish(self.redis, made)
        log.info("pod_session_opened", pod_id=pod.id, lobby_id=lobby.id, focus=focus.value)
        return True

    async def _advance(self, row: pstore.SessionRow, now: datetime, done: Tick) -> None:
        start_at = row.session_start + timedelta(minutes=self.settings.pods.start_after_minutes)
        try:
            if now >= row.session_start + SESSION_LENGTH:
                if not row.lobby_closed:
                    await lstore.close_lobby(self.pool, row.lobby_id)
                    await self.hub.lobbies.refresh(row.lobby_id)
                await pstore.mark_session(
                    self.pool, row.pod_id, row.session_start, "closed_at", now
                )
                done.closed.append((row.pod_id, row.session_start))
            elif row.started_at is None and now >= start_at and not row.lobby_closed:
                found = await pstore.pods(self.pool, [row.pod_id])
                host = found[0].members[0][0] if found and found[0].members else None
                if host and await self.hub.lobbies.start_scheduled(row.lobby_id, host):
                    await pstore.mark_session(
                        self.pool, row.pod_id, row.session_start, "started_at", now
                    )
                    done.started.append((row.pod_id, row.session_start))
        except Exception:
            log.exception("pod_session_step_failed", pod_id=row.pod_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every ``pods.tick_seconds`` until ``stop`` (the first tick after one
        interval, so a node that starts does not race its own start-up)."""
        every = self.settings.pods.tick_seconds
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                break
            try:
                await self.tick(self.clock.now())
            except Exception:
                log.exception("pod_scheduler_tick_failed")


class _Taken(Exception):
    """Another node opened this session first."""


SCHEDULER = web.AppKey("pod_scheduler", PodScheduler)


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """The node's pod scheduler (after the realtime hub, which hosts the lobbies)."""
    clock = app.get(CLOCK) or PodClock()
    app[CLOCK] = clock
    scheduler = PodScheduler(app[PG], app[REDIS], app[REALTIME], app[SETTINGS], clock)
    app[SCHEDULER] = scheduler
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop), name="pod-scheduler")
    try:
        yield
    finally:
        stop.set()
        await task

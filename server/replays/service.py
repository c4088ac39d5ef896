"""Loading a replay for one viewer: the facts the access rules need, the log (PostgreSQL
for a finished match, Redis through the hub for one this node runs), the built core
(cached for finished matches), and the viewer's document.

A finished match's core is the same for every viewer and never changes, so it is kept
in a small LRU bounded by its estimated size (``replays.cache_megabytes``).  A replay that
has been deleted since (account deletion) is not served from the cache: every request
first checks that the ``replays`` row still exists.

Building reads the whole log (thousands of records for a long match): a log of more than
:data:`INLINE_RECORDS` records is decoded and built on a worker thread, at most
``replays.build_concurrency`` at a time, so it does not hold up the event loop.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from server.access.facts import seat_facts, viewer_and_lobby
from server.access.watch import (
    MatchFacts,
    cutoff,
    decide,
    seat_label,
    shows_text,
)
from server.config import ReplaySettings
from server.realtime.store import unpack
from server.replays.build import Core, SeatView, build_core, project
from server.reports.hidden import Hidden, hidden_in
from server.storage.matches import REPLAY_ENCODING, decode_replay

INLINE_RECORDS = 500
"""Logs up to this many records are built on the event loop (about half a millisecond
per hundred records, so at most ~2.5 ms; docs/replays.md#cost); longer ones on a worker
thread."""


class SpectatorClock:
    """The time a running match's delay is measured from: the hub's clock, unless a test
    pins it (``fixed``)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.fixed: float | None = None
        self._now = now

    def now(self) -> float:
        return self._now() if self.fixed is None else self.fixed


class CoreCache:
    """Built cores of finished matches, least recently used dropped first, bounded by
    their estimated size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._items: OrderedDict[str, Core] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, match_id: str) -> Core | None:
        core = self._items.get(match_id)
        if core is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(match_id)
        return core

    def put(self, match_id: str, core: Core) -> None:
        if core.size > self.max_bytes or match_id in self._items:
            return
        self._items[match_id] = core
        self.used += core.size
        while self.used > self.max_bytes:
            _, old = self._items.popitem(last=False)
            self.used -= old.size

    def drop(self, match_id: str) -> None:
        core = self._items.pop(match_id, None)
        if core is not None:
            self.used -= core.size

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a match's log is and what the rules need to know before reading it."""

    finished_stored: bool  # in the replays table (else: running on this node)
    facts: MatchFacts


class Replays:
    """The replay service of one node (see the module docstring)."""

    def __init__(self, settings: ReplaySettings, clock: SpectatorClock) -> None:
        self.settings = settings
        self.clock = clock
        self.cache = CoreCache(settings.cache_megabytes * 1024 * 1024)
        self._builds = asyncio.Semaphore(settings.build_concurrency)

    async def document(
        self,
        pool: asyncpg.Pool,
        hub: Any,
        match_id: uuid.UUID,
        viewer_id: str,
        spectator_delay: float,
    ) -> dict[str, Any] | None:
        """The viewer's replay document, or None when there is none they may see."""
        key = str(match_id)
        runner = hub.runners.get(key)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT m.ranked, EXISTS (SELECT 1 FROM replays r WHERE r.match_id = m.id) "
                "AS stored FROM matches m WHERE m.id = $1",
                match_id,
            )
            if row is not None and row["stored"]:
                players = await conn.fetch(
                    "SELECT user_id FROM seats WHERE match_id = $1 AND user_id IS NOT NULL",
                    match_id,
                )
                ranked, finished, stored = row["ranked"], True, True
                user_ids = frozenset(str(r["user_id"]) for r in players)
            elif runner is not None and not runner.closed:
                config = runner.match.config
                ranked, stored = config.ranked, False
                finished = runner.match.state.outcome is not None
                user_ids = frozenset(str(s.player) for s in config.seats if not s.is_bot)
            else:
                self.cache.drop(key)  # deleted with an account, or never stored
                return None
            viewer, lobby = await viewer_and_lobby(conn, match_id, viewer_id)
        if viewer is None:
            return None
        facts = MatchFacts(ranked=ranked, finished=finished, players=user_ids, lobby=lobby)
        access = decide(viewer, facts, spectator_delay)
        if access is None:
            return None
        if stored:
            core = await self._finished_core(pool, key)
            if core is None:
                return None
        else:
            upto = cutoff(access, self.clock.now(), finished)
            records = await hub.store.packed_log(key)
            if not records:
                return None
            core = await self._build(lambda: _core_from_packed(records, self._every, upto), records)
        seats = await seat_facts(pool, core.players, core.aliases, core.shown, core.bots)
        # What a moderator hid (docs/reports.md): shown to its writer and to moderators.
        hidden = await hidden_in(pool, [match_id]) if stored else Hidden()
        views = [
            SeatView(
                *seat_label(access, seat),
                you=seat.player == viewer.user_id,
                text=shows_text(access, seat, viewer, core.withheld[i])
                and (
                    access.sees_withheld
                    or seat.player == viewer.user_id
                    or not hidden.piece(match_id, seat.player)
                ),
            )
            for i, seat in enumerate(seats)
        ]
        doc = project(
            core,
            views,
            status="finished" if stored else "running",
            max_bytes=self.settings.max_response_bytes,
        )
        if hidden.reviews and not access.sees_withheld and doc["reviews"] is not None:
            await _drop_hidden_reviews(pool, match_id, core, hidden, doc)
        return doc

    @property
    def _every(self) -> float:
        return self.settings.keyframe_seconds

    async def _finished_core(self, pool: asyncpg.Pool, key: str) -> Core | None:
        core = self.cache.get(key)
        if core is not None:
            return core
        row = await pool.fetchrow(
            "SELECT encoding, records, data FROM replays WHERE match_id = $1", uuid.UUID(key)
        )
        if row is None:
            return None
        if row["encoding"] != REPLAY_ENCODING:
            raise ValueError(f"unknown replay encoding {row['encoding']!r}")
        data: bytes = row["data"]
        every = self._every
        core = await self._build(lambda: build_core(decode_replay(data), every), row["records"])
        self.cache.put(key, core)
        return core

    async def _build(self, work: Callable[[], Core], size: Sequence[bytes] | int) -> Core:
        records = size if isinstance(size, int) else len(size)
        if records <= INLINE_RECORDS:
            return work()
        async with self._builds:
            return await asyncio.to_thread(work)


async def _drop_hidden_reviews(
    pool: asyncpg.Pool, match_id: uuid.UUID, core: Core, hidden: Hidden, doc: dict[str, Any]
) -> None:
    """Leave the hidden reviews out of the document (the log's reviews carry no id: they
    are matched by writer and text)."""
    rows = await pool.fetch(
        "SELECT writer_id, shown_strength, shown_suggestion FROM reviews "
        "WHERE match_id = $1 AND review_id = ANY($2::text[])",
        match_id,
        [r for m, r in hidden.reviews if m == str(match_id)],
    )
    seat_of = {p: i for i, p in enumerate(core.players)}
    drop = {
        (seat_of[r["writer_id"]], r["shown_strength"], r["shown_suggestion"])
        for r in rows
        if r["writer_id"] in seat_of
    }
    doc["reviews"]["items"] = [
        it
        for it in doc["reviews"]["items"]
        if (it["writer"], it["strength"], it["suggestion"]) not in drop
    ]


def _core_from_packed(records: Sequence[bytes], every: float, upto: float | None) -> Core:
    return build_core([unpack(r) for r in records], every, upto=upto)

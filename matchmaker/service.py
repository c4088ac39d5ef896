"""The matchmaker process's work: follow the queue in Redis, form parties, assign matches.

One instance is active at a time: it holds ``quill:mm:lock`` (``SET NX PX``, renewed each
tick by a compare-and-extend script). A standby keeps trying; when the active one dies its
lock expires and the standby takes over within ``matchmaker.lock_ttl_seconds``.

The active instance keeps the queue in memory (a :class:`PartyFormer`): on taking over it
notes the end of the events stream, loads every ticket from the tickets hash, then follows
the stream from that point (``join`` / ``leave``; a replayed record is harmless).

Claiming a party is one Lua script: it checks that this instance still holds the lock
(fencing a deposed instance) and that every ticket is still in the hash exactly as it was
read, then deletes them and appends the assignment to the host node's stream.  So a
ticket is matched at most once, and one that was claimed is never lost: either the whole
claim happened or none of it did.  It also holds the claimed players (``quill:mm:claimed``)
until the host has created the match: a ticket they write meanwhile is refused, so nobody
sits in two parties.  The host node creates the match and only then tells
each player's node (``match.found``), so nobody is sent to a seat that does not exist yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis

from matchmaker.party.former import PartyFormer
from matchmaker.party.rules import PartyRules
from matchmaker.party.ticket import Party, Ticket
from server.config import Settings
from server.matchqueue import keys
from server.matchqueue.messages import AssignedSeat, Assignment, QueueTicket
from server.matchqueue.nodes import NodeStatus, least_loaded, live_nodes
from server.types import MatchId, PlayerId, SeatToken

log = structlog.get_logger("quill.matchmaker")

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: tickets, lock, host assign stream.
# ARGV: instance, assignment, n, then n (player, expected ticket) pairs.
_CLAIM = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local n = tonumber(ARGV[3])
for i = 1, n do
  if redis.call('HGET', KEYS[1], ARGV[2 + 2 * i]) ~= ARGV[3 + 2 * i] then return i end
end
local hold = tonumber(redis.call('TIME')[1]) + tonumber(ARGV[4 + 2 * n])
for i = 1, n do
  redis.call('HDEL', KEYS[1], ARGV[2 + 2 * i])
  redis.call('HSET', KEYS[4], ARGV[2 + 2 * i], hold)
end
redis.call('XADD', KEYS[3], '*', 'assignment', ARGV[2])
return 0
"""
ESTIMATE_EVERY_S = 2.0
SYNC_BATCH = 5000


@dataclass
class Stats:
    ticks: int = 0
    parties: int = 0
    claims_failed: int = 0
    takeovers: int = 0
    tick_ms: list[float] = field(default_factory=list)


class Matchmaker:
    """Call :meth:`step` once per tick (``run`` loops over it); nothing starts on its own."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        *,
        instance_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.instance_id = instance_id or f"mm-{uuid.uuid4().hex[:12]}"
        self.clock = clock
        self.rules = PartyRules.from_settings(
            settings.matchmaker, bots_enabled=settings.bots.enabled
        )
        self.former = PartyFormer(self.rules)
        self.raw: dict[PlayerId, bytes] = {}  # the ticket bytes read, for the claim check
        self.leader = False
        self.last_event = "0-0"
        self.stats = Stats()
        self._estimates_at = 0.0

    # --- leadership ---------------------------------------------------------------

    async def ensure_leadership(self) -> bool:
        ttl_ms = int(self.settings.matchmaker.lock_ttl_seconds * 1000)
        if self.leader:
            if await self.redis.eval(_RENEW, 1, keys.LOCK, self.instance_id, ttl_ms):
                return True
            log.warning("matchmaker_lost_lock", instance=self.instance_id)
            self._forget()
            return False
        if await self.redis.set(keys.LOCK, self.instance_id, nx=True, px=ttl_ms):
            self.leader = True
            self.stats.takeovers += 1
            await self._load()
            log.info("matchmaker_active", instance=self.instance_id, queued=len(self.former))
        return self.leader

    async def release(self) -> None:
        """Give up the lock (on a clean stop) so a standby takes over at once."""
        if self.leader:
            await self.redis.eval(_RELEASE, 1, keys.LOCK, self.instance_id)
        self._forget()

    def _forget(self) -> None:
        self.leader = False
        self.former = PartyFormer(self.rules)
        self.raw.clear()

    # --- following the queue ------------------------------------------------------

    async def _load(self) -> None:
        last: Any = await self.redis.xrevrange(keys.EVENTS, count=1)
        self.last_event = last[0][0].decode() if last else "0-0"
        cursor = 0
        while True:
            batch: Any
            cursor, batch = await self.redis.hscan(keys.TICKETS, cursor, count=5000)
            for raw in batch.values():
                self._add(bytes(raw))
            if cursor == 0:
                break

    def _add(self, raw: bytes) -> None:
        t = QueueTicket.decode(raw)
        self.raw[t.player] = raw
        self.former.add(Ticket(t.player, t.mu, t.sigma, t.mode, t.enqueued_at, t.node))

    def _remove(self, player: PlayerId) -> None:
        self.raw.pop(player, None)
        self.former.remove(player)

    async def sync(self) -> int:
        """Apply the queue's join/leave records since the last one seen."""
        applied = 0
        while True:
            got: Any = await self.redis.xread({keys.EVENTS: self.last_event}, count=SYNC_BATCH)
            if not got:
                return applied
            for entry_id, fields in got[0][1]:
                self.last_event = entry_id.decode()
                op = fields[b"op"]
                player = PlayerId(fields[b"player"].decode())
                if op == b"join":
                    self._add(bytes(fields[b"ticket"]))
                else:
                    self._remove(player)
                applied += 1

    # --- forming and assigning ----------------------------------------------------

    async def step(self) -> list[Assignment]:
        started = time.perf_counter()
        try:
            if not await self.ensure_leadership():
                return []
            return await self.process_once(self.clock())
        finally:
            self.stats.ticks += 1
            self.stats.tick_ms.append((time.perf_counter() - started) * 1000)
            del self.stats.tick_ms[:-1000]

    async def process_once(self, now: float) -> list[Assignment]:
        await self.sync()
        parties = self.former.process_once(now)
        done: list[Assignment] = []
        if parties:
            nodes = await live_nodes(self.redis)
            for party in parties:
                host = least_loaded(nodes)
                if host is None:
                    self._requeue(party.tickets)
                    continue
                assignment = self._assignment(party, now)
                outcome = await self._claim(assignment, host, party)
                if outcome is None:
                    return done  # lost the lock: stop at once
                if outcome:
                    done.append(assignment)
                    nodes = [
                        NodeStatus(n.node, n.url, n.load + party.size) if n is host else n
                        for n in nodes
                    ]
        if now - self._estimates_at >= ESTIMATE_EVERY_S:
            await self._publish_estimates()
            self._estimates_at = now
        return done

    def _assignment(self, party: Party, now: float) -> Assignment:
        seats = tuple(
            AssignedSeat(t.player_id, t.mu, t.sigma, t.node, SeatToken(secrets.token_urlsafe(18)))
            for t in party.tickets
        )
        return Assignment(
            match_id=MatchId(str(uuid.uuid4())),
            mode=party.mode,
            seats=seats,
            bot_seats=party.bot_seats,
            bot_mu=party.bot_mu,
            quality=party.quality,
            created_at=now,
        )

    def _requeue(self, tickets: tuple[Ticket, ...]) -> None:
        for t in tickets:
            raw = self.raw.get(t.player_id)
            if raw is not None:
                self.former.add(t)

    async def _claim(self, a: Assignment, host: NodeStatus, party: Party) -> bool | None:
        """True when claimed, False when a ticket changed (the rest go back), None = no lock."""
        players = [s.player for s in a.seats]
        pairs: list[str | bytes] = []
        for p in players:
            pairs += [p, self.raw.get(p, b"")]
        result = await self.redis.eval(
            _CLAIM,
            4,
            keys.TICKETS,
            keys.LOCK,
            keys.node_assign(host.node),
            keys.CLAIMED,
            self.instance_id,
            a.encode(),
            len(players),
            *pairs,
            keys.CLAIM_HOLD_S,
        )
        if result == -1:
            log.warning("matchmaker_fenced", instance=self.instance_id)
            self._forget()
            return None
        if result != 0:
            self.stats.claims_failed += 1
            changed = players[int(result) - 1]
            self.raw.pop(changed, None)
            self._requeue(tuple(t for t in party.tickets if t.player_id != changed))
            return False
        for p in players:
            self.raw.pop(p, None)
        self.stats.parties += 1
        log.info(
            "match_assigned",
            match_id=a.match_id,
            node=host.node,
            humans=len(players),
            bots=a.bot_seats,
            quality=round(a.quality, 3),
        )
        return True

    async def _publish_estimates(self) -> None:
        values: dict[Any, float] = {}
        for mode in ("ranked", "practice"):
            for bucket in range(0, 21):
                mu = (bucket + 0.5) * keys.ESTIMATE_BUCKET
                values[keys.estimate_field(mode, mu)] = round(
                    self.former.estimate_wait(mode, mu), 1
                )
        await self.redis.hset(keys.ESTIMATES, mapping=values)

    async def run(self, stop: asyncio.Event) -> None:
        tick = self.settings.matchmaker.tick_seconds
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except Exception:  # a Redis blip must not end the process
                    log.exception("matchmaker_tick_failed")
                    self._forget()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick)
        finally:
            await self.release()

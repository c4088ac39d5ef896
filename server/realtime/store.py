"""A node's live matches in Redis: the write-ahead log, checkpoints, hosted set, seats.

Write-ahead
    Every record the engine returns as ``Persist`` is appended to
    ``quill:match:{id}:log`` before anything that followed it is sent.  One tick of a
    match becomes one call of :data:`APPEND` (one round trip): it pushes the tick's
    records and, when the tick changed phase, stores the checkpoint.  The script is
    told how long the log was before (``base``), so a retry after a lost answer neither
    doubles records nor skips any: if they are already there it only confirms.

Checkpoints
    ``quill:match:{id}:checkpoint`` holds the latest ``Match.to_snapshot()`` (msgpack);
    the snapshot carries ``log_len``, the log length it covers.  A restart loads the
    checkpoint and the whole log and re-applies the records past ``log_len``.

Hosting
    ``quill:node:<node_id>:matches`` lists the matches a node must rebuild when it starts
    again with the same node id.  A match leaves the set once its replay is stored.

Seats
    ``quill:seat:<token>`` reserves one seat for one player (``match.join``);
    ``quill:match:{id}:seats`` lists a match's tokens so they go when the match does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from server.realtime import keys
from server.realtime.retry import Permanent
from server.types import MatchId, NodeId, PlayerId

APPEND = """
local n = redis.call('LLEN', KEYS[1])
local base = tonumber(ARGV[1])
local count = #ARGV - 2
if n == base then
  for i = 3, #ARGV, 512 do
    redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 511, #ARGV)))
  end
elseif n ~= base + count then
  return redis.error_reply('QUILL_LOG_MISMATCH log has ' .. n .. ' records, expected ' .. base)
end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2])
end
return base + count
"""
"""KEYS: log, checkpoint.  ARGV: base length, checkpoint ('' for none), records…"""

QUARANTINE_SECONDS = 7 * 24 * 3600
"""A match that cannot be rebuilt keeps its keys this long for a post-mortem."""


class LogMismatch(Permanent):
    """The log in Redis is not the length this runner expects: another writer, or a bug."""


def pack(value: Any) -> bytes:
    return bytes(msgpack.packb(value, use_bin_type=True))


def unpack(data: bytes | str) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


@dataclass(frozen=True, slots=True)
class Seat:
    """A seat reservation: who may take which seat of which match."""

    match_id: MatchId
    player: PlayerId
    node_id: NodeId


@dataclass(frozen=True, slots=True)
class Stored:
    """What Redis holds of one match."""

    checkpoint: dict[str, Any] | None
    log: list[dict[str, Any]]


class MatchStore:
    """Redis access for one node's matches (no retries here; callers retry)."""

    def __init__(self, redis: Redis, node_id: NodeId, seat_ttl: float) -> None:
        self.redis = redis
        self.node_id = node_id
        self.seat_ttl_ms = int(seat_ttl * 1000)
        self._append = redis.register_script(APPEND)

    async def append(
        self, match_id: MatchId, base: int, records: list[bytes], checkpoint: bytes | None
    ) -> int:
        """Append ``records`` after the first ``base`` ones and store ``checkpoint``.

        Returns the new log length.  Safe to call again with the same arguments.
        """
        try:
            length = await self._append(
                keys=[keys.match_log(match_id), keys.match_checkpoint(match_id)],
                args=[base, checkpoint or b"", *records],
            )
        except ResponseError as exc:
            if "QUILL_LOG_MISMATCH" in str(exc):
                raise LogMismatch(str(exc)) from None
            raise
        return int(length)

    async def load(self, match_id: MatchId) -> Stored:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.match_checkpoint(match_id))
            pipe.lrange(keys.match_log(match_id), 0, -1)
            checkpoint, log = await pipe.execute()
        return Stored(
            checkpoint=None if checkpoint is None else unpack(checkpoint),
            log=[unpack(r) for r in log],
        )

    async def hosted(self) -> list[MatchId]:
        members = await self.redis.smembers(keys.node_matches(self.node_id))
        return sorted(MatchId(m.decode() if isinstance(m, bytes) else m) for m in members)

    async def register(
        self,
        match_id: MatchId,
        seats: dict[str, PlayerId],
        remote_bots: Sequence[PlayerId] = (),
    ) -> None:
        """List the match under this node and store its seat tokens (token → player);
        ``remote_bots`` are the bot seats the bot pool plays over WebSockets."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(keys.node_matches(self.node_id), match_id)
            if remote_bots:
                pipe.sadd(keys.match_remote_bots(match_id), *remote_bots)
                pipe.pexpire(keys.match_remote_bots(match_id), self.seat_ttl_ms)
            for token, player in seats.items():
                record = {"m": match_id, "p": player, "n": self.node_id}
                pipe.set(keys.seat(token), pack(record), px=self.seat_ttl_ms)
            if seats:
                pipe.sadd(keys.match_seats(match_id), *seats)
                pipe.pexpire(keys.match_seats(match_id), self.seat_ttl_ms)
            await pipe.execute()

    async def remote_bots(self, match_id: MatchId) -> frozenset[PlayerId]:
        members = await self.redis.smembers(keys.match_remote_bots(match_id))
        return frozenset(PlayerId(m.decode() if isinstance(m, bytes) else m) for m in members)

    async def seat(self, token: str) -> Seat | None:
        raw = await self.redis.get(keys.seat(token))
        if raw is None:
            return None
        data = unpack(raw)
        return Seat(MatchId(data["m"]), PlayerId(data["p"]), NodeId(data["n"]))

    async def forget(self, match_id: MatchId) -> None:
        """The match is over and stored in PostgreSQL: drop everything Redis holds of it."""
        tokens = await self.redis.smembers(keys.match_seats(match_id))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(
                keys.match_log(match_id),
                keys.match_checkpoint(match_id),
                keys.match_seats(match_id),
                keys.match_remote_bots(match_id),
                *(keys.seat(t.decode() if isinstance(t, bytes) else t) for t in tokens),
            )
            pipe.srem(keys.node_matches(self.node_id), match_id)
            await pipe.execute()

    async def quarantine(self, match_id: MatchId) -> None:
        """Stop hosting a match that cannot run; keep its keys a while for a post-mortem."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(keys.node_matches(self.node_id), match_id)
            pipe.expire(keys.match_log(match_id), QUARANTINE_SECONDS)
            pipe.expire(keys.match_checkpoint(match_id), QUARANTINE_SECONDS)
            await pipe.execute()

"""A node's live matches in Redis: the write-ahead log, checkpoints, hosted set, seats.

Write-ahead
    Every record the engine returns as ``Persist`` is appended to
    ``quill:match:{id}:log`` before anything that followed it is sent.  One tick of a
    match becomes one call of :data:`APPEND` (one round trip): it pushes the tick's
    records and, when the tick changed phase, stores the checkpoint.  The script is
    told how long the log was before (``base``), so a retry after a lost answer neither
    doubles records nor skips any: if they are already there it only confirms.  The
    ticks of all the matches that write in the same moment go to Redis together, in one
    pipeline (:meth:`MatchStore.append` batches them): at thousands of players, one
    round trip per tick of each match costs the node more than the rest of the tick.

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

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

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

MAX_BATCH = 256
"""Appends in one pipeline at most; more wait for the next one (already under way)."""

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


_EDIT_KIND = pack("edit")  # every edit record holds its "k" packed like this


def unpack_edits(records: list[bytes]) -> list[dict[str, Any]]:
    """The create record and the edit records of a packed log (what ``seat_edits`` reads),
    and a few others that merely contain the same bytes: a long match's log has
    thousands of records, and most of them need not be unpacked for this."""
    return [unpack(r) for i, r in enumerate(records) if i == 0 or _EDIT_KIND in r]


@dataclass(frozen=True, slots=True)
class Stored:
    """What Redis holds of one match."""

    checkpoint: dict[str, Any] | None
    log: list[dict[str, Any]]


@dataclass(slots=True)
class _Append:
    match_id: MatchId
    base: int
    records: list[bytes]
    checkpoint: bytes | None
    done: asyncio.Future[int]

    def settle(self, result: int | BaseException) -> None:
        if self.done.done():  # the caller stopped waiting (cancelled)
            return
        if isinstance(result, BaseException):
            self.done.set_exception(result)
        else:
            self.done.set_result(result)


class MatchStore:
    """Redis access for one node's matches (no retries here; callers retry)."""

    def __init__(self, redis: Redis, node_id: NodeId, seat_ttl: float) -> None:
        self.redis = redis
        self.node_id = node_id
        self.seat_ttl_ms = int(seat_ttl * 1000)
        self._script = redis.register_script(APPEND)
        self._pending: list[_Append] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(
        self, match_id: MatchId, base: int, records: list[bytes], checkpoint: bytes | None
    ) -> int:
        """Append ``records`` after the first ``base`` ones and store ``checkpoint``.

        Returns the new log length.  Safe to call again with the same arguments.  The
        call joins the next pipeline of appends (see the module docstring); a failed
        pipeline fails every append in it, and each caller retries its own.
        """
        job = _Append(
            match_id, base, records, checkpoint, asyncio.get_running_loop().create_future()
        )
        self._pending.append(job)
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="match-log-writer")
        return await job.done

    async def _write(self) -> None:
        try:
            await asyncio.sleep(0)  # the other matches of this loop iteration join in
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write_batch(batch)
        finally:
            self._writer = None
            if self._pending:  # cancelled at shutdown: nobody will write these
                for job in self._pending:
                    job.settle(ConnectionError("the match log writer stopped"))
                self._pending = []

    async def _write_batch(self, batch: list[_Append], *, loaded: bool = False) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for job in batch:
                    pipe.evalsha(
                        self._script.sha,
                        2,
                        keys.match_log(job.match_id),
                        keys.match_checkpoint(job.match_id),
                        job.base,
                        job.checkpoint or b"",
                        *job.records,
                    )
                results = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every caller retries
            for job in batch:
                job.settle(exc)
            return
        except asyncio.CancelledError:
            for job in batch:
                job.settle(ConnectionError("the match log writer stopped"))
            raise
        again: list[_Append] = []
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError) and not loaded:
                again.append(job)  # Redis restarted or flushed its scripts
            elif isinstance(result, ResponseError) and "QUILL_LOG_MISMATCH" in str(result):
                job.settle(LogMismatch(str(result)))
            elif isinstance(result, BaseException):
                job.settle(result)
            else:
                job.settle(int(result))
        if again:
            try:
                await self.redis.script_load(self._script.script)
            except Exception as exc:
                for job in again:
                    job.settle(exc)
                return
            await self._write_batch(again, loaded=True)

    async def load(self, match_id: MatchId) -> Stored:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.match_checkpoint(match_id))
            pipe.lrange(keys.match_log(match_id), 0, -1)
            checkpoint, log = await pipe.execute()
        return Stored(
            checkpoint=None if checkpoint is None else unpack(checkpoint),
            log=[unpack(r) for r in log],
        )

    async def log(self, match_id: MatchId) -> list[dict[str, Any]]:
        """The whole log: the runner keeps only what it has not written yet."""
        return [unpack(r) for r in await self.packed_log(match_id)]

    async def packed_log(self, match_id: MatchId, count: int | None = None) -> list[bytes]:
        """The whole log as stored (or its first ``count`` records), one msgpack record
        per item."""
        if count is not None and count <= 0:
            return []
        end = -1 if count is None else count - 1
        records = await self.redis.lrange(keys.match_log(match_id), 0, end)
        return [r if isinstance(r, bytes) else r.encode() for r in records]

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

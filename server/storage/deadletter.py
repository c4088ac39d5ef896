"""Finished matches whose outcome could not be saved, kept for a later retry.

A match that reaches its results always ends for its players, whether or not
PostgreSQL takes the outcome.  When the save fails for good (a value PostgreSQL refuses,
or ``storage.save_attempts`` failures in a row), the runner puts the whole match — its
final checkpoint and its event log — here, in Redis (append-only on the embedded server;
chosen over a PostgreSQL table because PostgreSQL may be exactly what is failing), then
frees the seats.  ``quill deadletter list`` shows what waits; ``quill deadletter retry``
rebuilds each match from its record and saves outcome and replay, optionally with
unstorable characters scrubbed (:func:`server.text.scrub`), and removes the record once
both are in.

Keys: ``quill:deadletter:outcomes`` is a hash, match id → msgpack record (see
:class:`DeadOutcome`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgpack
from redis.asyncio import Redis

from server.game import Match, seat_edits
from server.game.results import MatchOutcome
from server.storage.matches import save_outcome, save_replay
from server.text import scrub
from server.types import MatchId

KEY = "quill:deadletter:outcomes"
RECORD_VERSION = 1


@dataclass(frozen=True, slots=True)
class DeadOutcome:
    match_id: MatchId
    node_id: str
    mode: str
    failed_at: float
    error: str
    snapshot: Mapping[str, Any]
    log: Sequence[Mapping[str, Any]]

    def pack(self) -> bytes:
        return bytes(
            msgpack.packb(
                {
                    "v": RECORD_VERSION,
                    "match_id": self.match_id,
                    "node_id": self.node_id,
                    "mode": self.mode,
                    "failed_at": self.failed_at,
                    "error": self.error,
                    "snapshot": self.snapshot,
                    "log": list(self.log),
                },
                # Drafts may hold exactly what PostgreSQL refused (or, before the text rule,
                # lone surrogates); keep them byte for byte so nothing is lost on the way.
                unicode_errors="surrogatepass",
            )
        )

    @classmethod
    def unpack(cls, data: bytes) -> DeadOutcome:
        raw = msgpack.unpackb(data, raw=False, strict_map_key=False, unicode_errors="surrogatepass")
        if raw.get("v") != RECORD_VERSION:
            raise ValueError(f"unknown dead-letter record version {raw.get('v')!r}")
        return cls(
            match_id=MatchId(raw["match_id"]),
            node_id=raw["node_id"],
            mode=raw["mode"],
            failed_at=float(raw["failed_at"]),
            error=raw["error"],
            snapshot=raw["snapshot"],
            log=raw["log"],
        )

    def rebuild(self, *, scrubbed: bool = False) -> Match:
        """The closed match again, with every string scrubbed when asked."""
        snapshot, log = self.snapshot, self.log
        if scrubbed:
            snapshot, log = _scrub(snapshot), _scrub(log)
        return Match.from_snapshot(snapshot, log)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


async def put(redis: Redis, record: DeadOutcome) -> None:
    await redis.hset(KEY, record.match_id, record.pack())


async def listing(redis: Redis) -> list[DeadOutcome]:
    rows = await redis.hgetall(KEY)
    records = [DeadOutcome.unpack(v if isinstance(v, bytes) else v.encode()) for v in rows.values()]
    return sorted(records, key=lambda r: r.failed_at)


async def remove(redis: Redis, match_id: str) -> None:
    await redis.hdel(KEY, match_id)


async def save_match(
    pool: asyncpg.Pool,
    match: Match,
    *,
    node_id: str,
    mode: str,
    outcome: MatchOutcome | None = None,
) -> bool:
    """Save a finished match's outcome and then its replay (both idempotent)."""
    outcome = outcome if outcome is not None else match.state.outcome
    if outcome is None:
        raise ValueError(f"match {match.config.match_id} has no outcome to save")
    edits = seat_edits(match.log)  # a rebuilt match holds its whole log
    first = await save_outcome(pool, outcome, node_id=node_id, mode=mode, edits=edits)
    await save_replay(pool, match.config.match_id, match.log)
    return first


@dataclass(frozen=True, slots=True)
class RetryResult:
    match_id: MatchId
    saved: bool
    error: str | None


async def retry(
    redis: Redis,
    pool: asyncpg.Pool,
    match_ids: Sequence[str] | None = None,
    *,
    scrubbed: bool = False,
) -> list[RetryResult]:
    """Try to save the named records (all when ``match_ids`` is None); remove the saved."""
    results: list[RetryResult] = []
    for record in await listing(redis):
        if match_ids is not None and record.match_id not in match_ids:
            continue
        try:
            match = record.rebuild(scrubbed=scrubbed)
            await save_match(pool, match, node_id=record.node_id, mode=record.mode)
        except Exception as exc:  # reported per record; the others are still tried
            results.append(RetryResult(record.match_id, False, repr(exc)))
            continue
        await remove(redis, record.match_id)
        results.append(RetryResult(record.match_id, True, None))
    return results


def is_permanent(exc: BaseException) -> bool:
    """An error that retrying the same save cannot fix: PostgreSQL refused a value or a
    constraint (classes 22 and 23), the statement is wrong (42), or the data could not
    even be encoded."""
    return isinstance(
        exc,
        asyncpg.DataError
        | asyncpg.IntegrityConstraintViolationError
        | asyncpg.SyntaxOrAccessError
        | UnicodeError
        | ValueError
        | TypeError,
    )

"""The match log writer: appends of many matches share a pipeline, each keeps its answer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.realtime import keys
from server.realtime.store import APPEND, MAX_BATCH, LogMismatch, MatchStore, pack, unpack
from server.types import MatchId, NodeId


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[MatchStore]:
    redis = Redis.from_url(redis_url)
    yield MatchStore(redis, NodeId("batch-node"), seat_ttl=60.0)
    await redis.aclose()


def match_ids(n: int) -> list[MatchId]:
    return [MatchId(str(uuid.uuid4())) for _ in range(n)]


async def test_many_matches_at_once_each_get_their_own_length(store: MatchStore) -> None:
    ids = match_ids(MAX_BATCH + 40)  # more than one pipeline
    first = await asyncio.gather(
        *(
            store.append(m, 0, [pack({"k": "a", "i": i})] * (i % 3 + 1), None)
            for i, m in enumerate(ids)
        )
    )
    assert first == [i % 3 + 1 for i in range(len(ids))]
    second = await asyncio.gather(
        *(
            store.append(m, n, [pack({"k": "b"})], pack({"cp": n}))
            for m, n in zip(ids, first, strict=True)
        )
    )
    assert second == [n + 1 for n in first]
    for m, n in zip(ids[:5], second[:5], strict=True):
        assert len(await store.log(m)) == n
        raw = await store.redis.get(keys.match_checkpoint(m))
        assert raw is not None and unpack(raw) == {"cp": n - 1}
    await store.redis.delete(*(keys.match_log(m) for m in ids))
    await store.redis.delete(*(keys.match_checkpoint(m) for m in ids))


async def test_a_mismatch_fails_only_its_own_append(store: MatchStore) -> None:
    good, bad = match_ids(2)
    await store.append(bad, 0, [pack(1), pack(2)], None)
    results = await asyncio.gather(
        store.append(good, 0, [pack(1)], None),
        store.append(bad, 5, [pack(3)], None),  # Redis holds 2 records, not 5
        return_exceptions=True,
    )
    assert results[0] == 1 and isinstance(results[1], LogMismatch)
    # A retry with the same arguments only confirms.
    assert await store.append(good, 0, [pack(1)], None) == 1
    await store.redis.delete(keys.match_log(good), keys.match_log(bad))


async def test_the_script_is_loaded_again_after_redis_forgot_it(store: MatchStore) -> None:
    (m,) = match_ids(1)
    await store.append(m, 0, [pack(1)], None)
    # As after a Redis restart, without SCRIPT FLUSH (which would reach other test runs
    # on the same server): the same script under a text Redis has never seen.
    store._script = store.redis.register_script(f"{APPEND}\n-- {uuid.uuid4()}")
    assert await store.append(m, 1, [pack(2)], None) == 2
    assert [unpack(r) for r in await store.packed_log(m)] == [1, 2]
    await store.redis.delete(keys.match_log(m))

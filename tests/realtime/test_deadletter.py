"""A finished match whose outcome PostgreSQL will not take still ends for its players.

The failures are real: a trigger in the test database refuses the ``matches`` insert,
either with a data error (class 22, as a NUL in a draft once did) or with a transient
one (serialization failure) every time.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import asyncpg
import orjson
from redis.asyncio import Redis

from server.config import Settings
from server.http.state import REALTIME
from server.storage import deadletter
from tests.realtime.client import WAIT
from tests.realtime.helpers import (
    FAST,
    eventually,
    fetch,
    http_for,
    no_matches,
    running_node,
)
from tests.realtime.players import Player

REFUSE = """
CREATE FUNCTION quill_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', MESSAGE = 'refused by the test'; END $$;
CREATE TRIGGER quill_test_refuse BEFORE INSERT ON matches
  FOR EACH ROW EXECUTE FUNCTION quill_test_refuse();
"""
ALLOW = "DROP TRIGGER quill_test_refuse ON matches; DROP FUNCTION quill_test_refuse();"


async def _sql(database: str, sql: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _quill(database: str, redis_url: str, *args: str) -> bytes:
    """Run the ``quill`` command as an operator would; its standard output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        *args,
        env={**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(WAIT):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out


async def _play_to_results(player: Player) -> tuple[str, dict[str, object]]:
    await player.connect()
    await player.c.send("match.quickplay")
    matched = (await player.c.wait("queue.status"))["d"]
    await player.join(matched["seat_token"])
    await player.ready()
    await player.c.wait("match.phase", lambda d: d["phase"] == "write")
    await player.write(2)
    await player.review_all()
    await player.c.wait("match.results")
    saved = (await player.c.wait("match.saved"))["d"]
    return str(matched["match_id"]), saved


async def test_refused_outcome_frees_seats_and_waits_in_the_dead_letter_store(
    settings: Settings, database: str, redis_url: str
) -> None:
    await _sql(database, REFUSE.format(code="22021"))  # character_not_in_repertoire
    settings = settings.replace(match={**FAST, "results_seconds": 1.0})
    redis = Redis.from_url(redis_url)
    try:
        async with running_node(settings, database, redis_url) as node:
            user = await http_for(node).register()
            human = Player("human", user.id, user.token, node.url)
            match_id, saved = await _play_to_results(human)
            assert saved == {"match_id": match_id, "saved": False}

            # The match is over for the player: a new quick play works at once.
            await human.c.send("match.quickplay")
            again = await human.c.wait("queue.status", lambda d: d["match_id"] != match_id)
            assert again["d"]["status"] == "matched"
            await human.c.close()
            hub = node.app[REALTIME]

            async def gone() -> bool:
                return match_id not in hub.runners

            await eventually(gone, "the unsaved match to close")
            assert node.app[REALTIME].metrics.outcomes_unsaved.value() == 1

        records = await deadletter.listing(redis)
        assert [r.match_id for r in records] == [match_id]
        assert "refused by the test" in records[0].error
        rebuilt = records[0].rebuild()
        assert rebuilt.phase.value == "closed" and rebuilt.state.outcome is not None
        assert not await fetch(database, "SELECT 1 FROM matches")

        # The operator fixes the cause and retries: outcome and replay are saved.
        await _sql(database, ALLOW)
        out = await _quill(database, redis_url, "deadletter", "retry", "--all")
        assert out.decode().split() == [match_id, "saved"]
        mid = uuid.UUID(match_id)
        assert await fetch(database, "SELECT 1 FROM matches WHERE id = $1", mid)
        assert await fetch(database, "SELECT 1 FROM replays WHERE match_id = $1", mid)
        assert len(await fetch(database, "SELECT 1 FROM rating_history WHERE match_id = $1", mid))
        assert await deadletter.listing(redis) == []
    finally:
        await redis.aclose()


async def test_transient_failures_give_up_after_save_attempts(
    settings: Settings, database: str, redis_url: str
) -> None:
    await _sql(database, REFUSE.format(code="40001"))  # serialization_failure, every time
    settings = settings.replace(match=FAST, storage={"save_attempts": 3})
    redis = Redis.from_url(redis_url)
    try:
        async with running_node(settings, database, redis_url) as node:
            user = await http_for(node).register()
            human = Player("human", user.id, user.token, node.url)
            match_id, saved = await _play_to_results(human)
            assert saved["saved"] is False
            await human.c.close()
            await no_matches(node.app[REALTIME])
        (record,) = await deadletter.listing(redis)
        assert record.match_id == match_id and "refused by the test" in record.error

        # `list --json` shows it to the operator.
        out = await _quill(database, redis_url, "deadletter", "list", "--json")
        (row,) = [orjson.loads(line) for line in out.splitlines()]
        assert row["match_id"] == match_id and row["mode"] == "ranked"

        # Still failing: retry reports it, keeps the record and exits non-zero.
        pool = await asyncpg.create_pool(database, min_size=1, max_size=1)
        try:
            results = await deadletter.retry(redis, pool, None)
        finally:
            await pool.close()
        assert [(r.match_id, r.saved) for r in results] == [(match_id, False)]
        assert len(await deadletter.listing(redis)) == 1
    finally:
        await redis.aclose()


async def test_scrubbed_retry_saves_text_postgresql_refused() -> None:
    """A record holding U+0000 (as a match before the text rule could) is saved with
    ``--scrub``: the character becomes U+FFFD and nothing else changes."""
    assert deadletter._scrub({"a": ["x\x00y", 1, {"k\ud800": "ok"}]}) == {
        "a": ["x\ufffdy", 1, {"k\ufffd": "ok"}]
    }

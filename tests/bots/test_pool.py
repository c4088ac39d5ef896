"""The bot pool: requests from the Redis stream, fail-over of a dead pool's requests, the process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bots.backoff import Backoff
from bots.player import Status
from bots.pool import BotPool
from bots.tokens import BotTokens
from server.ai.build import offline_engines
from server.config import Settings
from server.matchqueue import keys
from server.matchqueue.messages import BotRequest
from server.types import MatchId, PlayerId, SeatToken
from tests.bots.helpers import FAST_BACKOFF, FAST_PACE, PHASES, until
from tests.conftest import ROOT
from tests.realtime.client import WAIT
from tests.realtime.helpers import eventually, fetch, http_for, replay_stored, running_node


async def test_pool_plays_seats_requested_on_the_stream(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match=PHASES, bots={"max_bots": 2})
    redis = Redis.from_url(redis_url)
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(2)]
        created = await http.create_match(admin, [u.id for u in users])
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}

        def request(i: int) -> bytes:
            # The node cannot hand out bot seats with tokens yet: human seats stand in.
            return BotRequest(
                MatchId(created["match_id"]),
                node.url,
                PlayerId(users[i].id),
                SeatToken(seats[users[i].id]),
                skill=0.3 + 0.4 * i,
                requested_at=time.time(),
            ).encode()

        tokens = await BotTokens.from_database(database, settings)
        pool = BotPool(
            redis,
            settings,
            tokens,
            offline_engines(),
            consumer="pool-a",
            pace=FAST_PACE,
            backoff=FAST_BACKOFF,
            claim_idle=0.3,
            alive_ttl=1.5,
            block=0.1,
        )
        await pool.setup()
        await pool.setup()  # BUSYGROUP is fine
        # A pool that read the first request and died before it took the seat.
        await redis.xadd(keys.BOT_REQUESTS, {"request": request(0)})
        taken: Any = await redis.xreadgroup(
            keys.BOT_GROUP, "pool-dead", {keys.BOT_REQUESTS: ">"}, count=1
        )
        assert len(taken[0][1]) == 1
        await redis.xadd(keys.BOT_REQUESTS, {"request": request(1)})

        stop = asyncio.Event()
        serving = asyncio.create_task(pool.run(stop, grace=WAIT))
        try:

            async def alive() -> bool:
                return await redis.get(keys.BOTS_ALIVE) == b"pool-a"

            await eventually(alive, "the pool's alive key")
            await until(lambda: len(pool.outcomes) == 2, "both bots to finish")
        finally:
            stop.set()
            await asyncio.wait_for(serving, WAIT)

        assert [o.status for o in pool.outcomes] == [Status.FINISHED] * 2, pool.outcomes
        assert pool.claimed == 1  # the dead pool's request, taken over
        assert all(o.match_id == created["match_id"] for o in pool.outcomes)
        assert await redis.exists(keys.BOTS_ALIVE) == 0  # a clean stop says so at once
        pending: Any = await redis.xpending(keys.BOT_REQUESTS, keys.BOT_GROUP)
        assert pending["pending"] == 0  # both acked, the dead pool's one included
        assert await redis.xlen(keys.BOT_REQUESTS) == 0

        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database,
            "SELECT player_id, text FROM submissions WHERE match_id = $1",
            uuid.UUID(created["match_id"]),
        )
        assert {r["player_id"] for r in subs} == {u.id for u in users}
        assert sorted(r["text"] for r in subs) == sorted(o.text for o in pool.outcomes)
        assert all(r["text"].strip() for r in subs)
    await redis.aclose()


async def test_a_full_pool_leaves_requests_in_the_stream(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(bots={"max_bots": 0})
    redis = Redis.from_url(redis_url)
    tokens = await BotTokens.from_database(database, settings)
    pool = BotPool(redis, settings, tokens, offline_engines(), consumer="full", block=0.05)
    await pool.setup()
    request = BotRequest(
        MatchId("m"), "http://127.0.0.1:9", PlayerId("bot:1"), SeatToken("s"), 0.5, time.time()
    )
    await redis.xadd(keys.BOT_REQUESTS, {"request": request.encode()})
    assert await pool.step() == 0
    pending: Any = await redis.xpending(keys.BOT_REQUESTS, keys.BOT_GROUP)
    assert pending["pending"] == 0 and await redis.xlen(keys.BOT_REQUESTS) == 1  # unread
    await pool.close(grace=0)
    await redis.aclose()


async def test_stale_and_malformed_requests_are_dropped(
    settings: Settings, database: str, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    tokens = await BotTokens.from_database(database, settings)
    pool = BotPool(
        redis, settings, tokens, offline_engines(), consumer="c", block=0.05, stale_after=60
    )
    await pool.setup()
    old = BotRequest(
        MatchId("m"), "http://127.0.0.1:9", PlayerId("bot:1"), SeatToken("s"), 0.5, 1.0
    )
    await redis.xadd(keys.BOT_REQUESTS, {"request": old.encode()})
    await redis.xadd(keys.BOT_REQUESTS, {"request": b"\xc1garbage"})
    assert await pool.step() == 0
    assert await redis.xlen(keys.BOT_REQUESTS) == 0
    pending: Any = await redis.xpending(keys.BOT_REQUESTS, keys.BOT_GROUP)
    assert pending["pending"] == 0
    await pool.close(grace=0)
    await redis.aclose()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (its engine workers, their forkserver, …), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, p in parents.items() if p == parent} - found
        found |= children
        todo.extend(children)
    return found


async def test_python_m_bots_runs_and_stops_on_sigterm(database: str, redis_url: str) -> None:
    """The process warms its engine workers before it reads requests, and stops them."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database,
        "QUILL_SERVER__LOG_LEVEL": "info",
        "QUILL_AI__ENGINE": "offline",
        "QUILL_BOTS__OFFLINE_WORKERS": "2",
    }
    env.pop("QUILL_CONFIG", None)
    redis = Redis.from_url(redis_url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "--consumer",
        "proc-1",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    below: set[int] = set()
    try:
        assert proc.stdout is not None
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(WAIT):
            while not any(e.get("event") == "offline_ai_ready" for e in events):
                line = await proc.stdout.readline()
                assert line, f"the process ended before its engines were ready: {events}"
                events.append(json.loads(line))
        below = _descendants(proc.pid)
        answered = set(events[-1]["pids"])  # the workers that answered a warm-up
        assert answered and answered <= below and all(_running(p) for p in answered)

        async def alive() -> bool:
            return await redis.get(keys.BOTS_ALIVE) == b"proc-1"

        await eventually(alive, "the pool process's alive key")
        groups: Any = await redis.xinfo_groups(keys.BOT_REQUESTS)
        assert [g["name"] for g in groups] == [keys.BOT_GROUP.encode()]
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.stdout.read(), WAIT)  # to the end: every writer is gone
        assert await asyncio.wait_for(proc.wait(), WAIT) == 0
        assert await redis.exists(keys.BOTS_ALIVE) == 0
        # The workers stop with the process: they are told so when it dies
        # (PR_SET_PDEATHSIG), and a busy machine may take a moment to run them down.

        async def workers_gone() -> bool:
            return not [p for p in below if _running(p)]

        await eventually(workers_gone, "the pool's workers to stop with it")
    finally:
        if proc.returncode is None:
            # A killed pool leaves its workers behind (they hold its output pipe): them first.
            for pid in below | _descendants(proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.kill()
            await proc.wait()
        await redis.aclose()


async def test_a_stopping_pool_hands_its_seated_bots_to_the_next_pool(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match=PHASES)
    redis = Redis.from_url(redis_url)
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(2)]
        created = await http.create_match(admin, [u.id for u in users])
        seat = next(s["seat_token"] for s in created["seats"] if s["player_id"] == users[0].id)
        request = BotRequest(
            MatchId(created["match_id"]),
            node.url,
            PlayerId(users[0].id),
            SeatToken(seat),
            0.5,
            time.time(),
        )
        await redis.xadd(keys.BOT_REQUESTS, {"request": request.encode()})
        tokens = await BotTokens.from_database(database, settings)

        async def seat_once(consumer: str) -> None:
            """Run a pool until its bot holds the seat (the lobby waits), then stop it."""
            pool = BotPool(
                redis,
                settings,
                tokens,
                offline_engines(),
                consumer=consumer,
                pace=FAST_PACE,
                backoff=FAST_BACKOFF,
                block=0.05,
            )
            stop = asyncio.Event()
            serving = asyncio.create_task(pool.run(stop, grace=0))
            try:
                await until(
                    lambda: any(p.seated.is_set() for p in pool.players.values()),
                    f"{consumer}'s bot to take the seat",
                )
                await until(lambda: not pool.unacked, f"{consumer} to acknowledge")
            finally:
                stop.set()
                await asyncio.wait_for(serving, WAIT)

        await seat_once("pool-a")
        entries: Any = await redis.xrange(keys.BOT_REQUESTS)
        assert [BotRequest.decode(f[b"request"]) for _, f in entries] == [request]
        await seat_once("pool-b")  # the seat token still works while the match runs
        assert await redis.xlen(keys.BOT_REQUESTS) == 1
    await redis.aclose()


async def test_a_seat_the_bot_could_not_reach_is_tried_again_later(
    settings: Settings, database: str, redis_url: str
) -> None:
    with socket.socket() as s:  # a node that is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = Redis.from_url(redis_url)
    tokens = await BotTokens.from_database(database, settings)
    pool = BotPool(
        redis,
        settings,
        tokens,
        offline_engines(),
        consumer="c",
        backoff=Backoff(first=0.01, cap=0.02, attempts=2),
        claim_idle=0.2,
        block=0.05,
    )
    await pool.setup()
    request = BotRequest(
        MatchId("m"),
        f"http://127.0.0.1:{port}",
        PlayerId("bot:1"),
        SeatToken("s"),
        0.5,
        time.time(),
    )
    await redis.xadd(keys.BOT_REQUESTS, {"request": request.encode()})
    assert await pool.step() == 1
    await until(lambda: len(pool.outcomes) == 1, "the bot to give up")
    assert pool.outcomes[0].status is Status.LOST

    async def retried() -> bool:
        await pool.step()
        return pool.claimed >= 1  # idle again, so taken over (here by the same pool)

    await eventually(retried, "the request to be claimed again")
    pending: Any = await redis.xpending(keys.BOT_REQUESTS, keys.BOT_GROUP)
    assert pending["pending"] == 1  # never acknowledged: it was never played
    await pool.close(grace=WAIT)
    await redis.aclose()

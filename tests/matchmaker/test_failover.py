"""Two matchmaker processes; the active one is killed with SIGKILL while tickets stream in.

The standby takes over once the lock's TTL runs out; every ticket ends up in exactly one
assignment.  Waits are bounded by generous limits, never asserted as speeds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

from redis.asyncio import Redis

from server.matchqueue import keys, nodes, queue
from server.matchqueue.messages import Assignment, QueueTicket
from server.types import NodeId, PlayerId
from tests.conftest import ROOT
from tests.realtime.helpers import eventually


async def _spawn(redis_url: str, name: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "QUILL_MATCHMAKER__LOCK_TTL_SECONDS": "1",
        "QUILL_MATCHMAKER__TICK_SECONDS": "0.05",
        "QUILL_SERVER__LOG_LEVEL": "warning",
    }
    env.pop("QUILL_CONFIG", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "matchmaker",
        "--instance-id",
        name,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_standby_takes_over_after_sigkill(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    procs = [await _spawn(redis_url, "mm-one"), await _spawn(redis_url, "mm-two")]
    try:
        await nodes.heartbeat(redis, NodeId("host"), "http://host", 0, ttl_s=600)
        players: list[PlayerId] = []

        async def enqueue(batch: int) -> None:
            now = time.time()
            for i in range(6):
                p = PlayerId(f"b{batch}-{i}")
                players.append(p)
                ticket = QueueTicket(p, 20.0 + batch + i * 0.1, 2.0, "ranked", now, NodeId("host"))
                await queue.join(redis, ticket)

        async def leader() -> bytes | None:
            value: bytes | None = await redis.get(keys.LOCK)  # type: ignore[assignment]
            return value

        async def has_leader() -> bool:
            return await leader() is not None

        await eventually(has_leader, "a matchmaker holds the lock")
        for batch in range(5):
            await enqueue(batch)
        active = (await leader() or b"").decode()
        victim = procs[0] if active == "mm-one" else procs[1]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        for batch in range(5, 10):
            await enqueue(batch)

        async def all_assigned() -> bool:
            return await redis.hlen(keys.TICKETS) == 0 and await leader() not in (
                None,
                active.encode(),
            )

        await eventually(all_assigned, "every ticket assigned after the takeover")
        entries: Any = await redis.xrange(keys.node_assign("host"))
        matched = [s.player for _, f in entries for s in Assignment.decode(f[b"assignment"]).seats]
        assert sorted(matched) == sorted(players)  # none lost, none twice
    finally:
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
                await asyncio.wait_for(p.wait(), 30)
        await redis.aclose()

"""The node's link against real Redis: heartbeat, assignments at-least-once, notices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.matchqueue import keys, nodes
from server.matchqueue.messages import AssignedSeat, Assignment, MatchFound
from server.matchqueue.node import NodeLink, found_key
from server.types import MatchId, NodeId, PlayerId, SeatToken
from tests.realtime.client import WAIT
from tests.realtime.helpers import eventually


class RecordingHost:
    """A host that records what it is given (the real one is the realtime hub)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.hosted: list[Assignment] = []
        self.delivered: list[MatchFound] = []
        self.connected: set[str] = {"p1"}
        self.fail_first = fail_first
        self.changed = asyncio.Event()

    def load(self) -> int:
        return 7

    async def host_assignment(self, assignment: Assignment) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionError("PostgreSQL blipped")
        self.hosted.append(assignment)
        self.changed.set()

    def deliver(self, found: MatchFound) -> bool:
        self.changed.set()
        if found.player in self.connected:
            self.delivered.append(found)
            return True
        return False


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def assignment(n: int) -> Assignment:
    seat = AssignedSeat(PlayerId(f"p{n}"), 25.0, 8.0, NodeId("a"), SeatToken(f"s{n}"))
    return Assignment(MatchId(f"m{n}"), "ranked", (seat,), bot_seats=3, bot_mu=25.0)


async def until(host: RecordingHost, check: object) -> None:
    async def wait() -> None:
        while not check():  # type: ignore[operator]
            host.changed.clear()
            await host.changed.wait()

    await asyncio.wait_for(wait(), WAIT)


async def test_heartbeat_assignments_and_notices(redis: Redis) -> None:
    host = RecordingHost()
    link = NodeLink(redis, host, NodeId("a"), "http://a", node_ttl_s=30)
    await link.start()
    try:
        (status,) = await nodes.live_nodes(redis)
        assert (status.node, status.url, status.load) == ("a", "http://a", 7)
        await redis.xadd(keys.node_assign("a"), {"assignment": assignment(1).encode()})
        await redis.xadd(keys.node_assign("a"), {"assignment": b"\x00garbage"})
        await redis.xadd(keys.node_assign("a"), {"assignment": assignment(2).encode()})
        await until(host, lambda: len(host.hosted) == 2)
        assert [a.match_id for a in host.hosted] == ["m1", "m2"]
        for player in ("p1", "p2"):
            found = MatchFound(
                PlayerId(player), MatchId("m1"), NodeId("b"), "http://b", SeatToken("s")
            )
            await redis.xadd(keys.node_notify("a"), {"found": found.encode()})
        await until(host, lambda: bool(host.delivered))
        assert [f.player for f in host.delivered] == ["p1"]

        async def kept() -> bool:
            return bool(await redis.exists(found_key("p2")))

        await eventually(kept, "the notice for an absent player is kept")
    finally:
        await link.stop()
    assert await nodes.live_nodes(redis) == []  # retired on a clean stop


async def test_an_assignment_that_failed_is_hosted_after_a_restart(redis: Redis) -> None:
    failing = RecordingHost(fail_first=1)
    first = NodeLink(redis, failing, NodeId("a"), "http://a", node_ttl_s=30)
    await redis.xadd(keys.node_assign("a"), {"assignment": assignment(1).encode()})
    await first.start()
    # The failure leaves the entry pending; the loop retries it from the pending list.
    await until(failing, lambda: len(failing.hosted) == 1)
    await first.stop()
    pending = await redis.xpending(keys.node_assign("a"), keys.ASSIGN_GROUP)
    assert pending["pending"] == 0

"""A graceful stop: checkpoint, 1001, and the next node with the same id carries on (bots too)."""

from __future__ import annotations

from redis.asyncio import Redis

from server.config import Settings
from server.realtime import keys
from server.realtime.store import unpack
from tests.realtime.helpers import FAST, http_for, replay_stored, running_node
from tests.realtime.players import Player


async def test_a_stopped_node_checkpoints_and_the_next_one_resumes(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(
        server={"node_id": "graceful-node"},
        match={**FAST, "write_seconds": 5.0, "feedback_seconds": 6.0},
    )
    async with running_node(settings, database, redis_url) as node:
        user = await http_for(node).register()
        human = Player("human", user.id, user.token, node.url)
        await human.connect()
        await human.c.send("match.quickplay")
        matched = (await human.c.wait("queue.status"))["d"]
        await human.join(matched["seat_token"])
        await human.ready()
        await human.c.wait("match.phase", lambda d: d["phase"] == "write")
        await human.write(2)
    # The node is gone: the socket was closed with 1001, the match is in Redis.
    code, reason = await human.c.wait_closed()
    assert code == 1001 and "reconnect" in reason
    redis = Redis.from_url(redis_url)
    try:
        match_id = matched["match_id"]
        assert await redis.smembers(keys.node_matches("graceful-node")) == {match_id.encode()}
        raw = await redis.get(keys.match_checkpoint(match_id))
        assert raw is not None
        checkpoint = unpack(raw)
        assert checkpoint["log_len"] == await redis.llen(keys.match_log(match_id))
    finally:
        await redis.aclose()

    async with running_node(settings, database, redis_url) as node:
        welcome = await human.connect(node.url)
        assert welcome["match_id"] == match_id
        state = (await human.c.wait("match.state"))["d"]
        assert state["draft"]["text"] == human.acked_text
        await human.rebase(state)
        if state["phase"] == "write":
            await human.write(1, start=2)
        await human.review_all()
        results, _ = await human.results()
        assert len(results["ranking"]) == 4
        assert all(row["words"] > 0 for row in results["ranking"])
        await replay_stored(database, match_id)
        await human.c.close()

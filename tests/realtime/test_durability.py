"""Write-ahead: by the time a client holds an ack, the edit is in the match's Redis log."""

from __future__ import annotations

from redis.asyncio import Redis

from server.config import Settings
from server.http.state import REALTIME
from server.realtime import keys
from server.realtime.store import unpack
from tests.realtime.helpers import FAST, http_for, running_node
from tests.realtime.players import SENTENCES, Player, gather


async def test_every_acknowledged_edit_is_already_in_redis(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(
        server={"node_id": "wal-node"}, match={**FAST, "write_seconds": 600.0}
    )
    redis = Redis.from_url(redis_url)
    try:
        async with running_node(settings, database, redis_url) as node:
            http = http_for(node)
            admin = await http.admin(database)
            users = [await http.register() for _ in range(2)]
            created = await http.create_match(admin, [u.id for u in users])
            match_id = created["match_id"]
            seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
            players = [Player(f"p{i}", u.id, u.token, node.url) for i, u in enumerate(users)]
            for p in players:
                await p.connect()
                await p.join(seats[p.user_id])
                await p.ready()
            await gather(
                *(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in players)
            )
            assert await redis.smembers(keys.node_matches("wal-node")) == {match_id.encode()}
            writer = players[0]
            for seq, sentence in enumerate(SENTENCES, start=1):
                op = {"pos": len(writer.text), "insert": sentence}
                ref = await writer.c.send("draft.edit", {"seq": seq, "ops": [op]})
                writer.text += sentence
                assert (await writer.c.ack(ref))["d"]["seq"] == seq
                # No waiting: the ack was sent only after this record was written.
                log = [unpack(r) for r in await redis.lrange(keys.match_log(match_id), 0, -1)]
                edits = [
                    r["d"] for r in log if r["k"] == "edit" and r["d"]["player"] == writer.user_id
                ]
                assert edits[-1]["seq"] == seq and edits[-1]["ref"] == ref
            raw = await redis.get(keys.match_checkpoint(match_id))
            assert raw is not None
            checkpoint = unpack(raw)  # the write phase's checkpoint, with the log it covers
            assert checkpoint["state"]["phase"] == "write"
            assert checkpoint["log_len"] <= await redis.llen(keys.match_log(match_id))
            # What Redis holds is not kept in the process as well: a player's memory on
            # the node does not grow with the edits.
            runner = node.app[REALTIME].runners[match_id]
            assert runner.match.log_base == runner.flushed  # all written, all dropped
            assert len(runner.match.log) <= 2  # at most a tick being written now
            for p in players:
                await p.c.close()
    finally:
        await redis.aclose()

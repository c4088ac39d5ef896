"""A client killed mid-write comes back with its session token: same seat, same draft."""

from __future__ import annotations

import uuid

from server.config import Settings
from server.protocol import Codec
from tests.realtime.helpers import FAST, fetch, http_for, replay_stored, running_node
from tests.realtime.players import Player, gather


async def test_a_killed_client_resumes_its_seat_and_draft(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match={**FAST, "write_seconds": 4.0})
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(3)]
        created = await http.create_match(admin, [u.id for u in users])
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        players = [
            Player(f"p{i}", u.id, u.token, node.url, Codec.MSGPACK if i == 1 else Codec.JSON)
            for i, u in enumerate(users)
        ]
        for p in players:
            await p.connect()
        states = await gather(*(p.join(seats[p.user_id]) for p in players))
        alias = states[1]["you"]
        for p in players:
            await p.ready()
        await gather(*(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in players))
        victim, witness = players[1], players[0]
        await victim.write(2)
        assert victim.acked_seq == 2

        mark = len(witness.c.events)
        await victim.c.kill()
        gone = await witness.c.wait("match.seat", lambda d: d["seat"]["alias"] == alias, start=mark)
        assert gone["d"]["seat"]["connected"] is False and gone["d"]["seat"]["left"] is False

        # The same session token: welcome names the match, match.state has the draft.
        old_token = victim.session_token
        welcome = await victim.connect()
        assert welcome["session_token"] == old_token
        assert welcome["match_id"] == created["match_id"]
        state = (await victim.c.wait("match.state"))["d"]
        assert state["you"] == alias
        assert (state["draft"]["seq"], state["draft"]["text"]) == (2, victim.acked_text)
        await witness.c.wait(
            "match.seat", lambda d: d["seat"]["alias"] == alias and d["seat"]["connected"], mark
        )
        if state["phase"] == "write":  # carry on from its seq (unless a slow machine ran out)
            await victim.rebase(state)
            stale = {"seq": 2, "ops": [{"pos": 0, "insert": "ignored "}]}
            ref = await victim.c.send("draft.edit", stale)
            assert (await victim.c.ack(ref))["d"]["seq"] == 2  # a duplicate: acked, ignored
            await victim.write(1, start=2)
            assert victim.acked_seq == 3

        # The match goes on to the end with the resumed seat in it.
        await gather(*(p.review_all() for p in players))
        finals = await gather(*(p.results() for p in players))
        rows = {row["alias"]: row for row in finals[0][0]["ranking"]}
        assert rows[alias]["words"] == len(victim.acked_text.split())
        match_id = uuid.UUID(created["match_id"])
        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database, "SELECT player_id, text FROM submissions WHERE match_id = $1", match_id
        )
        assert {r["player_id"]: r["text"] for r in subs}[victim.user_id] == victim.acked_text
        for p in players:
            await p.c.close()

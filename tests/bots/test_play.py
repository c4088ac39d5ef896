"""Bots play real matches over real WebSockets against a node on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bots.client import static_token
from bots.player import Status
from server.config import Settings
from server.protocol import Codec
from tests.bots.helpers import FAST_BACKOFF, PHASES, bot, until
from tests.realtime.client import WAIT
from tests.realtime.helpers import fetch, http_for, replay_stored, running_node


async def test_four_bots_play_a_ranked_match_to_the_end(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match=PHASES)
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(4)]
        created = await http.create_match(admin, [u.id for u in users], ranked=True)
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        players = [
            bot(
                created["node_url"],
                static_token(u.token),
                seats[u.id],
                index=i,
                codec=Codec.MSGPACK if i == 0 else Codec.JSON,
            )
            for i, u in enumerate(users)
        ]
        async with asyncio.timeout(WAIT * 2):
            outcomes = await asyncio.gather(*(p.play() for p in players))

        assert [o.status for o in outcomes] == [Status.FINISHED] * 4, outcomes
        assert all(o.reconnects == 0 for o in outcomes)
        aliases = [o.alias for o in outcomes]
        assert len(set(aliases)) == 4 and all(aliases)
        results = [o.results for o in outcomes]
        assert all(r is not None and r == results[0] for r in results)
        first = results[0]
        assert first is not None and first.match_id == created["match_id"] and first.ranked
        assert sorted(row.alias for row in first.ranking) == sorted(a for a in aliases if a)
        assert all(row.words > 0 and row.rating is not None for row in first.ranking)
        for p, o in zip(players, outcomes, strict=True):
            assert p.piece is not None and o.text == p.piece.text  # typed to the last key
            assert not p.client.connected

        match_id = uuid.UUID(created["match_id"])
        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database,
            "SELECT player_id, text, paste_count, length(edit_log) AS log FROM submissions "
            "WHERE match_id = $1",
            match_id,
        )
        texts = {u.id: o.text for u, o in zip(users, outcomes, strict=True)}
        assert {r["player_id"]: r["text"] for r in subs} == texts
        assert all(r["paste_count"] == 0 and r["log"] > 1 for r in subs)  # typed, not pasted
        reviews = await fetch(
            database, "SELECT count(*) AS n FROM reviews WHERE match_id = $1", match_id
        )
        assert reviews[0]["n"] == 8  # every piece reviewed twice
        history = await fetch(
            database, "SELECT user_id FROM rating_history WHERE match_id = $1", match_id
        )
        assert {str(r["user_id"]) for r in history} == set(texts)


@pytest.mark.parametrize("back_by", ["session", "seat_token"])
async def test_a_dropped_bot_reconnects_and_finishes_its_piece(
    settings: Settings, database: str, redis_url: str, back_by: str
) -> None:
    """``session``: the server re-attaches the seat on ``session.resume``.  ``seat_token``:
    the session is gone (as for ``bot:`` players today), so the bot joins again."""
    settings = settings.replace(match={**PHASES, "write_seconds": 8.0})
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(3)]
        created = await http.create_match(admin, [u.id for u in users])
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        players = [
            bot(created["node_url"], static_token(u.token), seats[u.id], index=i)
            for i, u in enumerate(users)
        ]
        victim = players[1]
        async with asyncio.timeout(WAIT * 2):
            games = [asyncio.create_task(p.play()) for p in players]
            await until(
                lambda: victim.phase == "write" and victim.draft.acked_seq >= 2,
                "the victim to have two edits acknowledged",
            )
            alias, typed = victim.alias, victim.draft.text
            if back_by == "seat_token":
                victim.client.session_token = "new"  # as if the session had expired
            victim.client.drop()  # the network goes away mid-write
            await until(lambda: victim.client.reconnects == 1, "the victim to reconnect")
            outcomes = await asyncio.gather(*games)

        assert [o.status for o in outcomes] == [Status.FINISHED] * 3, outcomes
        out = outcomes[1]
        assert out.reconnects == 1 and out.alias == alias  # the same seat
        assert victim.client.session_token.startswith("st_")
        # It waited a backoff pause (first attempt: half to all of `first`) before dialling.
        assert len(victim.client.pauses) == 1
        assert FAST_BACKOFF.first / 2 <= victim.client.pauses[0] <= FAST_BACKOFF.first
        assert victim.piece is not None and out.text == victim.piece.text
        assert typed and out.text != typed  # it typed on after the drop, to the last key
        assert out.results is not None
        row = next(r for r in out.results.ranking if r.alias == alias)
        assert row.words == len(out.text.split()) and not row.empty

        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database,
            "SELECT player_id, text, paste_count FROM submissions WHERE match_id = $1",
            uuid.UUID(created["match_id"]),
        )
        mine = next(r for r in subs if r["player_id"] == users[1].id)
        assert (mine["text"], mine["paste_count"]) == (out.text, 0)  # re-sent as typing

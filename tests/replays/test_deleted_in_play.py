"""An account deleted while its match is played (after it wrote and reviewed): when the
match is saved, that seat is made anonymous as a deletion does it (no text, no edit log,
no review text, no rating, a pseudonym), the match keeps no replay, and the other players' results are whole (real node, PostgreSQL,
Redis, WebSockets)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from server.config import Settings
from server.http.state import REALTIME
from server.storage.pseudonyms import PSEUDONYM_PREFIX
from server.types import PlayerId
from tests.conftest import Node
from tests.realtime.helpers import FAST, PASSWORD, running_node
from tests.realtime.players import Player, start_writing
from tests.replays.test_api import sql, users


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(
        match={**FAST, "write_seconds": 4.0}, limits={"api_per_ip_per_minute": 100_000}
    )
    async with running_node(settings, database, redis_url) as n:
        yield n


async def test_a_seat_whose_account_was_deleted_mid_match_is_saved_anonymous(
    node: Node, database: str
) -> None:
    people = await users(node, 4)
    hub = node.app[REALTIME]
    created = await hub.create_match(
        [PlayerId(p.id) for p in people], ranked=True, names=[], prompt_id=None
    )
    match_id = str(created.match_id)
    players = [Player(p.handle, p.id, p.token, node.url) for p in people]
    for p in players:
        await p.connect()
        await p.join(created.seats[PlayerId(p.user_id)])
    await start_writing(players)
    gone, stay = players[1], [players[0], *players[2:]]
    for p in players:
        await p.c.wait("match.phase", lambda d: d["phase"] == "feedback")
    await gone.review_all()
    async with node.http.delete(
        f"{node.url}/api/v1/auth/me",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {gone.token}"},
    ) as resp:
        assert resp.status == 204
    for p in stay:
        await p.review_all()
    for p in stay:
        await p.results()

    mid = uuid.UUID(match_id)
    seats = await sql(
        database, "SELECT player_id, user_id, rank FROM seats WHERE match_id = $1", mid
    )
    by_player = {r["player_id"]: r for r in seats}
    assert gone.user_id not in by_player
    (pseudo,) = [r for r in seats if r["player_id"].startswith(PSEUDONYM_PREFIX)]
    assert pseudo["user_id"] is None and pseudo["rank"] is not None  # kept for the others
    assert all(p.user_id in by_player for p in stay)
    (sub,) = await sql(
        database,
        "SELECT text, edit_log, moderation FROM submissions WHERE match_id = $1 AND player_id = $2",
        mid,
        pseudo["player_id"],
    )
    assert (sub["text"], bytes(sub["edit_log"]), sub["moderation"]) == ("", b"\x90", None)
    written = await sql(
        database,
        "SELECT strength, suggestion, shown_strength, shown_suggestion, rating FROM reviews "
        "WHERE match_id = $1 AND reviewer_id = $2",
        mid,
        pseudo["player_id"],
    )
    assert written, "the deleted player's reviews keep their rating for the recipients"
    assert all(
        (r["strength"], r["suggestion"], r["shown_strength"], r["shown_suggestion"])
        == ("", "", "", "")
        and r["rating"] == 4
        for r in written
    )
    kept = await sql(
        database,
        "SELECT player_id, text FROM submissions WHERE match_id = $1 AND player_id = ANY($2)",
        mid,
        [p.user_id for p in stay],
    )
    assert {r["player_id"]: r["text"] for r in kept} == {p.user_id: p.text for p in stay}
    assert not await sql(
        database, "SELECT 1 FROM ratings WHERE user_id = $1", uuid.UUID(gone.user_id)
    )
    assert not await sql(
        database,
        "SELECT 1 FROM rating_history WHERE match_id = $1 AND player_id = $2",
        mid,
        gone.user_id,
    )
    assert len(await sql(database, "SELECT 1 FROM rating_history WHERE match_id = $1", mid)) == len(
        stay
    )
    # The match closed; its replay would hold the deleted player's keystrokes: none kept.
    await stay[0].c.until(lambda: match_id not in hub.runners)
    assert not await sql(database, "SELECT 1 FROM replays WHERE match_id = $1", mid)
    for p in stay:
        await p.c.close()

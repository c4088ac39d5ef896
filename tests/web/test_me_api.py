"""``/api/v1/me``: a player's own matches (paginated), one match's results, the rating
history; nobody else's match is ever listed or shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from server.config import Settings
from tests.conftest import Node
from tests.realtime.helpers import FAST, User, http_for, replay_stored, running_node
from tests.realtime.players import Player


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(node: Node, path: str, token: str | None) -> tuple[int, Any]:
    headers = {} if token is None else bearer(token)
    resp = await node.get(path, headers=headers)
    return resp.status, await resp.json()


async def play_quick_match(node: Node, database: str, user: User) -> tuple[str, dict[str, Any]]:
    """One quick-play match, the human against bots; returns the match id and the report."""
    human = Player("human", user.id, user.token, node.url)
    await human.connect()
    await human.c.send("match.quickplay")
    matched = (await human.c.wait("queue.status"))["d"]
    await human.join(matched["seat_token"])
    await human.ready()
    await human.c.wait("match.phase", lambda d: d["phase"] == "write")
    await human.write(3)
    await human.review_all()
    _, report = await human.results()
    await replay_stored(database, matched["match_id"])
    await human.c.close()
    return matched["match_id"], report


async def add_fake_matches(database: str, user_id: str, count: int) -> list[str]:
    """Older finished matches of ``user_id`` straight in SQL (to page through)."""
    conn = await asyncpg.connect(database)
    ids = []
    try:
        for i in range(count):
            mid = uuid.uuid4()
            at = datetime.now(UTC) - timedelta(days=i + 1)
            await conn.execute(
                "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, finished_at) "
                "VALUES ($1, 'n', 'ranked', true, 'night-market', 'voice', $2)",
                mid,
                at,
            )
            await conn.execute(
                "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, "
                "writing, review) VALUES ($1, $2, $3, 'Amber Otter', false, 1, 3.5, 3.5, 3.5)",
                mid,
                user_id,
                uuid.UUID(user_id),
            )
            ids.append(str(mid))
    finally:
        await conn.close()
    return ids


async def test_my_matches_list_only_mine_and_show_their_results(
    settings: Settings, database: str, redis_url: str
) -> None:
    s = settings.replace(match={**FAST, "feedback_seconds": 8.0})
    async with running_node(s, database, redis_url) as node:
        http = http_for(node)
        me, other = await http.register(), await http.register()
        match_id, report = await play_quick_match(node, database, me)

        status, page = await get(node, "/api/v1/me/matches", me.token)
        assert status == 200 and page["next_cursor"] is None
        (item,) = page["items"]
        assert item["match_id"] == match_id and item["players"] == 4
        assert item["rank"] in range(1, 5) and item["prompt_title"]
        assert item["rating"]["display_after"] == round(
            item["rating"]["mu_after"] - 3 * item["rating"]["sigma_after"], 3
        )

        status, detail = await get(node, f"/api/v1/me/matches/{match_id}", me.token)
        assert status == 200
        assert detail["you"] == report["alias"]
        assert detail["report"]["traits"] == report["traits"]
        assert detail["report"]["suggestions"] == report["suggestions"]
        assert len(detail["report"]["reviews_received"]) == len(report["reviews_received"])
        assert [r["helpfulness"] for r in detail["report"]["reviews_written"]] == [
            r["helpfulness"] for r in report["reviews_written"]
        ]
        assert len(detail["results"]["ranking"]) == 4
        assert detail["text"].startswith("The keeper climbed the stairs")
        assert detail["prompt"]["image"].endswith(".svg")

        status, theirs = await get(node, "/api/v1/me/matches", other.token)
        assert status == 200 and theirs["items"] == []
        status, body = await get(node, f"/api/v1/me/matches/{match_id}", other.token)
        assert status == 404 and body["error"]["code"] == "not_found"

        status, ratings = await get(node, "/api/v1/me/ratings", me.token)
        assert status == 200 and ratings["current"]["matches"] == 1
        assert [h["match_id"] for h in ratings["history"]] == [match_id]
        status, none = await get(node, "/api/v1/me/ratings", other.token)
        assert none == {"current": None, "history": []}


async def test_my_matches_are_paginated_newest_first(node: Node, database: str) -> None:
    me = await http_for(node).register()
    older = await add_fake_matches(database, me.id, 5)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "/api/v1/me/matches?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await get(node, query, me.token)
        assert status == 200 and len(page["items"]) <= 2
        seen += [i["match_id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == older and pages == 3  # newest first, each once


async def test_bad_requests_to_me(node: Node) -> None:
    me = await http_for(node).register()
    for path in ("/api/v1/me/matches", "/api/v1/me/ratings", f"/api/v1/me/matches/{uuid.uuid4()}"):
        status, body = await get(node, path, None)
        assert status == 401 and body["error"]["code"] == "missing_token", path
    for query in ("limit=0", "limit=51", "limit=x", "cursor=not-a-cursor"):
        status, body = await get(node, f"/api/v1/me/matches?{query}", me.token)
        assert status == 422 and body["error"]["code"] == "validation_failed", query
    for mid in ("nope", str(uuid.uuid4())):
        status, body = await get(node, f"/api/v1/me/matches/{mid}", me.token)
        assert status == 404 and body["error"]["code"] == "not_found"


async def test_the_openapi_document_lists_the_me_routes(node: Node) -> None:
    doc = await (await node.get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/me/matches", "/api/v1/me/matches/{match_id}", "/api/v1/me/ratings"):
        op = doc["paths"][path]["get"]
        assert op["security"] == [{"bearer": []}] and "200" in op["responses"]
    assert "/" in doc["paths"] and "/app/{folder}/{name}" in doc["paths"]

"""Quick play: one human against in-process bots, end to end, bots rated like anyone."""

from __future__ import annotations

import uuid

from server.config import Settings
from server.http.state import REALTIME
from tests.realtime.helpers import (
    FAST,
    fetch,
    http_for,
    no_matches,
    replay_stored,
    running_node,
)
from tests.realtime.players import Player


async def test_one_human_plays_a_match_against_bots(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match={**FAST, "feedback_seconds": 6.0})
    async with running_node(settings, database, redis_url) as node:
        user = await http_for(node).register()
        human = Player("human", user.id, user.token, node.url)
        await human.connect()
        await human.c.send("match.quickplay")
        matched = (await human.c.wait("queue.status"))["d"]
        assert matched["status"] == "matched" and matched["node_url"].endswith("/ws")
        again = await human.c.send("match.quickplay")  # one seat at a time
        refused = await human.c.wait("error", lambda d: d["ref"] == again)
        assert refused["d"]["code"] == "already_queued"

        state = await human.join(matched["seat_token"])
        assert state["phase"] == "lobby" and len(state["seats"]) == 4  # min_players
        bots = [s for s in state["seats"] if not s["you"]]
        assert all(s["connected"] and s["ready"] for s in bots)
        await human.ready()
        await human.c.wait("match.phase", lambda d: d["phase"] == "write")
        await human.write(3)
        progress = await human.c.wait(
            "match.progress", lambda d: all(d["words"][s["alias"]] > 0 for s in bots)
        )
        assert progress is not None  # every bot typed something, as edits over time
        assignments = await human.review_all()
        assert len(assignments) == 2
        results, report = await human.results()
        assert len(results["ranking"]) == 4
        assert all(row["words"] > 0 and row["rating"] is not None for row in results["ranking"])
        assert len(report["reviews_received"]) == 2  # two bots reviewed the human's piece

        match_id = uuid.UUID(matched["match_id"])
        await replay_stored(database, matched["match_id"])
        history = await fetch(
            database,
            "SELECT player_id, is_bot FROM rating_history WHERE match_id = $1 ORDER BY player_id",
            match_id,
        )
        assert [(r["player_id"], r["is_bot"]) for r in history] == sorted(
            [("bot:1", True), ("bot:2", True), ("bot:3", True), (user.id, False)]
        )
        bot_ratings = await fetch(database, "SELECT bot_id, matches FROM bot_ratings")
        assert {(r["bot_id"], r["matches"]) for r in bot_ratings} == {
            ("bot:1", 1),
            ("bot:2", 1),
            ("bot:3", 1),
        }
        edits = await fetch(
            database,
            "SELECT player_id, length(edit_log) AS n FROM submissions WHERE match_id = $1",
            match_id,
        )
        assert all(r["n"] > 1 for r in edits)  # bots' typing is kept for the replay

        # Free again once the match is over: a second quick play works.
        await no_matches(node.app[REALTIME])
        await human.c.send("match.quickplay")
        await human.c.wait("queue.status", lambda d: d["match_id"] != matched["match_id"])
        await human.c.close()

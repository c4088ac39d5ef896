"""``settings.class_may_watch``: whether a lobby's class may watch its matches.

Set when the lobby is opened or with a PATCH (even while a round plays, unlike the rules
of the round), validated like the other settings, shown in the lobby, kept in the
``lobbies.class_may_watch`` column that the watch rules read; a classmate who did not
play is let into a finished match's replay exactly while it is on.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from server.config import Settings
from tests.classes.helpers import call, error_of, ok
from tests.conftest import Node
from tests.lobbies.helpers import (
    Classroom,
    classroom,
    join,
    lobby_settings,
    open_lobby,
    play_round,
    teacher,
    watch,
)
from tests.realtime.helpers import fetch, replay_stored, running_node
from tests.realtime.players import gather


async def column(database: str, lobby_id: str) -> tuple[bool, dict[str, Any]]:
    """``lobbies.class_may_watch`` and the settings JSON as stored."""
    (row,) = await fetch(
        database,
        "SELECT class_may_watch, settings FROM lobbies WHERE id = $1",
        uuid.UUID(lobby_id),
    )
    settings: dict[str, Any] = orjson.loads(row["settings"])
    return row["class_may_watch"], settings


async def patch(node: Node, token: str, lobby_id: str, settings: dict[str, Any]) -> Any:
    return await call(node, "PATCH", f"/api/v1/lobbies/{lobby_id}", token, {"settings": settings})


async def replay_status(node: Node, token: str, match_id: str) -> int:
    resp = await call(node, "GET", f"/api/v1/replays/{match_id}", token)
    if resp.status == 404:
        assert (await error_of(resp))[1] == "replay_not_found"
    return resp.status


async def test_class_may_watch_is_a_lobby_setting(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 5)
        token = room.teacher.token
        lobby = await open_lobby(node, token, room.class_id)
        lid = lobby["id"]
        assert lobby["settings"]["class_may_watch"] is False
        on, stored = await column(database, lid)
        assert on is False and "class_may_watch" not in stored

        # Opened with it on: shown, in its column, not in the settings JSON.
        other = await open_lobby(node, token, None, class_may_watch=True)
        assert other["settings"]["class_may_watch"] is True
        shown = await ok(await call(node, "GET", f"/api/v1/lobbies/{other['id']}", token))
        assert shown["lobby"]["settings"]["class_may_watch"] is True
        on, stored = await column(database, other["id"])
        assert on is True and "class_may_watch" not in stored
        await ok(await call(node, "POST", f"/api/v1/lobbies/{other['id']}/close", token))

        # Validated like the other settings: a boolean, named in details.fields.
        for bad in ("yes", 1, None, {}):
            status, code, details = await error_of(
                await patch(node, token, lid, {"class_may_watch": bad})
            )
            assert (status, code) == (422, "validation_failed"), bad
            assert "settings.class_may_watch" in details["fields"], bad
        resp = await call(
            node, "POST", "/api/v1/lobbies", token, {"settings": {"class_may_watch": "on"}}
        )
        assert (await error_of(resp))[:2] == (422, "validation_failed")

        # Another teacher cannot set it: no such lobby.
        stranger = await teacher(node)
        resp = await patch(node, stranger.token, lid, {"class_may_watch": True})
        assert (await error_of(resp))[:2] == (404, "lobby_not_found")
        assert (await column(database, lid))[0] is False

        # A round of four; the fifth classmate stays away and watches later.  While the
        # round plays, the rules of the round are refused and class_may_watch is not.
        players, bystander = room.students[:4], room.students[4]
        t = await watch(node, token, lid)
        await gather(*(join(p, lobby["code"]) for p in players))
        await t.until(lambda: len(t.all("lobby.member")) >= 4)

        async def during_the_round() -> None:
            for refused in ({"write_seconds": 5}, {"class_may_watch": True, "ranked": True}):
                resp = await patch(node, token, lid, refused)
                assert (await error_of(resp))[:2] == (409, "lobby_playing"), refused
            changed = await ok(await patch(node, token, lid, {"class_may_watch": True}))
            assert changed["status"] == "playing"
            assert changed["settings"]["class_may_watch"] is True
            assert changed["settings"]["ranked"] is False  # nothing else moved

        match_id = await play_round(
            t,
            Classroom(room.teacher, room.class_id, players),
            [1, 2, 3, 4],
            between=during_the_round,
        )
        shown = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}", token))
        assert shown["lobby"]["settings"]["class_may_watch"] is True
        assert (await column(database, lid))[0] is True

        # The classmate who did not play watches the finished match while it is allowed.
        await replay_stored(database, match_id)
        assert await replay_status(node, bystander.token, match_id) == 200
        off = await ok(await patch(node, token, lid, {"class_may_watch": False}))
        assert off["settings"]["class_may_watch"] is False
        assert await replay_status(node, bystander.token, match_id) == 404
        assert await replay_status(node, players[0].token, match_id) == 200  # their own
        assert await replay_status(node, stranger.token, match_id) == 404

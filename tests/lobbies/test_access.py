"""Who may do what with a lobby, bad codes, kick, ban, lock, messages and rounds in a row."""

from __future__ import annotations

from typing import Any

from server.config import Settings
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.lobbies.helpers import (
    acked,
    classroom,
    join,
    lobby_settings,
    open_lobby,
    refused,
    teacher,
    watch,
)
from tests.realtime.client import Client
from tests.realtime.helpers import running_node
from tests.realtime.players import Player, gather


async def player(node: Any, name: str = "p") -> Player:
    body = await register(node)
    return Player(name, body["user"]["id"], body["access_token"], node.url)


async def test_only_the_teacher_or_an_admin_controls_a_lobby(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        other = await classroom(node, 1)  # another teacher, with a class of their own
        lobby = await open_lobby(node, room.teacher.token, room.class_id)
        code = lobby["code"]

        # REST: another teacher sees no such lobby; a player may not open one.
        for method, path in (
            ("GET", f"/api/v1/lobbies/{lobby['id']}"),
            ("PATCH", f"/api/v1/lobbies/{lobby['id']}"),
            ("POST", f"/api/v1/lobbies/{lobby['id']}/close"),
        ):
            body = {"name": "Mine now"} if method == "PATCH" else None
            resp = await call(node, method, path, other.teacher.token, body)
            assert (await error_of(resp))[:2] == (404, "lobby_not_found")
        outsider = await player(node, "outsider")
        resp = await call(node, "POST", "/api/v1/lobbies", outsider.token, {})
        assert (await error_of(resp))[:2] == (403, "not_a_teacher")
        resp = await call(
            node, "POST", "/api/v1/lobbies", room.teacher.token, {"class_id": other.class_id}
        )
        assert (await error_of(resp))[:2] == (404, "class_not_found")
        resp = await call(node, "GET", "/api/v1/lobbies", room.teacher.token)
        assert [item["id"] for item in (await ok(resp))["items"]] == [lobby["id"]]

        # The socket: watching and controls.
        other_teacher = await Client.session(node.url, other.teacher.token, name="other")
        await refused(other_teacher, "lobby.watch", {"lobby_id": lobby["id"]}, "forbidden")
        await refused(other_teacher, "teacher.pause", None, "not_watching")
        await outsider.connect()
        await refused(outsider.c, "lobby.watch", {"lobby_id": lobby["id"]}, "forbidden")
        await refused(outsider.c, "teacher.pause", None, "forbidden")
        await refused(outsider.c, "teacher.extend", {"seconds": 30}, "forbidden")
        await refused(
            outsider.c, "lobby.kick", {"player_id": room.students[0].user_id}, "forbidden"
        )
        await refused(outsider.c, "lobby.watch", {"lobby_id": "not-a-uuid"}, "lobby_not_found")

        # Joining: a player outside the class and a student of another class are refused.
        await refused(outsider.c, "lobby.join", {"code": code}, "not_in_class")
        stranger = other.students[0]
        await stranger.connect()
        error = await refused(stranger.c, "lobby.join", {"code": code}, "not_in_class")
        assert "another class" in error["message"]
        mine = await watch(node, room.teacher.token, lobby["id"])
        await refused(mine, "lobby.join", {"code": code}, "forbidden")  # the teacher plays not
        await refused(mine, "teacher.resume", None, "wrong_phase")  # no round yet

        # An admin may watch any lobby.
        _, admin = await admin_token(node)
        head = await Client.session(node.url, admin, name="admin")
        await head.send("lobby.watch", {"lobby_id": lobby["id"]})
        roster = (await head.wait("lobby.roster"))["d"]
        assert roster["lobby"]["lobby_id"] == lobby["id"] and roster["lobby"]["code"] == code

        # Students of the class get in; both watchers see them.
        await gather(*(join(p, code) for p in room.students))
        for watcher in (mine, head):

            def all_in(w: Client = watcher) -> bool:
                return len(w.all("lobby.member")) >= 4

            await watcher.until(all_in)
            assert len(watcher.all("lobby.member")) == 4


async def test_codes_that_cannot_be_or_are_not_open(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 1)
        lobby = await open_lobby(node, room.teacher.token, None)
        p = room.students[0]
        await p.connect()
        error = await refused(p.c, "lobby.join", {"code": "K0M-QXP"}, "bad_code")
        assert "0" in error["message"] and error["path"] == "d.code"
        await refused(p.c, "lobby.join", {"code": "K7M"}, "bad_code")
        await refused(p.c, "lobby.join", {"code": "K7M-QX?"}, "bad_code")
        await refused(p.c, "lobby.join", {"code": ""}, "out_of_range")
        await refused(p.c, "lobby.join", {"code": "x" * 33}, "out_of_range")
        await refused(p.c, "lobby.join", {"code": 123456}, "bad_field_type")
        unknown = "222222" if lobby["code"] != "222-222" else "333333"
        await refused(p.c, "lobby.join", {"code": unknown}, "lobby_not_found")
        await refused(p.c, "lobby.leave", None, "not_a_member")

        state = await join(p, f" {lobby['code'].lower()} ")
        assert state["you"] == "in" and state["teacher"] == room.teacher.name
        resp = await call(node, "POST", f"/api/v1/lobbies/{lobby['id']}/close", room.teacher.token)
        assert (await ok(resp))["status"] == "closed"
        closed = await p.c.wait("lobby.state", lambda d: d["you"] == "closed")
        assert closed["d"]["lobby"]["status"] == "closed"
        await refused(p.c, "lobby.join", {"code": lobby["code"]}, "lobby_not_found")


async def test_kick_ban_lock_message_and_rounds_in_a_row(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        boss = await teacher(node)
        lobby = await open_lobby(node, boss.token, None, bots=False)  # open to anyone
        code = lobby["code"]
        t = await watch(node, boss.token, lobby["id"])
        players = [await player(node, f"p{i}") for i in range(4)]
        await gather(*(join(p, code) for p in players[:3]))

        # Kick: out, may come back; a ban keeps them out.
        kicked = players[0]
        await acked(t, "lobby.kick", {"player_id": kicked.user_id})
        assert (await kicked.c.wait("lobby.state", lambda d: d["you"] == "kicked"))["d"]
        await t.wait("lobby.member", lambda d: d["change"] == "kicked")
        assert (await join(kicked, code))["you"] == "in"
        await acked(t, "lobby.kick", {"player_id": kicked.user_id, "ban": True})
        await kicked.c.wait("lobby.state", lambda d: d["you"] == "banned")
        await refused(kicked.c, "lobby.join", {"code": code}, "lobby_banned")
        await refused(t, "lobby.kick", {"player_id": kicked.user_id}, "not_a_member")
        await refused(t, "lobby.kick", {"player_id": players[3].user_id}, "not_a_member")

        # Lock: nobody new gets in; unlock lets them.
        late = players[3]
        await acked(t, "lobby.lock", {"locked": True})
        await players[1].c.wait("lobby.state", lambda d: d["lobby"]["locked"])
        await late.connect()
        await refused(late.c, "lobby.join", {"code": code}, "lobby_locked")
        await acked(t, "lobby.lock", {"locked": False})
        assert (await join(late, code))["you"] == "in"

        # A message from the teacher, bounded and checked.
        await acked(t, "lobby.message", {"text": "Five minutes left, finish your sentence!"})
        notice = await players[1].c.wait("lobby.notice")
        assert notice["d"]["text"].startswith("Five") and notice["d"]["teacher"] == boss.name
        await refused(t, "lobby.message", {"text": "   "}, "bad_value")
        await refused(t, "lobby.message", {"text": "x" * 501}, "out_of_range")
        await refused(t, "lobby.message", {"text": "a\u0000b"}, "bad_value")

        # Three players with bots off cannot be split; with bots on: 3 + a bot.
        here = players[1:]
        error = await refused(t, "teacher.start", None, "cannot_split")
        assert "bots" in error["message"]
        resp = await call(
            node,
            "PATCH",
            f"/api/v1/lobbies/{lobby['id']}",
            boss.token,
            {"settings": {"bots": True}},
        )
        assert (await ok(resp))["settings"]["bots"] is True
        await acked(t, "teacher.start")
        first = (await t.wait("lobby.round"))["d"]
        (party,) = first["parties"]
        assert len(party["players"]) == 3 and party["bots"] == 1
        resp = await call(
            node,
            "PATCH",
            f"/api/v1/lobbies/{lobby['id']}",
            boss.token,
            {"settings": {"bots": False}},
        )
        assert (await error_of(resp))[:2] == (409, "lobby_playing")
        seats = await gather(*(p.c.wait("lobby.seat") for p in here))
        await gather(*(p.join(s["d"]["seat_token"]) for p, s in zip(here, seats, strict=True)))
        await acked(t, "teacher.start")  # leaves the lobby phase of every match now
        await gather(*(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in here))
        await refused(t, "teacher.start", None, "wrong_phase")
        await gather(*(p.write(1) for p in here))
        await gather(*(p.review_all() for p in here))
        await gather(*(p.results() for p in here))
        await t.wait("lobby.round", lambda d: d["status"] == "ended")

        # The next round, same players.
        mark = len(t.events)
        await acked(t, "teacher.start")
        second = (await t.wait("lobby.round", start=mark))["d"]
        assert second["round"] == 2 and second["status"] == "playing"
        assert {pl["player_id"] for pl in second["parties"][0]["players"]} == {
            p.user_id for p in here
        }
        resp = await call(node, "GET", f"/api/v1/lobbies/{lobby['id']}", boss.token)
        detail = await ok(resp)
        assert [r["round"] for r in detail["rounds"]] == [1, 2]
        assert detail["rounds"][0]["ended_at"] is not None
        assert detail["rounds"][0]["matches"][0]["match_id"] == party["match_id"]
        assert {m["id"] for m in detail["members"]} == {p.user_id for p in here}


async def test_teacher_actions_are_rate_limited(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = lobby_settings(settings).replace(lobbies={"actions_per_minute": 6})  # burst 1
    async with running_node(settings, database, redis_url) as node:
        boss = await teacher(node)
        lobby = await open_lobby(node, boss.token, None)
        t = await watch(node, boss.token, lobby["id"])
        await acked(t, "lobby.message", {"text": "Hello class"})
        error = await refused(t, "lobby.message", {"text": "Hello again"}, "too_many_actions")
        assert 0 < error["retry_after_ms"] <= 10_000

"""Notifications pushed over the player's WebSocket: stored, published after the commit,
sent by the node holding the player's sockets; and a match's end meeting a goal pushes
``goal_met`` to the player (the runner's hook, server/realtime/runner.py)."""

from __future__ import annotations

from server.config import Settings
from server.http.state import PG, REDIS
from server.notifications import push
from server.notifications import store as notes
from tests.classes.helpers import call, ok
from tests.realtime.helpers import FAST, http_for, running_node
from tests.realtime.players import Player


async def test_a_notification_is_pushed_to_the_players_sockets(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        me, other = await http.register(), await http.register()
        mine = [Player("me", me.id, me.token, node.url) for _ in range(2)]  # two tabs
        theirs = Player("other", other.id, other.token, node.url)
        for p in (*mine, theirs):
            await p.connect()
        note = await notes.notify(
            node.app[PG], me.id, "teacher_message", {"text": "Well done today!", "class_id": "c"}
        )
        await notes.publish(node.app[REDIS], [note])
        for p in mine:
            pushed = (await p.c.wait("notification"))["d"]
            assert pushed == {
                "id": note.id,
                "kind": "teacher_message",
                "data": {"text": "Well done today!", "class_id": "c"},
                "at": int(note.created_at.timestamp() * 1000),
            }
        later = await notes.notify(
            node.app[PG], other.id, "escalation_answered", {"thread_id": "t"}
        )
        await notes.publish(node.app[REDIS], [later])
        got = await theirs.c.wait("notification")
        assert got["d"]["id"] == later.id
        assert [e["d"]["id"] for e in theirs.c.all("notification")] == [later.id]  # not mine
        assert all(len(p.c.all("notification")) == 1 for p in mine)
        for p in (*mine, theirs):
            await p.c.close()


def test_what_does_not_decode_is_dropped() -> None:
    class Sock:
        role, closing = "player", False

        def __init__(self) -> None:
            self.sent: list[object] = []

        def send_event(self, event: object) -> bool:
            self.sent.append(event)
            return True

    sock = Sock()
    by_player = {"u1": [sock]}
    good = (
        b'{"user_id": "u1", "id": "n1", "kind": "goal_met", "data": {}, '
        b'"created_at": "2026-12-02T10:00:00+00:00", "read": false}'
    )
    for bad in (b"", b"[]", b"{}", b"not json", good.replace(b"goal_met", b"no_such_kind")):
        assert push.deliver(by_player, bad) == 0
    assert push.deliver(by_player, good) == 1 and len(sock.sent) == 1
    assert push.deliver({"u2": [sock]}, good) == 0  # nobody of that user here


async def test_a_match_that_meets_a_goal_pushes_goal_met(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match={**FAST, "feedback_seconds": 6.0})
    async with running_node(settings, database, redis_url) as node:
        user = await http_for(node).register()
        goal = await ok(
            await call(
                node, "POST", "/api/v1/goals/me", user.token, {"trait": "ideas", "target": 1}
            ),
            201,
        )
        human = Player("human", user.id, user.token, node.url)
        await human.connect()
        await human.c.send("match.quickplay")
        matched = (await human.c.wait("queue.status"))["d"]
        await human.join(matched["seat_token"])
        await human.ready()
        await human.c.wait("match.phase", lambda d: d["phase"] == "write")
        await human.write(3)
        await human.review_all()
        await human.c.wait("match.saved")
        pushed = (await human.c.wait("notification"))["d"]
        assert pushed["kind"] == "goal_met" and pushed["data"]["goal_id"] == goal["id"]
        assert len(pushed["data"]["suggestions"]) == 3
        listed = await ok(await call(node, "GET", "/api/v1/goals/me", user.token))
        assert listed["items"][0]["status"] == "met"
        await human.c.close()

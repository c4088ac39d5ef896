"""A class, its students signed in with their codes, and a lobby — all over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.config import Settings
from tests.classes.helpers import call, new_class, ok, register
from tests.conftest import Node
from tests.realtime.client import Client
from tests.realtime.helpers import FAST, fetch
from tests.realtime.players import Player, gather

FAST_LOBBY: dict[str, Any] = {
    "lobby_seconds": FAST["lobby_seconds"],
    "write_seconds": 2.0,
    "feedback_seconds": FAST["feedback_seconds"],
    "results_seconds": FAST["results_seconds"],
    "bots": False,
}
"""Round rules with short phases: the tests pause the clock where timing would matter."""

NAMES = [
    "Maria Lopez",
    "Ali Hassan",
    "Zoe Ng",
    "Tom Baker",
    "Ana Silva",
    "Ben Okafor",
    "Chen Wei",
    "Dara Kelly",
    "Eli Cohen",
    "Fatima Khan",
    "Gus Moreau",
    "Hana Sato",
    "Ivan Petrov",
    "Jade Wong",
    "Kofi Mensah",
    "Lena Fischer",
]


def lobby_settings(settings: Settings) -> Settings:
    return settings.replace(
        match={"grace_seconds": FAST["grace_seconds"], "reconnect_grace_seconds": 60.0},
        lobbies={
            "live_view_seconds": 0.2,
            "draft_moderation_seconds": 0.2,
            "actions_per_minute": 6000,
        },
    )


@dataclass
class Teacher:
    id: str
    token: str
    name: str


@dataclass
class Classroom:
    teacher: Teacher
    class_id: str
    students: list[Player]


async def teacher(node: Node) -> Teacher:
    body = await register(node, "teacher")
    return Teacher(body["user"]["id"], body["access_token"], body["user"]["display_name"])


async def classroom(node: Node, size: int, who: Teacher | None = None) -> Classroom:
    """A teacher (new unless given), a class of ``size`` students imported from a CSV
    roster, each signed in with username and code (not yet connected)."""
    who = who or await teacher(node)
    klass = await new_class(node, who.token)
    csv = "name\n" + "\n".join(NAMES[:size]) + "\n"
    resp = await call(
        node, "POST", f"/api/v1/classes/{klass['id']}/students/import", who.token, {"csv": csv}
    )
    report = await ok(resp)
    assert not report["rejected"], report["rejected"]
    students = []
    for row in report["students"]:
        resp = await node.post(
            "/api/v1/auth/student", {"username": row["username"], "code": row["code"]}
        )
        tokens = await ok(resp)
        students.append(Player(row["name"], tokens["user"]["id"], tokens["access_token"], node.url))
    return Classroom(who, klass["id"], students)


async def open_lobby(
    node: Node, token: str, class_id: str | None, **settings: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"settings": {**FAST_LOBBY, **settings}}
    if class_id is not None:
        body["class_id"] = class_id
    resp = await call(node, "POST", "/api/v1/lobbies", token, body)
    lobby: dict[str, Any] = await ok(resp, 201)
    return lobby


async def watch(node: Node, token: str, lobby_id: str) -> Client:
    client = await Client.session(node.url, token, name="teacher")
    await client.send("lobby.watch", {"lobby_id": lobby_id})
    await client.wait("lobby.roster")
    return client


async def join(player: Player, code: str) -> dict[str, Any]:
    if player.client is None:
        await player.connect()
    mark = len(player.c.events)
    await player.c.send("lobby.join", {"code": code})
    state = await player.c.wait("lobby.state", start=mark)
    data: dict[str, Any] = state["d"]
    return data


async def say(player: Player, text: str) -> None:
    """Append ``text`` to the player's draft in one edit and wait for the ack."""
    player.seq += 1
    ops = [{"pos": len(player.text), "insert": text}]
    ref = await player.c.send("draft.edit", {"seq": player.seq, "ops": ops})
    player.text += text
    await player.c.ack(ref)
    player.acked_text = player.text


async def answer(client: Client, ref: int) -> dict[str, Any]:
    """The ``ack`` or ``error`` event answering envelope ``ref``."""

    def found() -> dict[str, Any] | None:
        for event in client.events:
            if event["t"] == "ack" and event["d"]["id"] == ref:
                return event
            if event["t"] == "error" and event["d"]["ref"] == ref:
                return event
        return None

    await client.until(lambda: found() is not None)
    event = found()
    assert event is not None, f"no answer to {ref}"
    return event


async def refused(client: Client, t: str, d: Any, code: str) -> dict[str, Any]:
    """Send a message and check it is refused with ``code``; the error's ``d``."""
    event = await answer(client, await client.send(t, d))
    assert event["t"] == "error", event
    assert event["d"]["code"] == code, event["d"]
    data: dict[str, Any] = event["d"]
    return data


async def acked(client: Client, t: str, d: Any = None) -> None:
    event = await answer(client, await client.send(t, d))
    assert event["t"] == "ack", event


async def play_round(
    t: Client,
    room: Classroom,
    sentences: list[int],
    *,
    between: Callable[[], Awaitable[None]] | None = None,
) -> str:
    """One round of one party (every student of ``room``) played to its end; the match
    id.  ``between`` runs while the round plays, held in its lobby phase (the students
    are seated and nobody is ready: the phase waits for the teacher's second start)."""
    mark = len(t.events)
    marks = [len(p.c.events) for p in room.students]
    await acked(t, "teacher.start")
    round_ = (await t.wait("lobby.round", start=mark))["d"]
    (party,) = round_["parties"]
    seats = await gather(
        *(p.c.wait("lobby.seat", start=m) for p, m in zip(room.students, marks, strict=True))
    )
    for p in room.students:  # a new match: a new draft
        p.text = p.acked_text = ""
        p.seq = 0
    for p, s in zip(room.students, seats, strict=True):
        await p.c.send("match.join", {"seat_token": s["d"]["seat_token"]})
    await gather(
        *(p.c.wait("match.state", start=m) for p, m in zip(room.students, marks, strict=True))
    )
    if between is not None:
        await between()
    await acked(t, "teacher.start")  # out of the lobby phase now
    await gather(
        *(
            p.c.wait("match.phase", lambda d: d["phase"] == "write", start=m)
            for p, m in zip(room.students, marks, strict=True)
        )
    )
    await gather(*(p.write(n) for p, n in zip(room.students, sentences, strict=True)))
    await gather(*(p.review_all(start=m) for p, m in zip(room.students, marks, strict=True)))
    for p, m in zip(room.students, marks, strict=True):
        await p.c.wait("match.results", start=m)
        await p.c.wait("match.phase", lambda d: d["phase"] == "closed", start=m)
    await t.wait("lobby.round", lambda d: d["status"] == "ended", start=mark)
    match_id: str = party["match_id"]
    return match_id


async def ratings(database: str, users: list[str]) -> dict[str, tuple[float, float]]:
    """The users' current ratings (mu, sigma), by user id."""
    rows = await fetch(
        database,
        "SELECT user_id, mu, sigma FROM ratings WHERE user_id = ANY($1::uuid[])",
        [uuid.UUID(u) for u in users],
    )
    return {str(r["user_id"]): (r["mu"], r["sigma"]) for r in rows}


async def history(database: str, match_id: str) -> dict[str, Any]:
    """The match's recorded rating update, by player id."""
    rows = await fetch(
        database,
        "SELECT player_id, rank, mu_before, sigma_before, mu_after, sigma_after "
        "FROM rating_history WHERE match_id = $1",
        uuid.UUID(match_id),
    )
    return {r["player_id"]: dict(r) for r in rows}

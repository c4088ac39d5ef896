"""A whole lesson on one node, over real sockets: a class of 14 plays three parties at once.

The teacher imports the roster, opens a lobby for the class, watches it; 14 students sign
in with their codes and join with the lobby code; the round is split 5/5/4 and the
three matches run in parallel.  The teacher pauses the round in its lobby phase, so the
write phase opens with the clock stopped and nothing below depends on how fast the
machine is; the live view shows every draft as it grows; the teacher extends the write
phase once and resumes; a student's text with a self-harm signal reaches the teacher as
soon as it is moderated; everyone reviews and the matches finish.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from server.config import Settings
from tests.lobbies.helpers import acked, classroom, join, lobby_settings, open_lobby, say, watch
from tests.realtime.client import Client
from tests.realtime.helpers import eventually, fetch, running_node
from tests.realtime.players import SENTENCES, Player, gather

SAFETY = " Sometimes when the storm comes I want to die, and nobody knows."


def writers(teacher: Client, player_id: str) -> list[dict[str, Any]]:
    return [e["d"] for e in teacher.all("lobby.writer") if e["d"]["player_id"] == player_id]


async def sees(teacher: Client, player: Player) -> None:
    """The teacher's live view shows the player's draft as the server acknowledged it."""

    def shown() -> bool:
        mine = writers(teacher, player.user_id)
        return bool(mine) and mine[-1]["text"] == player.acked_text

    await teacher.until(shown)
    assert shown(), (player.name, writers(teacher, player.user_id)[-1:], player.acked_text)


async def test_a_class_of_fourteen_plays_a_round(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 14)
        lobby = await open_lobby(node, room.teacher.token, room.class_id)
        assert lobby["status"] == "open" and len(lobby["code"]) == 7  # K7M-QXP
        teacher = await watch(node, room.teacher.token, lobby["id"])
        roster = teacher.find("lobby.roster")
        assert roster is not None and roster["d"]["members"] == []

        # Everyone joins with the code as a child would type it: lower case, no dash.
        typed = lobby["code"].replace("-", "").lower()
        states = await gather(*(join(p, typed) for p in room.students))
        assert {s["you"] for s in states} == {"in"}
        assert states[0]["lobby"]["lobby_id"] == lobby["id"]
        await teacher.until(lambda: len(teacher.all("lobby.member")) >= 14)
        joined = [e["d"] for e in teacher.all("lobby.member") if e["d"]["change"] == "joined"]
        assert {j["member"]["player_id"] for j in joined} == {p.user_id for p in room.students}
        assert {j["member"]["name"] for j in joined} == {p.name for p in room.students}

        # Start: 14 → 5, 5, 4, each student told their seat.
        await acked(teacher, "teacher.start")
        round_ = (await teacher.wait("lobby.round"))["d"]
        assert round_["status"] == "playing" and round_["round"] == 1
        sizes = sorted((len(p["players"]) for p in round_["parties"]), reverse=True)
        assert sizes == [5, 5, 4] and all(p["bots"] == 0 for p in round_["parties"])
        party_of = {
            pl["player_id"]: p["match_id"] for p in round_["parties"] for pl in p["players"]
        }
        assert set(party_of) == {p.user_id for p in room.students}
        await acked(teacher, "teacher.pause")  # still in the lobby phase: the clock stops

        seats = await gather(*(p.c.wait("lobby.seat") for p in room.students))
        for p, seat in zip(room.students, seats, strict=True):
            assert seat["d"]["match_id"] == party_of[p.user_id]
            assert seat["d"]["node_url"].endswith("/ws")
        joined_states = await gather(
            *(p.join(s["d"]["seat_token"]) for p, s in zip(room.students, seats, strict=True))
        )
        assert all(s["phase"] == "lobby" for s in joined_states)
        for p in room.students:
            await p.ready()
        matches = {p["match_id"] for p in round_["parties"]}

        def in_write(paused: bool) -> bool:
            latest: dict[str, dict[str, Any]] = {}
            for e in teacher.all("lobby.match"):
                latest[e["d"]["match_id"]] = e["d"]
            return set(latest) == matches and all(
                d["phase"] == "write" and d["paused"] is paused for d in latest.values()
            )

        await teacher.until(lambda: in_write(paused=True))
        assert in_write(paused=True)
        await gather(
            *(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in room.students)
        )

        # The drafts grow, and the teacher sees each step (names, not only aliases).
        await gather(*(p.write(1) for p in room.students))
        await gather(*(sees(teacher, p) for p in room.students))
        troubled = room.students[0]
        await gather(
            *(p.write(2, start=1) for p in room.students[1:]),
            say(troubled, SAFETY),
        )
        await gather(*(sees(teacher, p) for p in room.students))
        for p in room.students:
            steps = [w["text"] for w in writers(teacher, p.user_id) if w["text"]]
            assert steps[0] == SENTENCES[0] and steps[-1] == p.acked_text, (p.name, steps)
            last = writers(teacher, p.user_id)[-1]
            assert last["name"] == p.name and last["alias"] and last["alias"] != p.name
            assert last["words"] == len(p.acked_text.split())
            assert last["match_id"] == party_of[p.user_id]

        # Extend once (paused: the frozen remainder grows by exactly that), then resume.
        before = {e["d"]["match_id"]: e["d"]["remaining_ms"] for e in teacher.all("lobby.match")}
        mark = len(teacher.events)
        await acked(teacher, "teacher.extend", {"seconds": 1})

        def extended() -> bool:
            after = {e["d"]["match_id"] for e in teacher.events[mark:] if e["t"] == "lobby.match"}
            return after == matches

        await teacher.until(extended)
        for e in teacher.events[mark:]:
            if e["t"] == "lobby.match":
                assert abs(e["d"]["remaining_ms"] - before[e["d"]["match_id"]] - 1000) <= 1
        await acked(teacher, "teacher.resume")

        # The write phase ends; the troubled piece reaches the teacher with its text.
        flag = (await teacher.wait("lobby.flag", lambda d: d["safety"]))["d"]
        assert flag["player_id"] == troubled.user_id and flag["name"] == troubled.name
        assert "self_harm" in flag["reasons"] and SAFETY.strip() in flag["text"]
        assert flag["source"] == "piece" and flag["match_id"] == party_of[troubled.user_id]

        # Everyone reviews; the three matches finish; the round ends.
        await gather(*(p.review_all() for p in room.students))
        finals = await gather(*(p.results() for p in room.students))
        for p, (results, _) in zip(room.students, finals, strict=True):
            assert results["match_id"] == party_of[p.user_id]
            assert results["ranked"] is False
        ended = await teacher.wait("lobby.round", lambda d: d["status"] == "ended")
        assert ended["d"]["round"] == 1
        done = [w for w in teacher.all("lobby.writer") if w["d"]["reviews_assigned"]]
        assert {w["d"]["player_id"] for w in done} == {p.user_id for p in room.students}

        # Stored: the round, and one match per party, findable per lobby.
        rows = await fetch(
            database,
            "SELECT match_id, party, cardinality(players) AS n FROM lobby_matches "
            "WHERE lobby_id = $1 AND round = 1",
            uuid.UUID(lobby["id"]),
        )
        assert sorted(r["n"] for r in rows) == [4, 5, 5]
        assert {str(r["match_id"]) for r in rows} == matches

        async def round_ended() -> bool:
            got = await fetch(
                database,
                "SELECT ended_at FROM lobby_rounds WHERE lobby_id = $1",
                uuid.UUID(lobby["id"]),
            )
            return len(got) == 1 and got[0]["ended_at"] is not None

        await eventually(round_ended, "the round to be stored as ended")
        counts = Counter(e["t"] for e in teacher.events)
        assert counts["error"] == 0, [e["d"] for e in teacher.all("error")]

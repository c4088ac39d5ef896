"""A whole lesson on one node, over real sockets: a class of 14 plays three parties at once.

The teacher imports the roster, opens a ranked lobby for the class, watches it; 14
students sign in with their codes and join with the lobby code; the round is split 5/5/4
and the three matches run in parallel.  The teacher pauses the round in its lobby phase,
so the write phase opens with the clock stopped and nothing below depends on how fast the
machine is; the live view shows every draft as it grows; the teacher extends the write
phase once and resumes; a student's text with a self-harm signal reaches the teacher as
soon as it is typed (its draft is checked while the round is still paused in its write
phase) and again as a piece when writing ends; everyone reviews and the matches finish.
After the lesson the teacher overrides one score with a reason: that match is ranked and rated again (the
other two stay as played), the students see the corrected result marked as overridden,
and the CSV export holds one correct row per student.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from typing import Any

from server.ai.content import load_prompts
from server.config import Settings
from server.game.rating import RatingChange
from server.storage import overrides
from tests.classes.helpers import call, ok
from tests.conftest import Node
from tests.lobbies.helpers import (
    Classroom,
    acked,
    classroom,
    history,
    join,
    lobby_settings,
    open_lobby,
    ratings,
    say,
    watch,
)
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
        lobby = await open_lobby(node, room.teacher.token, room.class_id, ranked=True)
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

        # Still writing, with the clock stopped: the draft with the safety signal reaches
        # the teacher as it was typed, not when writing ends; nobody else is flagged.
        early = (await teacher.wait("lobby.flag", lambda d: d["safety"]))["d"]
        assert early["source"] == "draft" and early["phase"] == "write"
        assert early["player_id"] == troubled.user_id and early["name"] == troubled.name
        assert "self_harm" in early["reasons"] and SAFETY.strip() in early["text"]
        assert early["match_id"] == party_of[troubled.user_id]
        assert {e["d"]["player_id"] for e in teacher.all("lobby.flag")} == {troubled.user_id}

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
        flag = (await teacher.wait("lobby.flag", lambda d: d["source"] == "piece"))["d"]
        assert flag["safety"] is True
        assert flag["player_id"] == troubled.user_id and flag["name"] == troubled.name
        assert "self_harm" in flag["reasons"] and SAFETY.strip() in flag["text"]
        assert flag["source"] == "piece" and flag["match_id"] == party_of[troubled.user_id]

        # Everyone reviews; the three matches finish; the round ends.
        await gather(*(p.review_all() for p in room.students))
        finals = await gather(*(p.results() for p in room.students))
        for p, (results, _) in zip(room.students, finals, strict=True):
            assert results["match_id"] == party_of[p.user_id]
            assert results["ranked"] is True
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

        await after_the_lesson(node, database, room, lobby["id"], troubled)


def display(mu: float, sigma: float) -> float:
    return mu - 3 * sigma


async def stored(database: str, match_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Every student's seat of these matches as PostgreSQL holds it, by user id."""
    ids = [uuid.UUID(m) for m in match_ids]
    rows = await fetch(
        database,
        "SELECT s.match_id, s.player_id, s.rank, sub.words, sub.paste_count, "
        "sub.pasted_chars, sub.moderation, sub.moderation_flags, ps.overall, rh.mu_before, "
        "rh.sigma_before, "
        "rh.mu_after, rh.sigma_after, o.reason AS overridden_because, "
        "(SELECT count(*) FROM reviews r WHERE r.match_id = s.match_id "
        "AND r.reviewer_id = s.player_id AND r.withheld)::int AS withheld "
        "FROM seats s JOIN submissions sub USING (match_id, player_id) "
        "JOIN piece_scores ps USING (match_id, player_id) "
        "JOIN rating_history rh USING (match_id, player_id) "
        "LEFT JOIN score_overrides o USING (match_id, player_id) "
        "WHERE s.match_id = ANY($1::uuid[]) AND NOT s.is_bot",
        ids,
    )
    traits: dict[str, dict[str, int]] = {}
    for r in await fetch(
        database,
        "SELECT player_id, trait, value FROM scores WHERE match_id = ANY($1::uuid[])",
        ids,
    ):
        traits.setdefault(r["player_id"], {})[r["trait"]] = r["value"]
    return {r["player_id"]: {**dict(r), "traits": traits[r["player_id"]]} for r in rows}


async def after_the_lesson(
    node: Node, database: str, room: Classroom, lobby_id: str, troubled: Player
) -> None:
    """The teacher overrides one score; ratings, the students' view and the CSV follow."""
    token = room.teacher.token
    users = [p.user_id for p in room.students]
    by_id = {p.user_id: p for p in room.students}
    results = await ok(await call(node, "GET", f"/api/v1/lobbies/{lobby_id}/results", token))
    (rnd,) = results["rounds"]
    assert len(rnd["matches"]) == 3 and all(m["ranked"] for m in rnd["matches"])
    ai = {s["player_id"]: s for m in rnd["matches"] for s in m["seats"]}
    assert set(ai) == set(users) and all(s["rating"] is not None for s in ai.values())

    # The last-placed student of a party of five gets all sixes, with a reason.
    party = next(m for m in rnd["matches"] if len(m["seats"]) == 5)
    others = [m["match_id"] for m in rnd["matches"] if m is not party]
    last = max(party["seats"], key=lambda s: (s["rank"], s["player_id"]))
    mate = min(party["seats"], key=lambda s: (s["rank"], s["player_id"]))  # first, so far
    match_id, player = party["match_id"], last["player_id"]
    h0, r0 = await history(database, match_id), await ratings(database, users)
    elsewhere = {m: await history(database, m) for m in others}
    path = f"/api/v1/lobbies/{lobby_id}/matches/{match_id}/pieces/{player}/score"
    body = {
        "traits": dict.fromkeys(overrides.TRAIT_NAMES, 6),
        "overall": 6,
        "reason": "Read aloud.",
    }
    answer = await ok(await call(node, "PUT", path, token, body))
    assert answer["override"]["reason"] == "Read aloud."
    assert answer["override"]["ai"] == {"traits": last["traits"], "overall": last["overall"]}
    seats = {s["player_id"]: s for s in answer["match"]["seats"]}
    ranks = overrides.rerank({p: s["score"] for p, s in seats.items()})
    assert {p: s["rank"] for p, s in seats.items()} == ranks and ranks[player] == 1
    assert ranks[mate["player_id"]] > 1  # the former first place moved down

    # Ratings: the match's update again from the same befores with the new ranks, as the
    # route reports it and the DB holds it; current ratings moved by the difference.
    h1, r1 = await history(database, match_id), await ratings(database, users)
    again = {
        c.player: c
        for c in overrides.rerate(
            [
                RatingChange(
                    p, False, h["mu_before"], h["sigma_before"], h["mu_after"], h["sigma_after"]
                )
                for p, h in h0.items()
            ],
            ranks,
        )
    }
    for who in (player, mate["player_id"]):
        got, new = seats[who]["rating"], again[who]
        assert abs(h1[who]["mu_after"] - new.mu_after) < 1e-9
        assert abs(h1[who]["sigma_after"] - new.sigma_after) < 1e-9
        assert (
            got["mu_after"] == h1[who]["mu_after"] and got["sigma_after"] == h1[who]["sigma_after"]
        )
        assert (got["mu_before"], got["sigma_before"]) == (
            h0[who]["mu_before"],
            h0[who]["sigma_before"],
        )
        change = display(new.mu_after, new.sigma_after) - display(new.mu_before, new.sigma_before)
        assert got["change"] == round(change, 3)
        old = RatingChange(who, False, 0, 0, h0[who]["mu_after"], h0[who]["sigma_after"])
        mu, sigma = overrides.shifted(r0[who], old, new)
        assert abs(r1[who][0] - mu) < 1e-9 and abs(r1[who][1] - sigma) < 1e-9
    assert seats[player]["rating"]["change"] > ai[player]["rating"]["change"]
    assert seats[mate["player_id"]]["rating"]["change"] < ai[mate["player_id"]]["rating"]["change"]
    for m, h in elsewhere.items():  # the other parties stay as played
        assert await history(database, m) == h
    moved = {p for m in rnd["matches"] if m is party for p in (s["player_id"] for s in m["seats"])}
    assert all(r1[u] == r0[u] for u in users if u not in moved)

    # The students see the corrected result, marked (and not the teacher's reason).
    student, neighbour = by_id[player], by_id[mate["player_id"]]
    mine = await ok(await call(node, "GET", f"/api/v1/me/matches/{match_id}", student.token))
    assert mine["report"]["traits"] == dict.fromkeys(overrides.TRAIT_NAMES, 6)
    assert mine["report"]["overall"] == 6 and "reason" not in mine["report"]["override"]
    assert mine["report"]["override"]["ai"]["overall"] == last["overall"]
    ranking = {r["alias"]: r for r in mine["results"]["ranking"]}
    assert ranking[mine["you"]]["rank"] == 1 and ranking[mine["you"]]["overridden"] is True
    shown = ranking[mine["you"]]["rating"]
    assert (shown["mu_after"], shown["sigma_after"]) == (
        h1[player]["mu_after"],
        h1[player]["sigma_after"],
    )
    progress = await ok(await call(node, "GET", "/api/v1/me/ratings", student.token))
    assert (progress["current"]["mu"], progress["current"]["sigma"]) == r1[player]
    theirs = await ok(await call(node, "GET", f"/api/v1/me/matches/{match_id}", neighbour.token))
    seen = {r["alias"]: r for r in theirs["results"]["ranking"]}
    assert seen[theirs["you"]]["rank"] == ranks[mate["player_id"]]
    assert [r["alias"] for r in seen.values() if r["overridden"]] == [mine["you"]]
    listed = await ok(await call(node, "GET", "/api/v1/me/matches", student.token))
    assert [(i["match_id"], i["overridden"], i["rank"]) for i in listed["items"]] == [
        (match_id, True, 1)
    ]

    # The CSV: exactly one row per student, each as PostgreSQL holds it.
    db = await stored(database, [m["match_id"] for m in rnd["matches"]])
    (prompt_id,) = [
        r["prompt_id"]
        for r in await fetch(
            database, "SELECT prompt_id FROM lobby_rounds WHERE lobby_id = $1", uuid.UUID(lobby_id)
        )
    ]
    party_of = {
        s["player_id"]: (m["party"], m["match_id"]) for m in rnd["matches"] for s in m["seats"]
    }
    resp = await call(node, "GET", f"/api/v1/lobbies/{lobby_id}/results.csv", token)
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"), newline="")))
    assert len(rows) == 14
    assert [r["student"] for r in rows] == sorted((p.name for p in room.students), key=str.casefold)
    now = await ok(await call(node, "GET", f"/api/v1/lobbies/{lobby_id}/results", token))
    final = {s["player_id"]: s for m in now["rounds"][0]["matches"] for s in m["seats"]}
    for row in rows:
        (who,) = [p.user_id for p in room.students if p.name == row["student"]]
        d, s = db[who], final[who]
        assert row["class"] == "7B English" and row["username"] == s["username"]
        assert (row["round"], row["party"], row["match_id"]) == ("1", *map(str, party_of[who]))
        assert row["prompt"] == load_prompts()[prompt_id].title == rnd["prompt_title"]
        assert int(row["words"]) == d["words"] == len(by_id[who].acked_text.split())
        assert {t: int(row[t]) for t in overrides.TRAIT_NAMES} == d["traits"] == s["traits"]
        assert float(row["overall"]) == round(d["overall"], 2)
        assert int(row["rank"]) == d["rank"] == s["rank"]
        change = display(d["mu_after"], d["sigma_after"]) - display(
            d["mu_before"], d["sigma_before"]
        )
        assert float(row["rating_change"]) == round(change, 3) == s["rating"]["change"]
        assert (int(row["pastes"]), int(row["pasted_chars"])) == (
            d["paste_count"],
            d["pasted_chars"],
        )
        flags = [f"teacher flag {reason}" for reason in d["moderation_flags"]]
        flags += [f"piece {d['moderation']}"] if d["moderation"] in ("mask", "block") else []
        flags += [f"{d['withheld']} review(s) withheld"] if d["withheld"] else []
        assert row["moderation"] == "; ".join(flags)
        assert row["overridden"] == ("yes" if who == player else "no")
        assert (d["overridden_because"] is not None) == (who == player)
    assert db[troubled.user_id]["moderation"] == "allow"  # a safety signal masks nothing
    # ... but it stays in the results for the teacher, after the live alert
    assert "self_harm" in db[troubled.user_id]["moderation_flags"]
    assert all(not d["moderation_flags"] for who, d in db.items() if who != troubled.user_id)

"""After the lesson: the teacher reads a lobby's results, overrides a score, exports CSV.

Two ranked rounds of four students are played to the end over real sockets; the teacher
then overrides a round-1 piece: the round-1 ranking and rating update are recomputed,
the players' current ratings move by the difference (round 2 stays as played), the
student's own view shows the corrected, marked result, and the CSV holds one correct
row per student per round with a formula-like class name neutralised.
"""

from __future__ import annotations

import csv
import io
import uuid

import orjson

from server.accounts import store as accounts
from server.config import Settings
from server.game.rating import RatingChange
from server.http.state import PG
from server.storage import overrides
from server.storage.pseudonyms import PSEUDONYM_PREFIX
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.lobbies.helpers import (
    classroom,
    history,
    join,
    lobby_settings,
    open_lobby,
    play_round,
    ratings,
    teacher,
    watch,
)
from tests.realtime.helpers import fetch, running_node
from tests.realtime.players import gather

TRAITS = list(overrides.TRAIT_NAMES)
FORMULA_CLASS = '=HYPERLINK("http://evil.example","7B")'


async def test_results_override_and_csv(settings: Settings, database: str, redis_url: str) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        lobby = await open_lobby(node, room.teacher.token, room.class_id, ranked=True)
        lid, token = lobby["id"], room.teacher.token
        t = await watch(node, token, lid)
        await gather(*(join(p, lobby["code"]) for p in room.students))
        await t.until(lambda: len(t.all("lobby.member")) >= 4)
        first = await play_round(t, room, [1, 2, 3, 4])
        second = await play_round(t, room, [2, 1, 4, 3])
        users = [p.user_id for p in room.students]
        by_id = {p.user_id: p for p in room.students}

        # The results: both rounds, each seat with everything the teacher needs.
        results = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", token))
        assert results["lobby_id"] == lid and results["class_id"] == room.class_id
        assert [r["round"] for r in results["rounds"]] == [1, 2]
        r1 = results["rounds"][0]
        (m1,) = r1["matches"]
        assert m1["match_id"] == first and m1["finished"] and m1["ranked"]
        assert r1["prompt_title"]
        assert {s["user_id"] for s in m1["seats"]} == set(users)
        pastes = {
            r["player_id"]: {"count": r["paste_count"], "chars": r["pasted_chars"]}
            for r in await fetch(
                database,
                "SELECT player_id, paste_count, pasted_chars FROM submissions WHERE match_id = $1",
                uuid.UUID(first),
            )
        }
        assert any(v["count"] for v in pastes.values())
        for s in m1["seats"]:
            p = by_id[s["user_id"]]
            assert s["name"] == p.name and s["username"] and not s["is_bot"]
            assert s["words"] == len(s["text"].split()) > 0
            assert set(s["traits"]) == set(TRAITS) and 1 <= s["overall"] <= 6
            assert s["rationale"] and s["suggestions"]
            assert s["rank"] in (1, 2, 3, 4) and s["rating"] is not None
            assert len(s["reviews_given"]) == 2 and len(s["reviews_received"]) == 2
            assert all(1 <= r["helpfulness"] <= 6 for r in s["reviews_given"])
            assert s["review_quality"] == round(
                sum(r["helpfulness"] for r in s["reviews_given"]) / 2, 2
            )
            assert s["reviews_received"][0]["reviewer_name"] in {q.name for q in room.students}
            assert s["paste"] == pastes[s["player_id"]]  # a whole sentence at once is a paste
            assert s["moderation"]["flagged"] is False and s["override"] is None
        one = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/rounds/2/results", token))
        assert one == results["rounds"][1] and one["matches"][0]["match_id"] == second

        # Override the last-placed piece of round 1: all sixes make it first.
        last = max(m1["seats"], key=lambda s: (s["rank"], s["player_id"]))
        was = {s["player_id"]: s["rank"] for s in m1["seats"]}
        h1, h2 = await history(database, first), await history(database, second)
        current = await ratings(database, users)
        path = f"/api/v1/lobbies/{lid}/matches/{first}/pieces/{last['player_id']}/score"
        body = {"traits": dict.fromkeys(TRAITS, 6), "overall": 6, "reason": "Read it aloud."}
        answer = await ok(await call(node, "PUT", path, token, body))
        assert answer["override"]["reason"] == "Read it aloud."
        assert answer["override"]["ai"] == {"traits": last["traits"], "overall": last["overall"]}
        seats = {s["player_id"]: s for s in answer["match"]["seats"]}
        assert seats[last["player_id"]]["rank"] == 1
        assert seats[last["player_id"]]["traits"] == dict.fromkeys(TRAITS, 6)
        assert seats[last["player_id"]]["overall"] == 6
        expected = overrides.rerank({p: s["score"] for p, s in seats.items()})
        assert {p: s["rank"] for p, s in seats.items()} == expected
        assert any(expected[p] != was[p] for p in was if p != last["player_id"])

        # Ratings: round 1's update again from the same befores; current moved by the
        # difference; round 2 as it was played.
        n1 = await history(database, first)
        assert await history(database, second) == h2
        model_changes = overrides.rerate(
            [
                RatingChange(
                    p, False, h["mu_before"], h["sigma_before"], h["mu_after"], h["sigma_after"]
                )
                for p, h in h1.items()
            ],
            expected,
        )
        now = await ratings(database, users)
        for ch in model_changes:
            assert abs(n1[ch.player]["mu_after"] - ch.mu_after) < 1e-9
            assert n1[ch.player]["mu_before"] == h1[ch.player]["mu_before"]
            assert n1[ch.player]["rank"] == expected[ch.player]
            old = RatingChange(
                ch.player, False, 0, 0, h1[ch.player]["mu_after"], h1[ch.player]["sigma_after"]
            )
            mu, sigma = overrides.shifted(current[ch.player], old, ch)
            assert abs(now[ch.player][0] - mu) < 1e-9 and abs(now[ch.player][1] - sigma) < 1e-9
        assert now[last["player_id"]][0] > current[last["player_id"]][0]

        # The student sees the corrected result, marked.
        student = by_id[last["player_id"]]
        mine = await ok(await call(node, "GET", f"/api/v1/me/matches/{first}", student.token))
        assert mine["report"]["traits"] == dict.fromkeys(TRAITS, 6)
        assert mine["report"]["overall"] == 6
        assert mine["report"]["override"]["ai"]["overall"] == last["overall"]
        assert "reason" not in mine["report"]["override"]
        me_row = next(r for r in mine["results"]["ranking"] if r["alias"] == mine["you"])
        assert me_row["rank"] == 1 and me_row["overridden"] is True
        assert sum(r["overridden"] for r in mine["results"]["ranking"]) == 1
        listed = await ok(await call(node, "GET", "/api/v1/me/matches", student.token))
        assert {i["match_id"]: i["overridden"] for i in listed["items"]} == {
            first: True,
            second: False,
        }

        # Overriding again replaces the first: the AI's traits are back, overall 2.
        again = {"overall": 2, "reason": "On second thoughts."}
        answer = await ok(await call(node, "PUT", path, token, again))
        assert answer["override"]["revision"] == 2 and answer["override"]["traits"] == {}
        seat = next(s for s in answer["match"]["seats"] if s["player_id"] == last["player_id"])
        assert seat["traits"] == last["traits"] and seat["overall"] == 2
        audit = await fetch(
            database,
            "SELECT actor_id, details FROM audit_log WHERE action = 'lobby.score.override' "
            "ORDER BY id",
        )
        assert [str(a["actor_id"]) for a in audit] == [room.teacher.id] * 2
        details = [orjson.loads(a["details"]) for a in audit]
        assert [d["reason"] for d in details] == ["Read it aloud.", "On second thoughts."]
        assert details[0]["before"]["overall"] == last["overall"]
        assert details[0]["after"]["overall"] == 6 and details[1]["before"]["overall"] == 6
        assert details[1]["after"]["overall"] == 2

        # Validation: out of range, empty reason, unknown trait, nothing set, unknown piece.
        for bad, field in (
            ({"traits": {"voice": 7}, "reason": "x"}, "traits.voice"),
            ({"overall": 0.5, "reason": "x"}, "overall"),
            ({"overall": 3, "reason": "   "}, "reason"),
            ({"overall": 3}, "reason"),
            ({"traits": {"humour": 3}, "reason": "x"}, "traits.humour"),
            ({"reason": "x"}, "traits"),
            ({"overall": 3, "reason": "a\u0000b"}, "reason"),
        ):
            status, code, det = await error_of(await call(node, "PUT", path, token, bad))
            assert (status, code) == (422, "validation_failed") and field in det["fields"], bad
        for where in (
            f"/api/v1/lobbies/{lid}/matches/{first}/pieces/nobody/score",
            f"/api/v1/lobbies/{lid}/matches/{uuid.uuid4()}/pieces/{users[0]}/score",
            f"/api/v1/lobbies/{lid}/matches/not-a-match/pieces/{users[0]}/score",
        ):
            resp = await call(node, "PUT", where, token, {"overall": 3, "reason": "x"})
            assert (await error_of(resp))[:2] == (404, "piece_not_found")
        resp = await call(node, "GET", f"/api/v1/lobbies/{lid}/rounds/3/results", token)
        assert (await error_of(resp))[:2] == (404, "round_not_found")

        # Who may: another teacher, a student, a player: no such lobby; an admin: yes.
        other = await teacher(node)
        outsider = await register(node)
        for who in (other.token, student.token, outsider["access_token"]):
            for method, where, payload in (
                ("GET", f"/api/v1/lobbies/{lid}/results", None),
                ("GET", f"/api/v1/lobbies/{lid}/results.csv", None),
                ("GET", f"/api/v1/lobbies/{lid}/rounds/1/results", None),
                ("PUT", path, {"overall": 5, "reason": "mine"}),
            ):
                resp = await call(node, method, where, who, payload)
                assert (await error_of(resp))[:2] == (404, "lobby_not_found"), (method, where)
        _, admin = await admin_token(node)
        seen = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", admin))
        assert [r["round"] for r in seen["rounds"]] == [1, 2]

        # The CSV: one row per student per round; the formula-like class name neutralised.
        resp = await call(
            node, "PATCH", f"/api/v1/classes/{room.class_id}", token, {"name": FORMULA_CLASS}
        )
        await ok(resp)
        resp = await call(node, "GET", f"/api/v1/lobbies/{lid}/results.csv", token)
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
        assert resp.headers["Content-Disposition"].endswith('-results.csv"')
        raw = await resp.read()
        assert b"\r\n" in raw
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        assert len(rows) == 8
        assert {(r["username"], r["round"]) for r in rows} == {
            (s["username"], str(n)) for n in (1, 2) for s in m1["seats"]
        }
        assert all(r["class"] == "'" + FORMULA_CLASS for r in rows)
        after = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", token))
        for rnd in after["rounds"]:
            for s in rnd["matches"][0]["seats"]:
                (row,) = [
                    r
                    for r in rows
                    if r["username"] == s["username"] and r["round"] == str(rnd["round"])
                ]
                assert row["student"] == s["name"] and row["words"] == str(s["words"])
                assert row["prompt"] == rnd["prompt_title"]
                assert [int(row[t]) for t in TRAITS] == [s["traits"][t] for t in TRAITS]
                assert float(row["overall"]) == round(s["overall"], 2)
                assert float(row["review_quality"]) == s["review_quality"]
                assert row["rank"] == str(s["rank"])
                assert float(row["rating_change"]) == s["rating"]["change"]
                assert row["pastes"] == str(s["paste"]["count"]) and row["moderation"] == ""
                assert row["pasted_chars"] == str(s["paste"]["chars"])
                overridden = rnd["round"] == 1 and s["player_id"] == last["player_id"]
                assert row["overridden"] == ("yes" if overridden else "no")

        # A student who deletes their account: the override follows the seat's pseudonym.
        async with node.app[PG].acquire() as conn, conn.transaction():
            assert await accounts.delete_user(conn, student.user_id) == 2
        (kept,) = await fetch(database, "SELECT player_id, reason FROM score_overrides")
        assert kept["player_id"].startswith(PSEUDONYM_PREFIX)
        assert kept["reason"] == "On second thoughts."


async def test_a_practice_round_is_reranked_without_ratings(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        lobby = await open_lobby(node, room.teacher.token, None)  # practice, open to anyone
        lid, token = lobby["id"], room.teacher.token
        t = await watch(node, token, lid)
        await gather(*(join(p, lobby["code"]) for p in room.students))
        await t.until(lambda: len(t.all("lobby.member")) >= 4)
        match_id = await play_round(t, room, [4, 3, 2, 1])
        results = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", token))
        (m,) = results["rounds"][0]["matches"]
        assert m["ranked"] is False and all(s["rating"] is None for s in m["seats"])
        last = max(m["seats"], key=lambda s: (s["rank"], s["player_id"]))
        path = f"/api/v1/lobbies/{lid}/matches/{match_id}/pieces/{last['player_id']}/score"
        body = {"traits": {"voice": 6}, "reason": "Strong voice the AI missed."}
        answer = await ok(await call(node, "PUT", path, token, body))
        seat = next(s for s in answer["match"]["seats"] if s["player_id"] == last["player_id"])
        assert seat["traits"] == {**last["traits"], "voice": 6}
        assert seat["overall"] == last["overall"] and answer["override"]["overall"] is None
        scores = {s["player_id"]: s["score"] for s in answer["match"]["seats"]}
        assert {s["player_id"]: s["rank"] for s in answer["match"]["seats"]} == overrides.rerank(
            scores
        )
        users = [uuid.UUID(p.user_id) for p in room.students]
        assert not await fetch(
            database, "SELECT 1 FROM ratings WHERE user_id = ANY($1::uuid[])", users
        )
        resp = await call(node, "GET", f"/api/v1/lobbies/{lid}/results.csv", token)
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert len(rows) == 4 and all(r["class"] == "" and r["rating_change"] == "" for r in rows)
        assert [r["overridden"] for r in rows].count("yes") == 1

"""Removing a score override: ``DELETE …/pieces/{player_id}/score`` on a real node.

One ranked round of four is played to the end; the teacher overrides the last-placed
piece, then removes the override: the AI's scores, the seats' scores and ranks, the
recorded rating update and the players' current ratings are all back where they were
before the override (the ratings to float precision: they were shifted there and back),
the removal is audited, the student no longer sees an override, and only the lobby's
teacher (or an admin) may remove one.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from server.config import Settings
from server.storage import overrides
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
RATING_KEYS = ("mu_after", "sigma_after")


def without_ratings(seats: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["player_id"]: {k: v for k, v in s.items() if k != "rating"} for s in seats}


def assert_ratings_equal(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    wanted = {s["player_id"]: s["rating"] for s in want}
    for s in got:
        assert s["rating"] == pytest.approx(wanted[s["player_id"]], abs=1e-9), s["player_id"]


async def test_removing_an_override_brings_the_ai_back(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        lobby = await open_lobby(node, room.teacher.token, room.class_id, ranked=True)
        lid, token = lobby["id"], room.teacher.token
        t = await watch(node, token, lid)
        await gather(*(join(p, lobby["code"]) for p in room.students))
        await t.until(lambda: len(t.all("lobby.member")) >= 4)
        match_id = await play_round(t, room, [1, 2, 3, 4])
        users = [p.user_id for p in room.students]
        results = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", token))
        (ai,) = results["rounds"][0]["matches"]
        h0, r0 = await history(database, match_id), await ratings(database, users)
        last = max(ai["seats"], key=lambda s: (s["rank"], s["player_id"]))
        path = f"/api/v1/lobbies/{lid}/matches/{match_id}/pieces/{last['player_id']}/score"

        # Nothing to remove yet.
        resp = await call(node, "DELETE", path, token)
        assert (await error_of(resp))[:2] == (404, "override_not_found")

        body = {"traits": dict.fromkeys(TRAITS, 6), "overall": 6, "reason": "Read it aloud."}
        put = await ok(await call(node, "PUT", path, token, body))
        lifted = next(s for s in put["match"]["seats"] if s["player_id"] == last["player_id"])
        assert lifted["rank"] == 1 and (await history(database, match_id)) != h0
        assert (await ratings(database, users))[last["player_id"]] != r0[last["player_id"]]

        # Who may not: another teacher, a student of the lobby, a player: no such lobby.
        other = await teacher(node)
        student = next(p for p in room.students if p.user_id == last["player_id"])
        outsider = await register(node)
        for who in (other.token, student.token, outsider["access_token"]):
            resp = await call(node, "DELETE", path, who)
            assert (await error_of(resp))[:2] == (404, "lobby_not_found")
        for where in (
            f"/api/v1/lobbies/{lid}/matches/{match_id}/pieces/nobody/score",
            f"/api/v1/lobbies/{lid}/matches/{uuid.uuid4()}/pieces/{users[0]}/score",
            f"/api/v1/lobbies/{lid}/matches/not-a-match/pieces/{users[0]}/score",
        ):
            resp = await call(node, "DELETE", where, token)
            assert (await error_of(resp))[:2] == (404, "piece_not_found"), where

        # Removed: the match is as the AI left it.
        answer = await ok(await call(node, "DELETE", path, token))
        assert answer["override"] is None
        assert without_ratings(answer["match"]["seats"]) == without_ratings(ai["seats"])
        assert_ratings_equal(answer["match"]["seats"], ai["seats"])
        after = await ok(await call(node, "GET", f"/api/v1/lobbies/{lid}/results", token))
        assert without_ratings(after["rounds"][0]["matches"][0]["seats"]) == without_ratings(
            ai["seats"]
        )
        h1, r1 = await history(database, match_id), await ratings(database, users)
        for player, row in h0.items():
            assert h1[player]["rank"] == row["rank"]
            assert (h1[player]["mu_before"], h1[player]["sigma_before"]) == (
                row["mu_before"],
                row["sigma_before"],
            )
            for key in RATING_KEYS:
                assert h1[player][key] == pytest.approx(row[key], abs=1e-9)
        for user in users:
            assert r1[user] == pytest.approx(r0[user], abs=1e-9)
        assert not await fetch(database, "SELECT 1 FROM score_overrides")

        # Audited, with what was taken away.
        (entry,) = await fetch(
            database,
            "SELECT actor_id, target_id, details FROM audit_log "
            "WHERE action = 'lobby.score.override.delete'",
        )
        details = orjson.loads(entry["details"])
        assert str(entry["actor_id"]) == room.teacher.id and entry["target_id"] == match_id
        assert details["removed"]["reason"] == "Read it aloud."
        assert details["removed"]["revision"] == 1
        assert details["before"]["overall"] == 6 and details["before"]["rank"] == 1
        assert details["after"] == {
            "traits": last["traits"],
            "overall": last["overall"],
            "rank": last["rank"],
            "score": pytest.approx(last["score"], abs=1e-4),
        }
        assert last["player_id"] in details["ratings"] and set(details["ratings"]) <= set(users)

        # The student sees the AI's result again, not overridden.
        mine = await ok(await call(node, "GET", f"/api/v1/me/matches/{match_id}", student.token))
        assert mine["report"]["override"] is None
        assert mine["report"]["traits"] == last["traits"]
        assert mine["report"]["overall"] == last["overall"]
        assert not any(r["overridden"] for r in mine["results"]["ranking"])

        # Again: nothing to remove; an admin may override and remove too, from revision 1.
        resp = await call(node, "DELETE", path, token)
        assert (await error_of(resp))[:2] == (404, "override_not_found")
        _, admin = await admin_token(node)
        again = await ok(await call(node, "PUT", path, admin, {"overall": 5, "reason": "Admin."}))
        assert again["override"]["revision"] == 1
        gone = await ok(await call(node, "DELETE", path, admin))
        assert gone["override"] is None
        assert without_ratings(gone["match"]["seats"]) == without_ratings(ai["seats"])

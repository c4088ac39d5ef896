"""After a user deletes their account (``DELETE /api/v1/auth/me``), no answer of the API
contains their handle, display name or the text they wrote, and the other players'
matches still load.

The victim plays a ranked match in their teacher's class lobby with two others (and a
bot), reviews their pieces, is in a study pod with them, files a report (with a note)
and is reported.  After the deletion every GET route of the OpenAPI document under
``/api/v1`` is called by each of the others — a player of the match, a classmate in the
pod, the teacher, an admin, a stranger — with every path parameter filled with the ids
of this world (and the victim's own id), and every answer is searched for the victim's
words.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from server.config import Settings
from tests.classes.helpers import PASSWORD, admin_token, call, ok
from tests.conftest import UNTHROTTLED, Node, start_node, unique_handle
from tests.reports.helpers import (
    Person,
    class_of,
    match_of,
    person,
    seat_alias,
    sql,
    strength_of,
    suggestion_of,
    walk,
)

NAME = "Zephyrine Quillfeather"
TEXT = "Marmalade lighthouses whisper zebra-striped secrets to the tide."
NOTE = "Blueberry-ostrich report note that only the victim wrote."
EVENINGS = [{"day": 1, "start": 18 * 60, "minutes": 120}]


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(limits={**UNTHROTTLED, "report_writes_per_account_per_minute": 100})
    runner, n = await start_node(settings, database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


async def lobby_for(
    node: Node, database: str, teacher: Person, class_id: str, match_id: str, players: list[Person]
) -> str:
    """The teacher's class lobby, whose first round played ``match_id``."""
    lobby = await ok(
        await call(node, "POST", "/api/v1/lobbies", teacher.token, {"class_id": class_id}), 201
    )
    lobby_id = uuid.UUID(lobby["id"])
    await sql(
        database,
        "INSERT INTO lobby_rounds (lobby_id, round, prompt_id) VALUES ($1, 1, 'lighthouse')",
        lobby_id,
    )
    await sql(
        database,
        "INSERT INTO lobby_matches (match_id, lobby_id, round, party, players) "
        "VALUES ($1, $2, 1, 1, $3::uuid[])",
        uuid.UUID(match_id),
        lobby_id,
        [uuid.UUID(p.id) for p in players],
    )
    return str(lobby_id)


async def test_nothing_of_a_deleted_user_is_served(node: Node, database: str) -> None:
    body = await ok(
        await node.post(
            "/api/v1/auth/register",
            {"handle": unique_handle("v"), "password": PASSWORD, "display_name": NAME},
        ),
        201,
    )
    victim = Person(body)
    o1, o2, stranger = [await person(node) for _ in range(3)]
    teacher = await person(node, "teacher")
    admin_id, admin = await admin_token(node)
    class_id = await class_of(node, database, teacher, [victim, o1, o2])
    shared = await match_of(
        database, [victim, o1, o2], texts=[TEXT, "O1 writes of gulls.", "O2 writes of rain."]
    )
    lobby_id = await lobby_for(node, database, teacher, class_id, shared, [victim, o1, o2])
    other = await match_of(database, [o1, o2])  # a match without the victim
    pod_id = None
    for p in (victim, o1, o2):
        await ok(
            await call(
                node,
                "PUT",
                "/api/v1/pods/me/profile",
                p.token,
                {"time_zone": "Europe/Paris", "windows": EVENINGS},
            )
        )
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", p.token))
        pod_id = placed["pod"]["id"] if placed["pod"] else pod_id
    assert pod_id is not None
    alias_v = await seat_alias(database, shared, victim.id)
    alias_o1 = await seat_alias(database, shared, o1.id)
    filed = await ok(
        await call(
            node,
            "POST",
            "/api/v1/reports",
            victim.token,
            {
                "target": {"kind": "piece", "id": f"{shared}/{alias_o1}"},
                "reason": "other",
                "note": NOTE,
            },
        ),
        201,
    )
    against = await ok(
        await call(
            node,
            "POST",
            "/api/v1/reports",
            o1.token,
            {"target": {"kind": "piece", "id": f"{shared}/{alias_v}"}, "reason": "spam"},
        ),
        201,
    )
    words = [victim.handle, NAME, TEXT, NOTE, strength_of(victim.id), suggestion_of(victim.id)]
    # Before: the victim's words are there to be found (so the search below means something).
    before = await call(node, "GET", f"/api/v1/lobbies/{lobby_id}/results", teacher.token)
    assert TEXT in await before.text() and NAME in await before.text()
    resp = await call(node, "DELETE", "/api/v1/auth/me", victim.token, {"password": PASSWORD})
    assert resp.status == 204
    assert (await call(node, "GET", "/api/v1/portfolio/me", victim.token)).status == 401
    values = {
        "match_id": [shared, other],
        "user_id": [victim.id, o1.id],
        "student_id": [victim.id],
        "player_id": [victim.id],
        "class_id": [class_id],
        "lobby_id": [lobby_id],
        "pod_id": [pod_id],
        "report_id": [filed["id"], against["id"]],
        "round": ["1"],
    }
    viewers = {"o1": o1.token, "o2": o2.token, "teacher": teacher.token, "admin": admin}
    viewers["stranger"] = stranger.token
    checked = await walk(node, values, viewers, words)
    assert checked > 100
    # The other players' matches still load, the victim's seat under its alias.
    for p in (o1, o2):
        detail = await ok(await call(node, "GET", f"/api/v1/me/matches/{shared}", p.token))
        aliases = {r["alias"] for r in detail["results"]["ranking"]}
        assert alias_v in aliases and len(aliases) == 4
        await ok(await call(node, "GET", f"/api/v1/replays/{other}", p.token))
    results = await ok(
        await call(node, "GET", f"/api/v1/lobbies/{lobby_id}/results", teacher.token)
    )
    assert len(results["rounds"][0]["matches"][0]["seats"]) == 4
    # The reports stay for the moderators, the victim's one anonymous and without its note.
    queue = await ok(await call(node, "GET", "/api/v1/reports?status=all", admin))
    by_id = {e["id"]: e for e in queue["items"]}
    assert by_id[filed["id"]]["note"] == "" and by_id[against["id"]]["author"] is None
    rows = await sql(
        database, "SELECT reporter_id FROM reports WHERE id = $1", uuid.UUID(filed["id"])
    )
    assert rows[0]["reporter_id"] is None
    assert admin_id

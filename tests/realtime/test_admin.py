"""``POST /api/v1/admin/matches``: who may call it and what it refuses."""

from __future__ import annotations

import uuid

from tests.conftest import Node
from tests.realtime.helpers import http_for


async def test_only_admins_start_matches_and_parties_are_checked(node: Node, database: str) -> None:
    http = http_for(node)
    admin = await http.admin(database)
    a, b = await http.register(), await http.register()
    path = "/api/v1/admin/matches"

    status, body = await http.post(path, {"players": [a.id, b.id]}, token=a.token)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await http.post(path, {"players": [a.id, b.id]})
    assert (status, body["error"]["code"]) == (401, "missing_token")

    refusals = [
        ({"players": [a.id]}, "invalid_party"),  # one seat
        ({"players": [a.id, a.id]}, "validation_failed"),
        ({"players": [a.id, "nope"]}, "validation_failed"),
        ({"players": [a.id, str(uuid.uuid4())]}, "unknown_players"),
        ({"players": [a.id, b.id], "bots": 5}, "invalid_party"),  # 7 seats
        ({"players": [a.id, b.id], "prompt_id": "no-such-prompt"}, "invalid_party"),
        ({"players": [a.id, b.id], "colour": "red"}, "validation_failed"),
    ]
    for request, code in refusals:
        status, body = await http.post(path, request, token=admin)
        assert (status, body["error"]["code"]) == (422, code), request

    created = await http.create_match(admin, [a.id, b.id], bots=1, ranked=False)
    assert {s["player_id"] for s in created["seats"]} == {a.id, b.id}
    assert created["bots"] == ["bot:1"]
    status, body = await http.post(path, {"players": [b.id, a.id]}, token=admin)
    assert (status, body["error"]["code"]) == (409, "already_seated")

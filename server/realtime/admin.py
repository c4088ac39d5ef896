"""``POST /api/v1/admin/matches``: an operator starts a match on this node for given users.

Until the matchmaker assigns matches to nodes, this is how a party of humans gets a
match (and how the tests get one).  Admins only.  The answer holds one seat token per
player; each player sends ``match.join`` with theirs on a socket to ``node_url``.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from server.api.session import authenticate
from server.errors import ApiError, Conflict, Forbidden
from server.http.body import Fields, ValidationFailed, json_body
from server.http.openapi import Api
from server.http.state import PG, REALTIME, SETTINGS
from server.realtime.hub import AlreadySeated, Unavailable
from server.types import PlayerId

api = Api()

_REQUEST = {
    "type": "object",
    "required": ["players"],
    "properties": {
        "players": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        "bots": {"type": "integer", "minimum": 0},
        "ranked": {"type": "boolean"},
        "prompt_id": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
    },
}
_CREATED = {
    "type": "object",
    "properties": {
        "match_id": {"type": "string"},
        "node_url": {"type": "string"},
        "prompt_id": {"type": "string"},
        "seats": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"player_id": {"type": "string"}, "seat_token": {"type": "string"}},
            },
        },
        "bots": {"type": "array", "items": {"type": "string"}},
    },
}


@api.route(
    "POST",
    "/api/v1/admin/matches",
    summary="Start a match on this node for the given users (admins)",
    tag="realtime",
    auth=True,
    request=_REQUEST,
    responses={
        201: ("the match is running; seat tokens for match.join", _CREATED),
        400: ("malformed request", None),
        401: ("missing or bad access token", None),
        403: ("not an admin", None),
        409: ("a player already holds a seat in a running match", None),
        422: ("invalid party", None),
        503: ("the node is shutting down", None),
    },
)
async def create_match(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    if claims.role != "admin":
        raise Forbidden("only an admin may start matches by hand")
    settings = request.app[SETTINGS].match
    body = await json_body(request)
    f = Fields(body, {"players", "bots", "ranked", "prompt_id", "seed"})
    players = _players(f, body.get("players"))
    bots = _integer(f, body, "bots", 0, settings.max_players)
    ranked = body.get("ranked", True)
    if not isinstance(ranked, bool):
        f.problem("ranked", "must be true or false")
    prompt_id = f.string("prompt_id", required=False, max_len=200)
    seed = _integer(f, body, "seed", 0, 2**31 - 1) if "seed" in body else None
    f.done()
    if not 2 <= len(players) + bots <= settings.max_players:
        raise ValidationFailed(
            f"a match needs 2..{settings.max_players} seats, humans and bots together",
            code="invalid_party",
        )
    known = await request.app[PG].fetch(
        "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL",
        [uuid.UUID(p) for p in players],
    )
    missing = set(players) - {str(r["id"]) for r in known}
    if missing:
        raise ValidationFailed(
            "no such users", code="unknown_players", details={"players": sorted(missing)}
        )
    hub = request.app[REALTIME]
    try:
        created = await hub.create_match(
            players, bots, ranked=bool(ranked), prompt_id=prompt_id, seed=seed
        )
    except AlreadySeated as exc:
        raise Conflict(str(exc), code="already_seated") from None
    except Unavailable as exc:
        raise ApiError(str(exc), code="unavailable", status=503) from None
    except ValueError as exc:
        raise ValidationFailed(str(exc), code="invalid_party") from None
    public = request.app[SETTINGS].server.public_url.rstrip("/")
    base = public or f"{request.scheme}://{request.host}"
    node_url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"
    body = {
        "match_id": created.match_id,
        "node_url": node_url,
        "prompt_id": created.prompt_id,
        "seats": [{"player_id": p, "seat_token": t} for p, t in created.seats.items()],
        "bots": list(created.bots),
    }
    return web.json_response(body, status=201)


def _players(f: Fields, raw: object) -> list[PlayerId]:
    if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
        f.problem("players", "must be a non-empty array of user ids")
        return []
    out: list[PlayerId] = []
    for p in raw:
        try:
            out.append(PlayerId(str(uuid.UUID(p))))
        except ValueError:
            f.problem("players", f"{p!r} is not a user id")
    if len(set(out)) != len(out):
        f.problem("players", "a player can hold only one seat")
    return out


def _integer(f: Fields, body: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = body.get(name, lo)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        f.problem(name, f"must be an integer between {lo} and {hi}")
        return lo
    return value

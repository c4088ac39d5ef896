"""``GET /api/v1/matches/live``: the running matches the caller may watch, newest first.

The same rules as spectating and replays (``server/access/watch.py``): a match the
caller may not watch is not listed, and a player is not shown the match they sit in.  A
node lists the matches it runs, where ``spectate.join`` for them is answered
(docs/spectating.md says why).  Paginated with an opaque ``cursor``, as the other lists.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from server.access.facts import lobbies_of, role_of
from server.access.watch import LobbyFacts, MatchFacts, Viewer, decide
from server.api.replays import limit_reads
from server.api.session import authenticate
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG, REALTIME, SETTINGS

if TYPE_CHECKING:
    from server.realtime.runner import MatchRunner

api = Api()

_ITEM: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "match_id",
        "phase",
        "deadline",
        "paused",
        "ranked",
        "lobby",
        "seats",
        "bots",
        "prompt",
        "focus",
        "spectators",
        "delay",
        "started_at",
    ],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "phase": {"type": "string"},
        "deadline": {"type": ["number", "null"]},
        "paused": {"type": "boolean"},
        "ranked": {"type": "boolean"},
        "lobby": {"type": "boolean"},
        "seats": {"type": "integer", "minimum": 0},
        "bots": {"type": "integer", "minimum": 0},
        "prompt": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
        },
        "focus": {"type": "string"},
        "spectators": {"type": "integer", "minimum": 0},
        "delay": {"type": "number", "minimum": 0},
        "started_at": {"type": "number"},
    },
}
_PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _ITEM},
        "next_cursor": {"type": ["string", "null"]},
    },
}


def _parse_cursor(parts: list[str]) -> tuple[float, str]:
    when, match_id = parts
    return float(when), str(uuid.UUID(match_id))


@api.route(
    "GET",
    "/api/v1/matches/live",
    summary="Running matches on this node you may watch, newest first (limit 1-50, cursor)",
    tag="replays",
    auth=True,
    responses={
        200: ("one page of live matches", _PAGE),
        422: ("bad limit or cursor", None),
        429: ("rate limited (replays.read or the per-address limit); see Retry-After", None),
    },
)
async def live_matches(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    after = decode_cursor(cursor, _parse_cursor) if cursor else None
    settings = request.app[SETTINGS]
    await limit_reads(request, claims.user_id)
    hub = request.app[REALTIME]
    runners = sorted(
        (r for r in hub.runners.values() if not r.closed and r.match.state.outcome is None),
        key=lambda r: (r.created_at, r.match_id),
        reverse=True,
    )
    if after is not None:
        runners = [r for r in runners if (r.created_at, r.match_id) < after]
    delay = settings.match.spectator_delay_seconds
    viewer_id = uuid.UUID(claims.user_id)
    items: list[tuple[float, str, dict[str, object]]] = []
    async with request.app[PG].acquire() as db:
        role = await role_of(db, viewer_id)
        # The lobby facts of a few candidates at a time: a page costs about one query
        # however many matches the node runs (most are watchable or none are).
        start = 0
        while role is not None and len(items) <= limit and start < len(runners):
            chunk = runners[start : start + 2 * limit + 1]
            start += len(chunk)
            lobbies = await lobbies_of(db, viewer_id, [uuid.UUID(r.match_id) for r in chunk])
            for runner in chunk:
                item = _item(runner, lobbies.get(runner.match_id), claims.user_id, role, delay)
                if item is not None:
                    item["spectators"] = hub.spectators.count(runner.match_id)
                    items.append((runner.created_at, runner.match_id, item))
                    if len(items) > limit:
                        break
    page = items[:limit]
    more = len(items) > limit
    next_cursor = encode_cursor(repr(page[-1][0]), page[-1][1]) if more and page else None
    body = {"items": [i[2] for i in page], "next_cursor": next_cursor}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _item(
    runner: MatchRunner,
    lobby: tuple[LobbyFacts, bool] | None,
    viewer: str,
    role: str,
    delay: float,
) -> dict[str, object] | None:
    """The runner's match as the live list shows it to this viewer, or None."""
    config, state = runner.match.config, runner.match.state
    facts = MatchFacts(
        ranked=config.ranked,
        finished=False,
        players=frozenset(str(s.player) for s in config.seats if not s.is_bot),
        lobby=None if lobby is None else lobby[0],
    )
    in_class = lobby is not None and lobby[1]
    access = decide(Viewer(viewer, role, in_class=in_class), facts, delay)
    if access is None:
        return None
    paused = state.paused_at is not None
    return {
        "match_id": runner.match_id,
        "phase": state.phase.value,
        "deadline": None if paused else state.deadline,
        "paused": paused,
        "ranked": config.ranked,
        "lobby": lobby is not None,
        "seats": len(config.seats),
        "bots": sum(1 for s in config.seats if s.is_bot),
        "prompt": {"id": config.prompt.id, "title": config.prompt.title},
        "focus": str(config.trait),
        "spectators": 0,
        "delay": access.delay,
        "started_at": runner.created_at,
    }

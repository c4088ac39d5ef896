"""``GET /api/v1/matches/live``: the running matches the caller may watch, newest first.

The same rules as spectating and replays (``server/access/watch.py``): a match the
caller may not watch is not listed, and a player is not shown the match they sit in.  A
node lists the matches it runs, where ``spectate.join`` for them is answered
(docs/spectating.md says why).  Paginated with an opaque ``cursor``, as the other lists.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from aiohttp import web

from server.access.facts import lobbies_of, role_of
from server.access.watch import MatchFacts, Viewer, decide
from server.api.session import authenticate
from server.http import ratelimit
from server.http.body import ValidationFailed
from server.http.openapi import Api, Schema
from server.http.state import PG, REALTIME, REDIS, SETTINGS

api = Api()

DEFAULT_LIMIT = 20
MAX_LIMIT = 50

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


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {MAX_LIMIT}",
            details={"fields": {"limit": f"must be an integer from 1 to {MAX_LIMIT}"}},
        )
    return int(raw)


def _encode_cursor(started_at: float, match_id: str) -> str:
    return base64.urlsafe_b64encode(f"{started_at!r}|{match_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, mid = raw.partition("|")
        return float(when), str(uuid.UUID(mid))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor is not one this server handed out",
            details={"fields": {"cursor": "is not a valid cursor"}},
        ) from None


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
    limit = _limit(request)
    cursor = request.query.get("cursor")
    after = _decode_cursor(cursor) if cursor else None
    settings = request.app[SETTINGS]
    await ratelimit.limit(
        request.app,
        request.app[REDIS],
        "replays.read",
        claims.user_id,
        settings.replays.reads_per_account_per_minute,
        per="account",
    )
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
    async with request.app[PG].acquire() as db:
        role = await role_of(db, viewer_id)
        lobbies = await lobbies_of(db, viewer_id, [uuid.UUID(r.match_id) for r in runners])
    items: list[tuple[float, str, dict[str, object]]] = []
    for runner in runners if role is not None else ():
        config, state = runner.match.config, runner.match.state
        lobby, in_class = lobbies.get(runner.match_id, (None, False))
        facts = MatchFacts(
            ranked=config.ranked,
            finished=False,
            players=frozenset(str(s.player) for s in config.seats if not s.is_bot),
            lobby=lobby,
        )
        access = decide(Viewer(claims.user_id, str(role), in_class=in_class), facts, delay)
        if access is None:
            continue
        paused = state.paused_at is not None
        items.append(
            (
                runner.created_at,
                runner.match_id,
                {
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
                    "spectators": hub.spectators.count(runner.match_id),
                    "delay": access.delay,
                    "started_at": runner.created_at,
                },
            )
        )
        if len(items) > limit:
            break
    page = items[:limit]
    more = len(items) > limit
    next_cursor = _encode_cursor(page[-1][0], page[-1][1]) if more and page else None
    return web.json_response({"items": [i[2] for i in page], "next_cursor": next_cursor})

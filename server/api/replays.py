"""``GET /api/v1/replays/{match_id}``: a match's replay, seekable, for those who may watch.

Who may watch and under which names is decided in one place, ``server/access/watch.py``;
anyone else gets 404 ``replay_not_found``, as if the match did not exist.  A running match
is served by the node that hosts it, up to the spectator delay; another node answers 404
(docs/replays.md says why).  The answer is JSON, or MessagePack when ``Accept`` prefers
``application/msgpack``; an ``Accept`` that allows neither is 406 ``not_acceptable``.
The format is docs/replays.md.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgpack
import orjson
from aiohttp import web

from server.api.session import authenticate
from server.errors import ApiError, NotFound
from server.http import ratelimit
from server.http.openapi import Api, Schema
from server.http.state import PG, REALTIME, SETTINGS
from server.replays.service import Replays, SpectatorClock

api = Api()

JSON = "application/json"
MSGPACK = "application/msgpack"
MSGPACK_ALIASES = frozenset({MSGPACK, "application/x-msgpack", "application/vnd.msgpack"})
INLINE_BYTES = 256 * 1024  # documents larger than this (estimated) are encoded on a thread

CLOCK = web.AppKey("spectator_clock", SpectatorClock)
SERVICE = web.AppKey("replays", Replays)


def install(app: web.Application) -> None:
    """Put the replay service and its clock on ``app`` (before it starts)."""
    clock = SpectatorClock()
    app[CLOCK] = clock
    app[SERVICE] = Replays(app[SETTINGS].replays, clock)


class NotAcceptable(ApiError):
    status = 406
    code = "not_acceptable"


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with for an ``Accept`` header (RFC 9110 §12.5.1): each
    offered type takes the q of the most specific range that matches it; the highest q
    above 0 wins, JSON on a tie; None: neither is acceptable.  No header: JSON."""
    if accept is None or not accept.strip():
        return JSON
    best: dict[str, tuple[int, float]] = {}  # offered type -> (specificity, q)
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        for offered in (JSON, MSGPACK):
            if media == offered or (offered == MSGPACK and media in MSGPACK_ALIASES):
                specificity = 2
            elif media == "application/*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if offered not in best or specificity > best[offered][0]:
                best[offered] = (specificity, q)
    q_json = best.get(JSON, (0, 0.0))[1]
    q_msgpack = best.get(MSGPACK, (0, 0.0))[1]
    if max(q_json, q_msgpack) <= 0:
        return None
    return MSGPACK if q_msgpack > q_json else JSON


_SEAT: Schema = {
    "type": "object",
    "required": ["seat", "alias", "name", "bot", "you", "text_shown"],
    "properties": {
        "seat": {"type": "integer"},
        "alias": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "bot": {"type": "boolean"},
        "you": {"type": "boolean"},
        "text_shown": {"type": "boolean"},
    },
}
_REPLAY: Schema = {
    "type": "object",
    "description": "docs/replays.md; times are server Unix seconds (float64). Also served "
    "as application/msgpack (the same structure) when Accept prefers it.",
    "required": [
        "format",
        "version",
        "match_id",
        "status",
        "start",
        "end",
        "keyframe_seconds",
        "seats",
        "phases",
        "keyframes",
        "edits",
        "reviews",
        "scores",
    ],
    "properties": {
        "format": {"type": "string", "const": "quill.replay"},
        "version": {"type": "integer", "const": 1},
        "match_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["finished", "running"]},
        "ranked": {"type": "boolean"},
        "focus": {"type": "string"},
        "prompt": {"type": "object"},
        "start": {"type": "number"},
        "end": {"type": "number"},
        "keyframe_seconds": {"type": "number"},
        "seats": {"type": "array", "items": _SEAT},
        "phases": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["at", "phase", "deadline"],
                "properties": {
                    "at": {"type": "number"},
                    "phase": {"type": "string"},
                    "deadline": {"type": ["number", "null"]},
                },
            },
        },
        "keyframes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["at", "texts", "next"],
                "properties": {
                    "at": {"type": "number"},
                    "texts": {"type": "array", "items": {"type": "string"}},
                    "next": {"type": "array", "items": {"type": "integer"}},
                },
            },
        },
        "edits": {
            "type": "array",
            "description": "per seat: [at, seq, ops|null, snapshot|null, paste], "
            "ops = [[pos, delete, insert], …]",
            "items": {"type": "array", "items": {"type": "array"}},
        },
        "reviews": {"type": ["object", "null"]},
        "scores": {"type": ["object", "null"]},
    },
}


def _encode(doc: dict[str, Any], media: str) -> bytes:
    if media == MSGPACK:
        return bytes(msgpack.packb(doc, use_bin_type=True))
    return orjson.dumps(doc)


@api.route(
    "GET",
    "/api/v1/replays/{match_id}",
    summary="A match's replay with keyframes for seeking (JSON, or MessagePack by Accept)",
    tag="replays",
    auth=True,
    responses={
        200: ("the replay (docs/replays.md)", _REPLAY),
        404: ("no such replay among those you may watch (replay_not_found)", None),
        406: ("Accept allows neither JSON nor MessagePack (not_acceptable)", None),
        429: ("rate limited (replays.read or the per-address limit); see Retry-After", None),
    },
)
async def get_replay(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    media = negotiate(request.headers.get("Accept"))
    if media is None:
        raise NotAcceptable(
            f"this route answers {JSON} or {MSGPACK}",
            details={"available": [JSON, MSGPACK]},
        )
    settings = request.app[SETTINGS]
    await limit_reads(request, claims.user_id)
    try:
        match_id = uuid.UUID(request.match_info["match_id"])
    except ValueError:
        raise NotFound("no such replay", code="replay_not_found") from None
    doc = await request.app[SERVICE].document(
        request.app[PG],
        request.app[REALTIME],
        match_id,
        claims.user_id,
        settings.match.spectator_delay_seconds,
    )
    if doc is None:
        raise NotFound("no such replay", code="replay_not_found")
    big = sum(len(e) for e in doc["edits"]) * 40 + len(doc["keyframes"]) * 256 > INLINE_BYTES
    body = await asyncio.to_thread(_encode, doc, media) if big else _encode(doc, media)
    return web.Response(body=body, content_type=media, headers={"Vary": "Accept"})


async def limit_reads(request: web.Request, user_id: str) -> None:
    """The ``replays.read`` bucket: replays and the live list."""
    await ratelimit.per_account(
        request, "replays.read", user_id, request.app[SETTINGS].replays.reads_per_account_per_minute
    )


def describe(document: dict[str, Any]) -> None:
    """Add the MessagePack form of the 200 answer to the OpenAPI document (``Api`` takes
    one media type per route)."""
    ok = document["paths"]["/api/v1/replays/{match_id}"]["get"]["responses"]["200"]
    ok["content"][MSGPACK] = {"schema": _REPLAY}
    ok["description"] += "; JSON, or MessagePack when Accept prefers application/msgpack"

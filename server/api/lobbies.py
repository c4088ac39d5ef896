"""``/api/v1/lobbies``: a teacher opens, sets up, reads and closes private lobbies.

What is live (joining, the roster as it changes, kicking, locking, starting rounds,
pause/extend, the drafts) happens on the game socket (docs/lobbies.md); REST holds what
a teacher prepares before class and reads after it: the lobby and its code, its round
rules, its members, and its rounds with the match ids of every party (to find results
per lobby, round and class).

Who sees what: a lobby's teacher and admins; anyone else gets 404 ``lobby_not_found`` as
if it did not exist (like classes).  Opening a lobby as a player or student is 403
``not_a_teacher``.  Writes count in ``lobbies.writes_per_account_per_minute`` (bucket
``lobbies.write``) and are written to the audit log (``lobby.create``, ``lobby.update``,
``lobby.close``).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from server.accounts import store as accounts
from server.api.caller import current_user
from server.api.classes import _manages
from server.api.images import owned_image
from server.classes import roster
from server.classes import store as cstore
from server.errors import Conflict, Forbidden, NotFound
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.middleware import client_ip, request_id
from server.http.openapi import Api, Schema, text_schema
from server.http.state import PG, REALTIME, SETTINGS
from server.lobbies import store
from server.lobbies.rules import (
    ALT_CHARS,
    ANYTIME_FIELDS,
    LEVELS,
    PARTY_MAX,
    PARTY_MIN,
    PHASES,
    TEXT_CHARS,
    TITLE_CHARS,
    LobbyRules,
    parse_rules,
)

api = Api()

ADMIN_LIST_LIMIT = 500
TEACHER_LIST_LIMIT = 100
MANAGERS = ("teacher", "admin")
TRAITS = [
    "ideas",
    "organization",
    "voice",
    "word_choice",
    "sentence_fluency",
    "conventions",
    "presentation",
]

_PROMPT: Schema = {
    "type": "object",
    "required": ["kind"],
    "description": "random (default), pack (id), level (level), or custom (title, text, "
    "image_id, image_description, level); image_id: an image you uploaded "
    "(POST /api/v1/prompt-images), image_description its alt text (then required)",
    "properties": {
        "kind": {"type": "string", "enum": ["random", "pack", "level", "custom"]},
        "id": {"type": "string", "description": "kind pack: a prompt id of the pack"},
        "level": {"type": "string", "enum": list(LEVELS)},
        "title": text_schema("kind custom: one line", maxLength=TITLE_CHARS),
        "text": text_schema("kind custom: the prompt", maxLength=TEXT_CHARS),
        "image_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "kind custom: an image you uploaded (POST /api/v1/prompt-images)",
        },
        "image_description": text_schema("kind custom: alt text", maxLength=ALT_CHARS),
    },
}
_PHASE_BOUNDS = {
    "lobby_seconds": (0, 3600),
    "write_seconds": (1, 7200),
    "feedback_seconds": (1, 3600),
    "results_seconds": (0, 3600),
}
_SETTINGS_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "description": "round rules; every field optional (defaults from [match]); see docs/lobbies.md",
    "properties": {
        **{
            name: {"type": "number", "minimum": lo, "maximum": hi}
            for name, (lo, hi) in _PHASE_BOUNDS.items()
        },
        "prompt": _PROMPT,
        "focus": {"type": ["string", "null"], "enum": [*TRAITS, None]},
        "reviews_per_piece": {"type": "integer", "minimum": 1, "maximum": 5},
        "party_min": {"type": "integer", "minimum": PARTY_MIN, "maximum": PARTY_MAX},
        "party_max": {"type": "integer", "minimum": PARTY_MIN, "maximum": PARTY_MAX},
        "bots": {"type": "boolean"},
        "ranked": {"type": "boolean"},
        "anonymous": {"type": "boolean"},
        "split": {"type": "string", "enum": ["random", "rating"]},
        "class_may_watch": {
            "type": "boolean",
            "description": "the lobby's class may watch its matches (live with the spectator "
            "delay, and as replays); default false; may change while a round plays",
        },
    },
}
_SETTINGS_OUT: Schema = {
    "type": "object",
    "required": [
        *PHASES,
        "prompt",
        "focus",
        "reviews_per_piece",
        "party_min",
        "party_max",
        "class_may_watch",
    ],
    "properties": {
        **{name: {"type": "number"} for name in PHASES},
        "prompt": {"type": "object"},
        "focus": {"type": ["string", "null"]},
        "reviews_per_piece": {"type": "integer"},
        "party_min": {"type": "integer"},
        "party_max": {"type": "integer"},
        "bots": {"type": "boolean"},
        "ranked": {"type": "boolean"},
        "anonymous": {"type": "boolean"},
        "split": {"type": "string"},
        "class_may_watch": {"type": "boolean"},
    },
}
_LOBBY: Schema = {
    "type": "object",
    "required": [
        "id",
        "name",
        "code",
        "class_id",
        "teacher",
        "status",
        "locked",
        "rounds",
        "settings",
        "created_at",
        "closed_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "code": {"type": "string", "description": "the join code, e.g. K7M-QXP"},
        "class_id": {"type": ["string", "null"], "format": "uuid"},
        "teacher": {
            "type": "object",
            "required": ["id", "display_name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "display_name": {"type": "string"},
            },
        },
        "status": {"type": "string", "enum": ["open", "playing", "closed"]},
        "locked": {"type": "boolean"},
        "rounds": {"type": "integer"},
        "settings": _SETTINGS_OUT,
        "created_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_DETAIL: Schema = {
    "type": "object",
    "required": ["lobby", "members", "rounds"],
    "properties": {
        "lobby": _LOBBY,
        "members": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "username", "joined_at"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "name": {"type": "string"},
                    "username": {"type": ["string", "null"]},
                    "joined_at": {"type": "string", "format": "date-time"},
                },
            },
        },
        "rounds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["round", "prompt_id", "started_at", "ended_at", "matches"],
                "properties": {
                    "round": {"type": "integer"},
                    "prompt_id": {"type": "string"},
                    "started_at": {"type": "string", "format": "date-time"},
                    "ended_at": {"type": ["string", "null"], "format": "date-time"},
                    "matches": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["match_id", "party", "players", "bots"],
                            "properties": {
                                "match_id": {"type": "string", "format": "uuid"},
                                "party": {"type": "integer"},
                                "players": {"type": "array", "items": {"type": "string"}},
                                "bots": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        },
    },
}
_NAME: Schema = text_schema("1–60 characters, one line", minLength=1, maxLength=256)
_NEW: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "class_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "one of your classes; null or absent: open to anyone with the code",
        },
        "name": _NAME,
        "settings": _SETTINGS_IN,
    },
}
_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": _NAME, "settings": _SETTINGS_IN},
}
_NOT_FOUND = ("no such lobby among those you may see (lobby_not_found)", None)
_WRITE_LIMITED = ("rate limited (lobbies.write or the per-address limit); see Retry-After", None)


def _lobby_id(request: web.Request) -> uuid.UUID:
    parsed = cstore.as_uuid(request.match_info["lobby_id"])
    if parsed is None:
        raise NotFound("no such lobby", code="lobby_not_found")
    return parsed


async def _managed(request: web.Request, caller: accounts.User) -> store.LobbyRow:
    lobby = await store.lobby_by_id(request.app[PG], _lobby_id(request))
    mine = lobby is not None and lobby.teacher_id == caller.id and lobby.pod_id is None
    if lobby is None or not (caller.role == "admin" or mine):  # a pod's lobby: no manager
        raise NotFound("no such lobby", code="lobby_not_found")
    return lobby


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "lobbies.write",
        caller.id,
        request.app[SETTINGS].lobbies.writes_per_account_per_minute,
    )


async def _audit(
    request: web.Request, action: str, actor: accounts.User, lobby_id: str, **details: Any
) -> None:
    await accounts.audit(
        request.app[PG],
        action,
        actor_id=actor.id,
        target_type="lobby",
        target_id=lobby_id,
        details=details,
        request_id=request_id(request),
        ip=client_ip(request),
    )


def _name(f: Fields, *, required: bool) -> str | None:
    raw = f.string("name", required=required, max_len=256)
    if raw is None:
        return None
    name = roster.clean_class_name(raw)
    if problem := roster.class_name_problem(name):
        f.problem("name", problem)
        return None
    return name


async def _with_image(
    conn: asyncpg.Connection, rules: LobbyRules, current: LobbyRules, owners: set[str]
) -> LobbyRules:
    """``rules`` with its custom prompt's image file name, once the image is found to be
    one of ``owners``' (404 ``image_not_found`` otherwise); unchanged rules as they are.
    The image is held until ``conn``'s transaction ends: it cannot be deleted between
    being found and the lobby being written (a deletion then sees the lobby)."""
    choice = rules.prompt
    if not choice.image_id or choice == current.prompt:
        return rules
    found = await owned_image(conn, choice.image_id, owners, hold=True)
    prompt = dataclasses.replace(choice, image=found.file_name)
    return dataclasses.replace(rules, prompt=prompt)


def _rules(f: Fields, request: web.Request, current: LobbyRules) -> LobbyRules:
    settings = request.app[SETTINGS]
    rules, problems = parse_rules(
        f.body.get("settings"),
        current,
        request.app[REALTIME].prompts,
        bots_allowed=settings.bots.enabled,
    )
    for where, problem in problems.items():
        f.problem(where, problem)
    return rules


@api.route(
    "POST",
    "/api/v1/lobbies",
    summary="Open a private lobby (teachers and admins): a join code and round rules",
    tag="lobbies",
    auth=True,
    request=_NEW,
    body_required=False,
    responses={
        201: ("the new lobby, with its join code", _LOBBY),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
        404: (
            "class_id names no class of yours (class_not_found), or the prompt's image_id "
            "no image of yours (image_not_found)",
            None,
        ),
        409: ("lobbies.open_per_teacher lobbies are open (too_many_lobbies)", None),
        429: _WRITE_LIMITED,
    },
)
async def create_lobby(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in MANAGERS:
        raise Forbidden("only teachers and admins open lobbies", code="not_a_teacher")
    await _write_limit(request, caller)
    settings = request.app[SETTINGS]
    f = Fields(await json_body(request, optional=True), {"class_id", "name", "settings"})
    raw_class = f.body.get("class_id")
    class_id: uuid.UUID | None = None
    if raw_class is not None:
        class_id = cstore.as_uuid(raw_class) if isinstance(raw_class, str) else None
        if class_id is None:
            f.problem("class_id", "must be a class id (uuid) or null")
    name = _name(f, required=False)
    rules = _rules(f, request, LobbyRules.defaults(settings.match, bots=settings.bots.enabled))
    f.done()
    pg = request.app[PG]
    klass = None
    if class_id is not None:
        klass = await cstore.class_by_id(pg, class_id)
        if klass is None or not _manages(caller, klass):
            raise NotFound("no such class", code="class_not_found")
    defaults = LobbyRules.defaults(settings.match, bots=settings.bots.enabled)
    if name is None:
        name = roster.clean_class_name(f"{klass.name} lobby"[:60]) if klass else "Lobby"
    limit = settings.lobbies.open_per_teacher
    async with pg.acquire() as conn, conn.transaction():
        rules = await _with_image(conn, rules, defaults, {caller.id})
        if await store.count_open(conn, caller.id) >= limit:
            raise Conflict(
                f"a teacher may have at most {limit} open lobbies: close one first",
                code="too_many_lobbies",
                details={"limit": limit},
            )
        lobby = await store.create_lobby(
            conn,
            teacher_id=caller.id,
            class_id=None if klass is None else klass.id,
            name=name,
            rules=rules,
            node_id=request.app[REALTIME].node_id,
        )
    await _audit(request, "lobby.create", caller, lobby.id, class_id=lobby.class_id)
    return web.json_response(lobby.public(), status=201)


@api.route(
    "GET",
    "/api/v1/lobbies",
    summary="Your lobbies, open ones first (admins: every lobby)",
    tag="lobbies",
    auth=True,
    responses={
        200: (
            "lobbies: open first, newest first",
            {
                "type": "object",
                "required": ["items"],
                "properties": {"items": {"type": "array", "items": _LOBBY}},
            },
        ),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
    },
)
async def list_lobbies(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in MANAGERS:
        raise Forbidden("only teachers and admins have lobbies", code="not_a_teacher")
    admin = caller.role == "admin"
    items = await store.list_lobbies(
        request.app[PG],
        teacher_id=None if admin else caller.id,
        limit=ADMIN_LIST_LIMIT if admin else TEACHER_LIST_LIMIT,
    )
    return web.json_response({"items": [lobby.public() for lobby in items]})


@api.route(
    "GET",
    "/api/v1/lobbies/{lobby_id}",
    summary="One lobby: its members and its rounds with every party's match id",
    tag="lobbies",
    auth=True,
    responses={200: ("the lobby", _DETAIL), 404: _NOT_FOUND},
)
async def get_lobby(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    pg = request.app[PG]
    members = [
        {
            "id": m.user_id,
            "name": m.name,
            "username": m.username,
            "joined_at": m.joined_at.isoformat(),
        }
        for m in await store.members(pg, lobby.id)
        if m.active
    ]
    rounds = await store.rounds(pg, lobby.id)
    return web.json_response({"lobby": lobby.public(), "members": members, "rounds": rounds})


def _anytime(raw: Any) -> bool:
    """Whether a PATCH's ``settings`` (absent, or parsed already) may apply while a round
    plays: nothing, or only settings that do not shape a round (``class_may_watch``)."""
    return raw is None or (isinstance(raw, dict) and set(raw) <= ANYTIME_FIELDS)


@api.route(
    "PATCH",
    "/api/v1/lobbies/{lobby_id}",
    summary="Rename a lobby or change its round rules (not while a round plays)",
    tag="lobbies",
    auth=True,
    request=_PATCH,
    responses={
        200: ("the lobby", _LOBBY),
        404: (
            "no such lobby among those you may see (lobby_not_found), or the prompt's "
            "image_id names no image of the lobby's teacher or yours (image_not_found)",
            None,
        ),
        409: (
            "a round is playing and settings other than class_may_watch were sent "
            "(lobby_playing), or the lobby is closed (lobby_closed)",
            None,
        ),
        429: _WRITE_LIMITED,
    },
)
async def update_lobby(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"name", "settings"})
    name = _name(f, required=False)
    rules = _rules(f, request, lobby.rules)
    f.done()
    if lobby.closed_at is not None:
        raise Conflict("this lobby is closed", code="lobby_closed")
    if lobby.playing and not _anytime(f.body.get("settings")):
        raise Conflict(
            "a round is playing: change the rules once it has ended", code="lobby_playing"
        )
    pg = request.app[PG]
    async with pg.acquire() as conn, conn.transaction():
        rules = await _with_image(conn, rules, lobby.rules, {lobby.teacher_id, caller.id})
        await store.update_lobby(conn, lobby.id, name=name, rules=rules)
    await _audit(request, "lobby.update", caller, lobby.id, fields=sorted(f.body))
    await request.app[REALTIME].lobbies.refresh(lobby.id)
    found = await store.lobby_by_id(pg, uuid.UUID(lobby.id))
    assert found is not None
    return web.json_response(found.public())


@api.route(
    "POST",
    "/api/v1/lobbies/{lobby_id}/close",
    summary="Close a lobby: nobody joins any more, its code is free; a playing round ends "
    "on its own",
    tag="lobbies",
    auth=True,
    responses={200: ("the closed lobby", _LOBBY), 404: _NOT_FOUND, 429: _WRITE_LIMITED},
)
async def close_lobby(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    await _write_limit(request, caller)
    pg = request.app[PG]
    if lobby.closed_at is None:
        await store.close_lobby(pg, lobby.id)
        await _audit(request, "lobby.close", caller, lobby.id)
        await request.app[REALTIME].lobbies.refresh(lobby.id)
    found = await store.lobby_by_id(pg, uuid.UUID(lobby.id))
    assert found is not None
    return web.json_response(found.public())

"""``GET /api/v1/prompts``: the prompt pack, for a teacher choosing a lobby's prompt.

The pack is ``content/prompts/prompts.toml`` as the node loaded it (``Hub.prompts``, the
same mapping a lobby's rules resolve ``{"kind": "pack", "id": …}`` and ``{"kind":
"level", "level": …}`` against, ``server/lobbies/rules.py``), in file order; every id
listed is one a lobby may pick, every level listed one a lobby may ask for.  A
teacher's own uploaded images (``POST /api/v1/prompt-images``) are not prompts of the
pack and are not listed here: they belong to one teacher and are picked by id in a
custom prompt.

Teachers and admins (403 ``not_a_teacher`` for anyone else, as for opening a lobby):
what a round will be about is not for the students to read beforehand.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.ai.types import Prompt, Trait
from server.api.caller import current_user
from server.errors import Forbidden
from server.http.body import ValidationFailed
from server.http.openapi import Api, Schema
from server.http.state import REALTIME
from server.lobbies.rules import LEVELS

api = Api()

MANAGERS = ("teacher", "admin")
TRAIT_VALUES = [t.value for t in Trait]

PROMPT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "text", "level", "focus", "image", "url", "image_description"],
    "properties": {
        "id": {"type": "string", "description": 'for a lobby: {"kind": "pack", "id": …}'},
        "title": {"type": "string"},
        "text": {"type": "string", "description": "what the writers are shown"},
        "level": {"type": "string", "enum": list(LEVELS)},
        "focus": {
            "type": "string",
            "enum": TRAIT_VALUES,
            "description": "the prompt's own trait focus (a lobby's focus may override it)",
        },
        "image": {"type": "string", "description": "the image's file name"},
        "url": {"type": "string", "description": "where the image is served: /prompts/<image>"},
        "image_description": {
            "type": "string",
            "description": "what the picture shows (its alt text)",
        },
    },
}
PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": PROMPT}},
}
LEVEL: Schema = {
    "type": "string",
    "enum": list(LEVELS),
    "description": "only the prompts of this level",
}


def public(prompt: Prompt) -> dict[str, Any]:
    return {
        "id": prompt.id,
        "title": prompt.title,
        "text": prompt.text,
        "level": prompt.level,
        "focus": prompt.focus.value,
        "image": prompt.image,
        "url": f"/prompts/{prompt.image}" if prompt.image else "",
        "image_description": prompt.image_description,
    }


@api.route(
    "GET",
    "/api/v1/prompts",
    summary="The prompt pack, in order (teachers and admins); optional query level",
    tag="lobbies",
    auth=True,
    query={"level": LEVEL},
    responses={
        200: ("the pack's prompts (not your own uploaded images)", PAGE),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
        422: ("level is not one of " + ", ".join(LEVELS), None),
    },
)
async def list_prompts(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in MANAGERS:
        raise Forbidden("only teachers and admins read the prompt pack", code="not_a_teacher")
    level = request.query.get("level")
    if level is not None and level not in LEVELS:
        problem = "must be one of " + ", ".join(LEVELS)
        raise ValidationFailed(f"level {problem}", details={"fields": {"level": problem}})
    prompts = request.app[REALTIME].prompts.values()
    items = [public(p) for p in prompts if level is None or p.level == level]
    return web.json_response({"items": items})

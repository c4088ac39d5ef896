"""``/api/v1/progress``: a writer's progress (docs/progress.md).

``GET /progress/me`` is the caller's own (guests included); ``GET /progress/{user_id}``
is a writer's for the writer, a teacher of a class the writer is in, and admins (anyone
else, and an unknown id: 404 ``progress_not_found``).  The numbers are
:func:`server.progress.summary.summarise` over the writer's finished matches
(:mod:`server.progress.store`); what to practise next adds a prompt of the pack near the
writer's level (:mod:`server.progress.practise`).  ``limit`` bounds the rating series
(the last 1-100 points, default 100); each trait's series is its last 20 scores.  Every
view counts in the caller's ``progress.read`` bucket
(``limits.progress_reads_per_account_per_minute``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.ai.content import load_prompts
from server.api.caller import current_user
from server.errors import NotFound
from server.http import ratelimit
from server.http.openapi import Api, Schema
from server.http.paging import page_limit
from server.http.state import PG, SETTINGS
from server.progress import practise, store
from server.progress.access import subject
from server.progress.summary import RECENT, summarise

api = Api()

POINTS = 100  # rating series points at most
TRAIT_POINTS = 2 * RECENT  # scores per trait series

_NUM_OR_NULL: Schema = {"type": ["number", "null"]}
_RATING: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["mu", "sigma", "conservative"],
    "properties": {
        "mu": {"type": "number"},
        "sigma": {"type": "number"},
        "conservative": {"type": "number", "description": "mu - 3 sigma, as the boards show"},
    },
}
_POINT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["match_id", "at", "mu", "sigma", "conservative"],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "at": {"type": "string", "format": "date-time"},
        "mu": {"type": "number"},
        "sigma": {"type": "number"},
        "conservative": {"type": "number"},
    },
}
_TRAIT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["trait", "recent", "earlier", "trend", "series"],
    "properties": {
        "trait": {"type": "string"},
        "recent": {**_NUM_OR_NULL, "description": f"mean of the last {RECENT} scores"},
        "earlier": {**_NUM_OR_NULL, "description": f"mean of the {RECENT} before them"},
        "trend": {"type": "number", "description": "recent - earlier (0 without earlier)"},
        "series": {
            "type": "array",
            "maxItems": TRAIT_POINTS,
            "items": {"type": "integer", "minimum": 1, "maximum": 6},
            "description": f"the last {TRAIT_POINTS} scores, oldest first",
        },
    },
}
_PROMPT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "text", "image", "image_description", "level", "focus"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "image": {"type": "string", "description": "the image's file name ('' none)"},
        "image_description": {"type": "string"},
        "level": {"type": "string", "enum": list(practise.LEVELS)},
        "focus": {"type": "string", "description": "the prompt's own focus"},
    },
}
_PRACTISE: Schema = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "required": ["trait", "recent", "level", "prompt", "prompt_trains_trait"],
    "properties": {
        "trait": {"type": "string", "description": "your weakest recent trait"},
        "recent": {"type": "number"},
        "level": {"type": "string", "enum": list(practise.LEVELS)},
        "prompt": {"oneOf": [_PROMPT, {"type": "null"}]},
        "prompt_trains_trait": {
            "type": "boolean",
            "description": "false: no prompt of the pack has this focus; write this one "
            "for the trait",
        },
    },
}
_PROGRESS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "user",
        "matches",
        "rating",
        "tier",
        "rating_series",
        "traits",
        "words_per_minute",
        "review_helpfulness",
        "streak",
        "bests",
        "practise",
    ],
    "properties": {
        "user": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "display_name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "display_name": {"type": "string"},
            },
        },
        "matches": {"type": "integer", "minimum": 0},
        "rating": {"oneOf": [_RATING, {"type": "null"}]},
        "tier": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "next"],
            "properties": {
                "name": {"type": "string"},
                "next": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "required": ["name", "from"],
                    "properties": {"name": {"type": "string"}, "from": {"type": "number"}},
                },
            },
        },
        "rating_series": {"type": "array", "maxItems": POINTS, "items": _POINT},
        "traits": {"type": "array", "items": _TRAIT},
        "words_per_minute": _NUM_OR_NULL,
        "review_helpfulness": _NUM_OR_NULL,
        "streak": {
            "type": "object",
            "additionalProperties": False,
            "required": ["current", "best"],
            "properties": {
                "current": {"type": "integer", "minimum": 0},
                "best": {"type": "integer", "minimum": 0},
            },
        },
        "bests": {
            "type": "object",
            "additionalProperties": False,
            "required": ["overall", "words", "first_places", "rating"],
            "properties": {
                "overall": _NUM_OR_NULL,
                "words": {"type": ["integer", "null"]},
                "first_places": {"type": "integer", "minimum": 0},
                "rating": _NUM_OR_NULL,
            },
        },
        "practise": _PRACTISE,
    },
}
_QUERY: dict[str, Schema] = {
    "limit": {"type": "string", "description": f"rating points, 1-{POINTS}, default {POINTS}"},
}
_LIMITED = ("too many progress views (limits.progress_reads_per_account_per_minute)", None)
_PAGING = ("bad limit (validation_failed)", None)


async def _read_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "progress.read",
        caller.id,
        request.app[SETTINGS].limits.progress_reads_per_account_per_minute,
    )


def today() -> date:
    return datetime.now(UTC).date()


async def progress_of(request: web.Request, user_id: str, name: str) -> dict[str, Any]:
    points = page_limit(request, default=POINTS, most=POINTS)
    seen = await store.history(request.app[PG], user_id)
    p = summarise(seen.played, today(), seen.current)
    practise_next: dict[str, Any] | None = None
    if p.practise is not None:
        level = practise.level_for(
            None if p.rating is None else p.rating["conservative"], seen.grade
        )
        picked = practise.pick_prompt(
            load_prompts().values(), p.practise, level, seen.recent_prompts
        )
        weakest = next(t for t in p.traits if t.trait == p.practise)
        practise_next = {
            "trait": p.practise,
            "recent": weakest.recent,
            "level": level,
            "prompt": None if picked is None else _prompt(picked[0]),
            "prompt_trains_trait": picked is not None and picked[1],
        }
    return {
        "user": {"id": user_id, "display_name": name},
        "matches": p.matches,
        "rating": p.rating,
        "tier": {"name": p.tier, "next": p.next_tier},
        "rating_series": list(p.rating_series[-points:]),
        "traits": [
            {
                "trait": t.trait,
                "recent": t.recent,
                "earlier": t.earlier,
                "trend": t.trend,
                "series": list(t.series[-TRAIT_POINTS:]),
            }
            for t in p.traits
        ],
        "words_per_minute": p.words_per_minute,
        "review_helpfulness": p.review_helpfulness,
        "streak": {"current": p.streak_days, "best": p.best_streak_days},
        "bests": p.bests,
        "practise": practise_next,
    }


def _prompt(prompt: Any) -> dict[str, Any]:
    return {
        "id": prompt.id,
        "title": prompt.title,
        "text": prompt.text,
        "image": prompt.image,
        "image_description": prompt.image_description,
        "level": prompt.level,
        "focus": str(prompt.focus),
    }


@api.route(
    "GET",
    "/api/v1/progress/me",
    summary="Your progress: rating over time, tier, trait averages and trends, words per "
    "minute, review helpfulness, streaks, bests, and what to practise next",
    tag="progress",
    auth=True,
    query=_QUERY,
    responses={200: ("your progress", _PROGRESS), 422: _PAGING, 429: _LIMITED},
)
async def my_progress(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _read_limit(request, caller)
    return web.json_response(await progress_of(request, caller.id, caller.display_name))


@api.route(
    "GET",
    "/api/v1/progress/{user_id}",
    summary="A writer's progress: for the writer, a teacher of their class, and admins",
    tag="progress",
    auth=True,
    query=_QUERY,
    responses={
        200: ("the writer's progress", _PROGRESS),
        404: ("no such writer whose progress you may see (progress_not_found)", None),
        422: _PAGING,
        429: _LIMITED,
    },
)
async def user_progress(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _read_limit(request, caller)
    found = await subject(request.app[PG], caller, request.match_info["user_id"])
    if found is None:
        raise NotFound("no such writer whose progress you may see", code="progress_not_found")
    return web.json_response(await progress_of(request, *found))

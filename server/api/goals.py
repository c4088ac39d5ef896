"""``/api/v1/goals``: goals on a trait, "Voice to 4 by June" (docs/progress.md, "Goals").

A writer sets their own (``/goals/me``); a teacher of a class the writer is in, or an
admin, sets one for them (``/goals/users/{user_id}``, where the writer themselves may also
read and write).  A goal names a trait, a target (1-6 in half steps) for the trait's
recent average and maybe a day to reach it by; it is met when a stored score brings the
recent average to the target (server/goals/store.check_goals), and the writer is then
notified with three suggestions for the next goal.  At most :data:`MAX_OPEN` open goals
per writer, one per trait.  Deleting a goal (``DELETE /goals/{goal_id}``): the writer, a
teacher of theirs, an admin.  Anyone else is told 404, as for an id that does not exist.
Writes count in the caller's ``goals.write`` bucket
(``limits.goal_writes_per_account_per_minute``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.ai.types import TRAITS
from server.api.caller import current_user
from server.api.progress import today
from server.errors import Conflict, NotFound
from server.goals import rules
from server.goals import store as gstore
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.openapi import Api, Schema
from server.http.state import PG, REDIS, SETTINGS
from server.notifications import store as notes
from server.progress.access import subject
from server.progress.store import recent_traits
from server.progress.summary import TraitProgress

api = Api()

MAX_OPEN = 5
MAX_LISTED = 50
MAX_DAYS_AHEAD = 2 * 366
TRAIT_NAMES = [str(t) for t in TRAITS]

_GOAL_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["trait", "target"],
    "properties": {
        "trait": {"type": "string", "enum": TRAIT_NAMES},
        "target": {"type": "number", "minimum": 1, "maximum": 6, "multipleOf": 0.5},
        "due": {
            "type": ["string", "null"],
            "format": "date",
            "description": f"YYYY-MM-DD (UTC), today or later, within {MAX_DAYS_AHEAD} days",
        },
    },
}
_GOAL: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "trait",
        "target",
        "due",
        "status",
        "recent",
        "baseline",
        "progress",
        "set_by",
        "created_at",
        "met_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "trait": {"type": "string"},
        "target": {"type": "number"},
        "due": {"type": ["string", "null"], "format": "date"},
        "status": {"type": "string", "enum": ["open", "late", "met"]},
        "recent": {"type": ["number", "null"], "description": "the trait's recent average now"},
        "baseline": {"type": ["number", "null"], "description": "its recent average when set"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "set_by": {
            "type": "object",
            "additionalProperties": False,
            "required": ["self", "display_name"],
            "properties": {
                "self": {"type": "boolean", "description": "the writer set it"},
                "display_name": {"type": ["string", "null"]},
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
        "met_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_LIST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "open", "max_open"],
    "properties": {
        "items": {"type": "array", "maxItems": MAX_LISTED, "items": _GOAL},
        "open": {"type": "integer", "minimum": 0},
        "max_open": {"type": "integer"},
    },
}
_LIMITED = ("too many goal changes (limits.goal_writes_per_account_per_minute)", None)
_CONFLICTS = (
    "an open goal on this trait already (goal_exists), too many open goals (goal_limit), "
    "or the recent average already reaches the target (goal_already_met)",
    None,
)
_NOT_YOURS = ("no such writer whose goals you may see (goals_not_found)", None)


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "goals.write",
        caller.id,
        request.app[SETTINGS].limits.goal_writes_per_account_per_minute,
    )


def _iso(ts: dt.datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _recent(traits: tuple[TraitProgress, ...], trait: str) -> float | None:
    return next((t.recent for t in traits if t.trait == trait), None)


def plain(
    goal: gstore.Goal, traits: tuple[TraitProgress, ...], names: dict[str, str], on: dt.date
) -> dict[str, Any]:
    recent = goal.met_value if goal.met_at is not None else _recent(traits, goal.trait)
    state: rules.Status = (
        "met" if goal.met_at is not None else rules.status(goal.target, None, goal.due, on)
    )
    return {
        "id": goal.id,
        "trait": goal.trait,
        "target": goal.target,
        "due": None if goal.due is None else goal.due.isoformat(),
        "status": state,
        "recent": recent,
        "baseline": goal.baseline,
        "progress": 1.0 if state == "met" else rules.progress(goal.baseline, recent, goal.target),
        "set_by": {
            "self": goal.set_by == goal.user_id,
            "display_name": None if goal.set_by is None else names.get(goal.set_by),
        },
        "created_at": _iso(goal.created_at),
        "met_at": _iso(goal.met_at),
    }


async def _listing(request: web.Request, user_id: str) -> dict[str, Any]:
    pg = request.app[PG]
    goals = await gstore.goals_of(pg, user_id, limit=MAX_LISTED)
    traits = await recent_traits(pg, user_id)
    if any(g.met_at is None and rules.is_met(g.target, _recent(traits, g.trait)) for g in goals):
        # met by scores stored where no check ran (a match saved later from the
        # dead-letter store): mark and notify now, as the match's end would have
        await notes.publish(request.app[REDIS], await gstore.check_goals(pg, [user_id]))
        goals = await gstore.goals_of(pg, user_id, limit=MAX_LISTED)
    setters = sorted({g.set_by for g in goals if g.set_by is not None})
    names = {
        str(r["id"]): r["display_name"]
        for r in await pg.fetch(
            "SELECT id, display_name FROM users WHERE id = ANY($1::uuid[])",
            [uuid.UUID(s) for s in setters],
        )
    }
    on = today()
    return {
        "items": [plain(g, traits, names, on) for g in goals],
        "open": sum(1 for g in goals if g.met_at is None),
        "max_open": MAX_OPEN,
    }


def _goal_body(f: Fields, on: dt.date) -> tuple[str, float, dt.date | None]:
    trait = f.string("trait", max_len=40)
    if trait is not None and trait not in TRAIT_NAMES:
        f.problem("trait", f"is not a trait ({', '.join(TRAIT_NAMES)})")
    raw = f.body.get("target")
    target = 0.0
    if raw is None:
        f.problem("target", "is required")
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        f.problem("target", "must be a number")
    elif not rules.valid_target(float(raw)):
        f.problem("target", "must be from 1 to 6 in half steps (3, 3.5, 4…)")
    else:
        target = float(raw)
    due_raw = f.string("due", required=False, max_len=10)
    due: dt.date | None = None
    if due_raw is not None:
        try:
            due = dt.date.fromisoformat(due_raw)
        except ValueError:
            f.problem("due", "must be a date, YYYY-MM-DD")
        else:
            if len(due_raw) != 10:
                f.problem("due", "must be a date, YYYY-MM-DD")
            elif due < on:
                f.problem("due", "must be today or later")
            elif (due - on).days > MAX_DAYS_AHEAD:
                f.problem("due", f"must be within {MAX_DAYS_AHEAD} days")
    f.done()
    assert trait is not None
    return trait, target, due


async def _create(request: web.Request, caller: accounts.User, user_id: str) -> web.Response:
    await _write_limit(request, caller)
    on = today()
    trait, target, due = _goal_body(
        Fields(await json_body(request), {"trait", "target", "due"}), on
    )
    pg = request.app[PG]
    traits = await recent_traits(pg, user_id)
    recent = _recent(traits, trait)
    async with pg.acquire() as conn, conn.transaction():
        # one writer's goals at a time: the limit and the one-per-trait rule hold
        await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", uuid.UUID(user_id))
        if await gstore.open_on(conn, user_id, trait) is not None:
            raise Conflict(f"there is an open goal on {trait} already", code="goal_exists")
        if await gstore.count_open(conn, user_id) >= MAX_OPEN:
            raise Conflict(
                f"at most {MAX_OPEN} open goals; delete one first",
                code="goal_limit",
                details={"max_open": MAX_OPEN},
            )
        if rules.is_met(target, recent):
            raise Conflict(
                f"the recent average of {trait} is {recent} already: aim higher",
                code="goal_already_met",
                details={"recent": recent},
            )
        goal = await gstore.create(
            conn,
            user_id=user_id,
            trait=trait,
            target=target,
            due=due,
            baseline=recent,
            set_by=caller.id,
        )
    return web.json_response(plain(goal, traits, {caller.id: caller.display_name}, on), status=201)


async def _subject(request: web.Request, caller: accounts.User) -> str:
    found = await subject(request.app[PG], caller, request.match_info["user_id"])
    if found is None:
        raise NotFound("no such writer whose goals you may see", code="goals_not_found")
    return found[0]


@api.route(
    "GET",
    "/api/v1/goals/me",
    summary="Your goals (open first) with progress toward each",
    tag="goals",
    auth=True,
    responses={200: ("your goals", _LIST)},
)
async def my_goals(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return web.json_response(await _listing(request, caller.id))


@api.route(
    "POST",
    "/api/v1/goals/me",
    summary="Set yourself a goal on a trait: a target for its recent average, maybe by a day",
    tag="goals",
    auth=True,
    request=_GOAL_IN,
    responses={201: ("the goal", _GOAL), 409: _CONFLICTS, 429: _LIMITED},
)
async def set_my_goal(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return await _create(request, caller, caller.id)


@api.route(
    "GET",
    "/api/v1/goals/users/{user_id}",
    summary="A writer's goals: for the writer, a teacher of their class, and admins",
    tag="goals",
    auth=True,
    responses={200: ("the writer's goals", _LIST), 404: _NOT_YOURS},
)
async def user_goals(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return web.json_response(await _listing(request, await _subject(request, caller)))


@api.route(
    "POST",
    "/api/v1/goals/users/{user_id}",
    summary="Set a goal for a writer (their teacher, an admin, or the writer)",
    tag="goals",
    auth=True,
    request=_GOAL_IN,
    responses={201: ("the goal", _GOAL), 404: _NOT_YOURS, 409: _CONFLICTS, 429: _LIMITED},
)
async def set_user_goal(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return await _create(request, caller, await _subject(request, caller))


@api.route(
    "DELETE",
    "/api/v1/goals/{goal_id}",
    summary="Delete a goal (the writer, a teacher of their class, an admin)",
    tag="goals",
    auth=True,
    responses={
        204: ("deleted", None),
        404: ("no such goal you may delete (goal_not_found)", None),
        429: _LIMITED,
    },
)
async def delete_goal(request: web.Request) -> web.Response:
    caller = await current_user(request)
    pg = request.app[PG]
    missing = NotFound("no such goal you may delete", code="goal_not_found")
    try:
        goal_id = uuid.UUID(request.match_info["goal_id"])
    except ValueError:
        raise missing from None
    owner = await pg.fetchval("SELECT user_id FROM goals WHERE id = $1", goal_id)
    if owner is None or await subject(pg, caller, str(owner)) is None:
        raise missing
    await _write_limit(request, caller)
    await gstore.delete(pg, str(owner), str(goal_id))
    return web.Response(status=204)

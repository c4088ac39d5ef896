"""``/api/v1/pods``: study pods, standing groups of 3–6 writers (docs/pods.md).

A writer first says when they are free (``PUT /pods/me/profile``: an IANA time zone,
weekly windows in local time, goal traits); then either joins one of the open pods
suggested to them (``GET /pods/suggestions``, ``POST /pods/{id}/join``) or goes on the
waitlist (``POST /pods/waitlist``), from which pods are formed whenever someone joins it.
``POST /pods/me/leave`` leaves, with a reason; with ``rematch`` the writer goes back on
the waitlist and is never put with the members of the pod they left.  Forming and
scoring are :mod:`server.pods.forming` (pure); forming runs under one advisory lock, so
two writers joining the waitlist at once cannot be put in two pods.

Guests cannot have a pod (403 ``guest_account``): a pod is a standing group.  Other
members' names are shown only to a pod's members; suggestions show counts.  Every write
counts in the caller's ``pods.write`` bucket (``limits.pod_writes_per_account_per_minute``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

import asyncpg
from aiohttp import web

from server.accounts import store as accounts
from server.ai.types import Prompt, Trait
from server.api.caller import current_user
from server.classes.codes import show
from server.errors import Conflict, Forbidden, NotFound
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.openapi import BODY_STATUSES, Api, Schema, text_schema
from server.http.state import PG, REALTIME, SETTINGS
from server.pods import forming, sessions
from server.pods import store as pstore
from server.pods.scheduler import CLOCK, SESSION_LENGTH

api = Api()

TIME_ZONES = frozenset(available_timezones())
MAX_WINDOWS = 14
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 30, 12 * 60
MAX_GOALS = 3
FORMING_LOCK = 0x706F6473  # pg_advisory_xact_lock key: "pods"
TRAITS = [t.value for t in Trait]

_WINDOW: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["day", "start", "minutes"],
    "properties": {
        "day": {"type": "integer", "minimum": 0, "maximum": 6, "description": "0 = Monday"},
        "start": {"type": "integer", "minimum": 0, "maximum": 1439},
        "minutes": {
            "type": "integer",
            "minimum": MIN_WINDOW_MINUTES,
            "maximum": MAX_WINDOW_MINUTES,
        },
    },
}
_GOALS: Schema = {
    "type": "array",
    "maxItems": MAX_GOALS,
    "uniqueItems": True,
    "items": {"type": "string", "enum": TRAITS},
}
_PROFILE_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["time_zone", "windows"],
    "properties": {
        "time_zone": {"type": "string", "description": "an IANA time zone, e.g. Pacific/Tongatapu"},
        "windows": {"type": "array", "minItems": 1, "maxItems": MAX_WINDOWS, "items": _WINDOW},
        "goals": _GOALS,
    },
}
_PROFILE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["time_zone", "windows", "goals", "updated_at"],
    "properties": {
        "time_zone": {"type": "string"},
        "windows": {"type": "array", "items": _WINDOW},
        "goals": _GOALS,
        "updated_at": {"type": "string", "format": "date-time"},
    },
}
_SESSION: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["utc_minute", "time_zone", "day", "start", "minutes"],
    "properties": {
        "utc_minute": {"type": "integer", "minimum": 0, "maximum": 10079},
        "time_zone": {"type": "string"},
        "day": {"type": "integer", "minimum": 0, "maximum": 6},
        "start": {"type": "integer", "minimum": 0, "maximum": 1439},
        "minutes": {"type": "integer", "minimum": 1},
    },
}
_POD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "session", "members", "created_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "session": _SESSION,
        "members": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["user_id", "display_name"],
                "properties": {
                    "user_id": {"type": "string", "format": "uuid"},
                    "display_name": {"type": "string"},
                },
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_SUGGESTIONS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "waitlisted"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["pod_id", "name", "members", "score", "reasons", "session"],
                "properties": {
                    "pod_id": {"type": "string", "format": "uuid"},
                    "name": {"type": "string"},
                    "members": {"type": "integer", "minimum": 0},
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "session": _SESSION,
                },
            },
        },
        "waitlisted": {"type": "boolean"},
    },
}
_PLACED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["pod", "waitlisted"],
    "properties": {"pod": {"oneOf": [_POD, {"type": "null"}]}, "waitlisted": {"type": "boolean"}},
}
_LEAVE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {
        "reason": text_schema("why (shown to nobody but admins)", minLength=1, maxLength=500),
        "rematch": {"type": "boolean", "description": "go back on the waitlist, elsewhere"},
    },
}
_LEFT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["left", "pod", "waitlisted"],
    "properties": {
        "left": {"type": "string", "format": "uuid"},
        "pod": {"oneOf": [_POD, {"type": "null"}]},
        "waitlisted": {"type": "boolean"},
    },
}
_CHECK_IN_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["attended"],
    "properties": {
        "attended": {"type": "boolean"},
        "win": text_schema("one thing that went well", maxLength=300),
        "change": text_schema("one thing to do differently", maxLength=300),
    },
}
_CHECK_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["user_id", "display_name", "session_start", "attended", "win", "change"],
    "properties": {
        "user_id": {"type": "string", "format": "uuid"},
        "display_name": {"type": "string"},
        "session_start": {"type": "string", "format": "date-time"},
        "attended": {"type": "boolean"},
        "win": {"type": "string"},
        "change": {"type": "string"},
    },
}
_CHECK_INS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["latest_session", "next_session", "streak", "items"],
    "properties": {
        "latest_session": {"type": ["string", "null"], "format": "date-time"},
        "next_session": {"type": "string", "format": "date-time"},
        "streak": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": _CHECK_IN},
    },
}
HISTORY_WEEKS = 8  # check-ins shown, and the longest streak the answer can report past
_GUEST = ("a guest account (guest_account) or a bot token (bot_token)", None)
_LIMITED = ("too many pod changes (limits.pod_writes_per_account_per_minute)", None)


class PodConflict(Conflict):
    code = "pod_conflict"


def _now(request: web.Request) -> datetime:
    """The pods' wall clock (``server.pods.scheduler.CLOCK``: tests hold it)."""
    clock = request.app.get(CLOCK)
    return clock.now() if clock is not None else datetime.now(UTC)


async def _caller(request: web.Request) -> accounts.User:
    user = await current_user(request)
    if user.is_guest:
        raise Forbidden("sign up to join a study pod", code="guest_account")
    return user


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "pods.write",
        caller.id,
        request.app[SETTINGS].limits.pod_writes_per_account_per_minute,
    )


def _int(f: Fields, where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        f.problem(where, "must be an integer")
        return lo
    if not lo <= value <= hi:
        f.problem(where, f"must be {lo}..{hi}")
    return value


def _read_profile(body: dict[str, Any]) -> tuple[str, list[pstore.LocalWindow], list[str]]:
    f = Fields(body, {"time_zone", "windows", "goals"})
    zone = f.string("time_zone", max_len=64)
    if zone is not None and zone not in TIME_ZONES:
        f.problem("time_zone", "is not an IANA time zone (e.g. Europe/Paris)")
    windows: list[pstore.LocalWindow] = []
    raw = body.get("windows")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_WINDOWS:
        f.problem("windows", f"must be a list of 1..{MAX_WINDOWS} windows")
    else:
        for i, w in enumerate(raw):
            where = f"windows[{i}]"
            if not isinstance(w, dict) or set(w) != {"day", "start", "minutes"}:
                f.problem(where, "must be an object with exactly day, start and minutes")
                continue
            windows.append(
                pstore.LocalWindow(
                    _int(f, f"{where}.day", w["day"], 0, 6),
                    _int(f, f"{where}.start", w["start"], 0, 1439),
                    _int(
                        f, f"{where}.minutes", w["minutes"], MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES
                    ),
                )
            )
    goals = body.get("goals", [])
    if (
        not isinstance(goals, list)
        or len(goals) > MAX_GOALS
        or not all(isinstance(g, str) and g in TRAITS for g in goals)
        or len(set(goals)) != len(goals)
    ):
        f.problem("goals", f"must be at most {MAX_GOALS} different traits of {', '.join(TRAITS)}")
    f.done()
    assert zone is not None
    return zone, windows, list(goals)


def _session(pod: pstore.PodRow, time_zone: str, at: datetime) -> dict[str, int | str]:
    """The pod's weekly slot in ``time_zone`` (the viewer's own, or the pod's)."""
    offset = pstore.utc_offset_minutes(time_zone, at)
    local = (pod.slot_start + offset) % forming.MINUTES_PER_WEEK
    return {
        "utc_minute": pod.slot_start,
        "time_zone": time_zone,
        "day": local // forming.MINUTES_PER_DAY,
        "start": local % forming.MINUTES_PER_DAY,
        "minutes": forming.SESSION_MINUTES,
    }


def _pod_body(pod: pstore.PodRow, time_zone: str, at: datetime) -> dict[str, Any]:
    return {
        "id": pod.id,
        "name": pod.name,
        "session": _session(pod, time_zone, at),
        "members": [{"user_id": u, "display_name": n} for u, n in pod.members],
        "created_at": pod.created_at.isoformat(),
    }


async def _candidates(
    db: asyncpg.Connection, user_ids: list[str], at: datetime
) -> dict[str, forming.Candidate]:
    profiles = await pstore.profiles(db, user_ids)
    ids = [u for u in user_ids if u in profiles]
    ratings = await pstore.ratings(db, ids)
    avoid = await pstore.avoided(db, ids)
    return {u: pstore.candidate(profiles[u], ratings[u], at, avoid[u]) for u in ids}


async def _require_profile(
    db: asyncpg.Connection | asyncpg.Pool, user: accounts.User
) -> pstore.Profile:
    found = await pstore.profile(db, user.id)
    if found is None:
        raise PodConflict(
            "say when you are free first (PUT /api/v1/pods/me/profile)", code="profile_required"
        )
    return found


async def _form_from_waitlist(conn: asyncpg.Connection, at: datetime) -> None:
    """Form every pod the waitlist allows (inside the caller's transaction, locked)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", FORMING_LOCK)
    people = await _candidates(conn, await pstore.waiting(conn), at)
    formed = forming.form_pods(list(people.values()))
    for members in formed.pods:
        group = [people[u] for u in members]
        fit = forming.score_group(group)
        assert fit is not None
        slot = forming.first_slot(fit.shared, forming.SESSION_MINUTES)
        assert slot is not None
        founder = (await pstore.profiles(conn, members[:1]))[members[0]]
        name = f"Pod {uuid.uuid4().hex[:4].upper()}"
        await pstore.create_pod(conn, name, founder.time_zone, slot, members)


async def _my_pod(db: asyncpg.Connection | asyncpg.Pool, user: accounts.User) -> pstore.PodRow:
    pod_id = await pstore.pod_of(db, user.id)
    if pod_id is None:
        raise NotFound("you are in no pod", code="not_in_pod")
    (pod,) = await pstore.pods(db, [pod_id])
    return pod


async def _zone(db: asyncpg.Connection | asyncpg.Pool, user: accounts.User) -> str:
    """The caller's time zone (UTC until they have a profile)."""
    found = await pstore.profile(db, user.id)
    return found.time_zone if found else "UTC"


async def _placed(request: web.Request, user: accounts.User, zone: str) -> dict[str, Any]:
    pg = request.app[PG]
    pod_id = await pstore.pod_of(pg, user.id)
    at = _now(request)
    if pod_id is None:
        return {"pod": None, "waitlisted": user.id in await pstore.waiting(pg)}
    (pod,) = await pstore.pods(pg, [pod_id])
    return {"pod": _pod_body(pod, zone, at), "waitlisted": False}


@api.route(
    "GET",
    "/api/v1/pods/me/profile",
    summary="When you are free for a study pod, and your goals",
    tag="pods",
    auth=True,
    responses={
        200: ("your pod profile", _PROFILE),
        403: _GUEST,
        404: ("no profile yet (pod_profile_not_found)", None),
    },
)
async def get_profile(request: web.Request) -> web.Response:
    user = await _caller(request)
    found = await pstore.profile(request.app[PG], user.id)
    if found is None:
        raise NotFound("you have not said when you are free", code="pod_profile_not_found")
    return web.json_response(found.plain())


@api.route(
    "PUT",
    "/api/v1/pods/me/profile",
    summary="Say when you are free (weekly windows in your time zone) and your goals",
    tag="pods",
    auth=True,
    request=_PROFILE_IN,
    responses={
        200: ("your pod profile as stored", _PROFILE),
        403: _GUEST,
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def put_profile(request: web.Request) -> web.Response:
    user = await _caller(request)
    await _write_limit(request, user)
    zone, windows, goals = _read_profile(await json_body(request))
    saved = await pstore.save_profile(request.app[PG], user.id, zone, windows, goals)
    return web.json_response(saved.plain())


@api.route(
    "GET",
    "/api/v1/pods/suggestions",
    summary="Open pods you could join, best first, with why",
    tag="pods",
    auth=True,
    responses={
        200: ("suggestions (empty when none fits: join the waitlist)", _SUGGESTIONS),
        403: _GUEST,
        409: ("no profile yet (profile_required)", None),
    },
)
async def suggestions(request: web.Request) -> web.Response:
    user = await _caller(request)
    pg = request.app[PG]
    mine = await _require_profile(pg, user)
    at = _now(request)
    open_pods = [p for p in await pstore.pods(pg) if 0 < len(p.members) < forming.MAX_SIZE]
    async with pg.acquire() as db:
        ids = sorted({u for p in open_pods for u, _ in p.members} | {user.id})
        people = await _candidates(db, ids, at)
    me = people[user.id]
    offers = forming.suggest(
        me,
        [
            forming.OpenPod(p.id, tuple(people[u] for u, _ in p.members if u in people))
            for p in open_pods
            if user.id not in {u for u, _ in p.members}
        ],
    )
    by_id = {p.id: p for p in open_pods}
    items = [
        {
            "pod_id": s.pod_id,
            "name": by_id[s.pod_id].name,
            "members": len(by_id[s.pod_id].members),
            "score": s.score,
            "reasons": s.reasons,
            "session": _session(by_id[s.pod_id], mine.time_zone, at),
        }
        for s in offers
    ]
    waitlisted = user.id in await pstore.waiting(pg)
    return web.json_response({"items": items, "waitlisted": waitlisted})


def _pod_id(request: web.Request) -> str:
    try:
        return str(uuid.UUID(request.match_info["pod_id"]))
    except ValueError:
        raise NotFound("no such pod", code="pod_not_found") from None


@api.route(
    "POST",
    "/api/v1/pods/{pod_id}/join",
    summary="Join an open pod (one that fits you: a shared session slot, room for you)",
    tag="pods",
    auth=True,
    responses={
        200: ("the pod you are in now", _POD),
        403: _GUEST,
        404: ("no such pod (pod_not_found)", None),
        409: (
            "profile_required, already_in_pod, pod_full, or pod_does_not_fit (no shared "
            "slot, or someone you left in a rematch)",
            None,
        ),
        429: _LIMITED,
    },
)
async def join_pod(request: web.Request) -> web.Response:
    user = await _caller(request)
    await _write_limit(request, user)
    pod_id = _pod_id(request)
    pg = request.app[PG]
    mine = await _require_profile(pg, user)
    at = _now(request)
    async with pg.acquire() as db, db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", FORMING_LOCK)
        found = await pstore.pods(db, [pod_id])
        if not found:
            raise NotFound("no such pod", code="pod_not_found")
        pod = found[0]
        if await pstore.pod_of(db, user.id) is not None:
            raise PodConflict("you are in a pod already: leave it first", code="already_in_pod")
        if len(pod.members) >= forming.MAX_SIZE:
            raise PodConflict("this pod is full", code="pod_full")
        people = await _candidates(db, [u for u, _ in pod.members] + [user.id], at)
        group = [people[u] for u, _ in pod.members if u in people] + [people[user.id]]
        if forming.score_group(group) is None:
            raise PodConflict(
                "this pod shares no session time with you (or you left its members)",
                code="pod_does_not_fit",
            )
        await pstore.join(db, pod_id, user.id)
        (pod,) = await pstore.pods(db, [pod_id])
    return web.json_response(_pod_body(pod, mine.time_zone, at))


@api.route(
    "POST",
    "/api/v1/pods/waitlist",
    summary="Wait for a pod: pods are formed from the waitlist whenever someone joins it",
    tag="pods",
    auth=True,
    responses={
        200: ("your pod if one was formed with you, else waitlisted", _PLACED),
        403: _GUEST,
        409: ("profile_required or already_in_pod", None),
        429: _LIMITED,
    },
)
async def join_waitlist(request: web.Request) -> web.Response:
    user = await _caller(request)
    await _write_limit(request, user)
    pg = request.app[PG]
    mine = await _require_profile(pg, user)
    async with pg.acquire() as db, db.transaction():
        if await pstore.pod_of(db, user.id) is not None:
            raise PodConflict("you are in a pod already: leave it first", code="already_in_pod")
        await pstore.add_waiting(db, user.id)
        await _form_from_waitlist(db, _now(request))
    return web.json_response(await _placed(request, user, mine.time_zone))


@api.route(
    "GET",
    "/api/v1/pods/me",
    summary="Your pod: its members and weekly session (in your time zone)",
    tag="pods",
    auth=True,
    responses={
        200: ("your pod, or none and whether you are waitlisted", _PLACED),
        403: _GUEST,
    },
)
async def my_pod(request: web.Request) -> web.Response:
    user = await _caller(request)
    return web.json_response(await _placed(request, user, await _zone(request.app[PG], user)))


@api.route(
    "POST",
    "/api/v1/pods/me/leave",
    summary="Leave your pod, with a reason; rematch puts you back on the waitlist, elsewhere",
    tag="pods",
    auth=True,
    request=_LEAVE,
    responses={
        200: ("the pod you left, and where you are now", _LEFT),
        403: _GUEST,
        404: ("you are in no pod (not_in_pod)", None),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def leave_pod(request: web.Request) -> web.Response:
    user = await _caller(request)
    await _write_limit(request, user)
    body = await json_body(request)
    f = Fields(body, {"reason", "rematch"})
    reason = f.string("reason", max_len=500)
    if reason is not None and not reason.strip():
        f.problem("reason", "must not be blank")
    rematch = body.get("rematch", False)
    if not isinstance(rematch, bool):
        f.problem("rematch", "must be true or false")
        rematch = False
    f.done()
    assert reason is not None
    pg = request.app[PG]
    async with pg.acquire() as db, db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock($1)", FORMING_LOCK)
        pod = await _my_pod(db, user)
        await pstore.leave(db, pod, user.id, reason.strip(), rematch)
        if rematch and await pstore.profile(db, user.id) is not None:
            await pstore.add_waiting(db, user.id)
            await _form_from_waitlist(db, _now(request))
    placed = await _placed(request, user, await _zone(pg, user))
    return web.json_response({"left": pod.id, **placed})


def _first_session(pod: pstore.PodRow) -> datetime:
    """The pod's first session: its slot's first start after the pod was made."""
    return sessions.next_session(pod.slot_start, pod.created_at)


@api.route(
    "POST",
    "/api/v1/pods/me/checkins",
    summary="Check in after the pod's latest session: attended, one win, one thing to change",
    tag="pods",
    auth=True,
    request=_CHECK_IN_IN,
    responses={
        201: ("your check-in", _CHECK_IN),
        403: _GUEST,
        404: ("you are in no pod (not_in_pod)", None),
        409: ("no session has been held yet (no_session_yet), or already_checked_in", None),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def check_in(request: web.Request) -> web.Response:
    user = await _caller(request)
    await _write_limit(request, user)
    body = await json_body(request)
    f = Fields(body, {"attended", "win", "change"})
    attended = body.get("attended")
    if not isinstance(attended, bool):
        f.problem("attended", "is required: true or false")
    win = f.string("win", required=False, max_len=300) or ""
    change = f.string("change", required=False, max_len=300) or ""
    f.done()
    assert isinstance(attended, bool)
    pg = request.app[PG]
    pod = await _my_pod(pg, user)
    now = _now(request)
    latest = sessions.latest_session(pod.slot_start, now)
    if latest < _first_session(pod):
        raise PodConflict(
            "your pod has not met yet: check in after its first session",
            code="no_session_yet",
            details={"first_session": _first_session(pod).isoformat()},
        )
    if not await pstore.check_in(
        pg, pod.id, user.id, latest, attended, win.strip(), change.strip()
    ):
        raise PodConflict("you have checked in for this session already", code="already_checked_in")
    made = pstore.CheckIn(user.id, user.display_name, latest, attended, win.strip(), change.strip())
    return web.json_response(made.plain(), status=201)


@api.route(
    "GET",
    "/api/v1/pods/me/checkins",
    summary="Your pod's check-ins of the last sessions, its streak and its next session",
    tag="pods",
    auth=True,
    responses={
        200: ("the check-ins, newest session first", _CHECK_INS),
        403: _GUEST,
        404: ("you are in no pod (not_in_pod)", None),
    },
)
async def list_check_ins(request: web.Request) -> web.Response:
    user = await _caller(request)
    pg = request.app[PG]
    pod = await _my_pod(pg, user)
    now = _now(request)
    latest = sessions.latest_session(pod.slot_start, now)
    held = latest >= _first_session(pod)
    items = await pstore.check_ins(pg, pod.id, latest - sessions.WEEK * HISTORY_WEEKS)
    attended: dict[datetime, int] = {}
    for c in items:
        attended[c.session_start] = attended.get(c.session_start, 0) + c.attended
    streak = sessions.streak(attended, latest, len(pod.members)) if held else 0
    return web.json_response(
        {
            "latest_session": latest.isoformat() if held else None,
            "next_session": sessions.next_session(pod.slot_start, now).isoformat(),
            "streak": streak,
            "items": [c.plain() for c in items],
        }
    )


_PROMPT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "text", "level", "focus", "image", "image_description"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "level": {"type": "string", "enum": ["elementary", "middle", "high", "adult"]},
        "focus": {"type": "string", "enum": TRAITS},
        "image": {"type": "string"},
        "image_description": {"type": "string"},
    },
}
_OPEN_SESSION: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "pod_id",
        "starts_at",
        "ends_at",
        "round_starts_at",
        "started",
        "lobby_id",
        "lobby_code",
        "focus",
        "prompt",
    ],
    "properties": {
        "pod_id": {"type": "string", "format": "uuid"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "round_starts_at": {"type": "string", "format": "date-time"},
        "started": {"type": "boolean"},
        "lobby_id": {"type": "string", "format": "uuid"},
        "lobby_code": {"type": "string"},
        "focus": {"type": "string", "enum": TRAITS},
        "prompt": {"oneOf": [_PROMPT, {"type": "null"}]},
    },
}
_SESSION_NOW: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["session", "next_session"],
    "properties": {
        "session": {"oneOf": [_OPEN_SESSION, {"type": "null"}]},
        "next_session": {"type": "string", "format": "date-time"},
    },
}


def _prompt_body(prompt: Prompt | None) -> dict[str, str] | None:
    if prompt is None:
        return None
    return {
        "id": prompt.id,
        "title": prompt.title,
        "text": prompt.text,
        "level": prompt.level,
        "focus": prompt.focus.value,
        "image": prompt.image,
        "image_description": prompt.image_description,
    }


@api.route(
    "GET",
    "/api/v1/pods/me/session",
    summary="Your pod's session now: its agenda (focus, prompt) and its lobby's code",
    tag="pods",
    auth=True,
    responses={
        200: ("the open session (null between sessions) and the next start", _SESSION_NOW),
        403: _GUEST,
        404: ("you are in no pod (not_in_pod)", None),
    },
)
async def current_session(request: web.Request) -> web.Response:
    user = await _caller(request)
    pg = request.app[PG]
    pod = await _my_pod(pg, user)
    now = _now(request)
    found = await pstore.open_session_of(pg, pod.id)
    body: dict[str, Any] | None = None
    if found is not None and not found.lobby_closed:
        settings = request.app[SETTINGS].pods
        prompts = request.app[REALTIME].prompts
        body = {
            "pod_id": pod.id,
            "starts_at": found.session_start.isoformat(),
            "ends_at": (found.session_start + SESSION_LENGTH).isoformat(),
            "round_starts_at": (
                found.session_start + timedelta(minutes=settings.start_after_minutes)
            ).isoformat(),
            "started": found.started_at is not None,
            "lobby_id": found.lobby_id,
            "lobby_code": show(found.lobby_code),
            "focus": found.focus,
            "prompt": _prompt_body(prompts.get(found.prompt_id)),
        }
    upcoming = sessions.next_session(pod.slot_start, max(now, pod.created_at))
    return web.json_response({"session": body, "next_session": upcoming.isoformat()})

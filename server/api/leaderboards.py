"""``/api/v1/leaderboards``: who leads, by conservative rating (mu − 3 sigma).

Three boards, each paginated (``limit`` 1–50, an opaque ``cursor``) and with the caller's
own place (``me``, or null when they are not on the board):

- **global**: every rated account that is not a guest, not a class's student and not
  deleted or disabled.  Students never appear on a public board: a class's student is a
  child whose teacher made the account, and their name stays within the class;
- **a class** (``/classes/{class_id}``): its students; for the class's teacher, an admin
  and the students of the class (anyone else: 404 ``class_not_found``);
- **a pod** (``/pods/{pod_id}``): its members; for its members and admins (404
  ``pod_not_found``).

Ties go by account id, so a page boundary never moves between two requests with the same
ratings.  Unrated accounts (no match yet) are not listed.

**Seasons** (``[seasons]``, :mod:`server.leaderboards.seasons`): by default a board is the
current season's — the players with a rated match in it, by their current rating, with
their matches of the season; ``?season=N`` is a past season as it ended (each player's
rating after their last match of it, from ``rating_history``), and ``?season=all`` the
all-time board.  A season resets the board, not the ratings: TrueSkill needs the history
to stay sure of a player.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from server.accounts import store as accounts
from server.api.caller import current_user
from server.errors import NotFound
from server.http.body import ValidationFailed
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG, SETTINGS
from server.leaderboards.seasons import Calendar, Season, parse_start

api = Api()

_ROW: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rank", "user_id", "display_name", "rating", "mu", "sigma", "matches"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1},
        "user_id": {"type": "string", "format": "uuid"},
        "display_name": {"type": "string"},
        "rating": {"type": "number", "description": "conservative: mu - 3 sigma"},
        "mu": {"type": "number"},
        "sigma": {"type": "number"},
        "matches": {"type": "integer", "minimum": 0},
    },
}
_SEASON: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["number", "starts_at", "ends_at", "current"],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "current": {"type": "boolean"},
    },
}
_SEASONS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["enabled", "weeks", "items"],
    "properties": {
        "enabled": {"type": "boolean"},
        "weeks": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": _SEASON},
    },
}
_BOARD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["board", "season", "items", "me", "next_cursor"],
    "properties": {
        "board": {"type": "string", "enum": ["global", "class", "pod"]},
        "season": {"oneOf": [_SEASON, {"type": "null"}], "description": "null: all-time"},
        "items": {"type": "array", "items": _ROW},
        "me": {"oneOf": [_ROW, {"type": "null"}]},
        "next_cursor": {"type": ["string", "null"]},
    },
}
_PAGING = ("bad limit, cursor or season (validation_failed)", None)
_BOARD_QUERY: dict[str, Schema] = {
    "season": {
        "type": "string",
        "description": "a season's number, or `all`; default: the current season",
    },
    "limit": {"type": "string", "description": "1-50, default 20"},
    "cursor": {"type": "string", "description": "next_cursor of the previous page"},
}

# Who is on each board: a WHERE clause over users u (and $1, the board's id).
_LIVE = "u.deleted_at IS NULL AND u.disabled_at IS NULL AND NOT u.is_guest"
_GLOBAL = f"{_LIVE} AND NOT EXISTS (SELECT 1 FROM students s WHERE s.user_id = u.id)"
_CLASS = (
    f"{_LIVE} AND EXISTS (SELECT 1 FROM class_members cm WHERE cm.user_id = u.id "
    "AND cm.class_id = $1)"
)
_POD = (
    f"{_LIVE} AND EXISTS (SELECT 1 FROM pod_members pm WHERE pm.user_id = u.id AND pm.pod_id = $1)"
)


def _parse_cursor(parts: list[str]) -> int:
    (rank,) = parts
    value = int(rank)
    if not 1 <= value < 2**31:  # ranks are what this server handed out
        raise ValueError("rank")
    return value


async def _board(
    db: asyncpg.Connection | asyncpg.Pool,
    request: web.Request,
    board: str,
    where: str,
    caller: accounts.User,
    *args: Any,
) -> web.Response:
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    after = decode_cursor(cursor, _parse_cursor) if cursor else 0
    now = datetime.now(UTC)
    season = _season(request, now)
    if season is not None:
        args = (*args, season.starts_at, min(season.ends_at, now))
    n = len(args)
    # A class's board is read within the class; elsewhere a student shows by a pseudonym.
    name = "u.display_name" if board == "class" else accounts.shared_name_sql()
    ranked = (
        "SELECT row_number() OVER (ORDER BY r.mu - 3 * r.sigma DESC, u.id) AS rank, "
        f"u.id, {name} AS display_name, r.mu - 3 * r.sigma AS rating, r.mu, r.sigma, r.matches "
        f"FROM {_ratings(season, now, n)} r JOIN users u ON u.id = r.user_id WHERE {where}"
    )
    rows = await db.fetch(
        f"SELECT * FROM ({ranked}) b WHERE rank > ${n + 1} ORDER BY rank LIMIT ${n + 2}",
        *args,
        after,
        limit + 1,
    )
    mine = await db.fetchrow(
        f"SELECT * FROM ({ranked}) b WHERE id = ${n + 1}",
        *args,
        uuid.UUID(caller.id),
    )
    page = [_row(r) for r in rows[:limit]]
    more = len(rows) > limit
    body = {
        "board": board,
        "season": None if season is None else season.plain(now),
        "items": page,
        "me": None if mine is None else _row(mine),
        "next_cursor": encode_cursor(str(page[-1]["rank"])) if more and page else None,
    }
    return web.json_response(body)


def calendar(request: web.Request) -> Calendar:
    conf = request.app[SETTINGS].seasons
    return Calendar(parse_start(conf.first_start), conf.weeks)


def _season(request: web.Request, now: datetime) -> Season | None:
    """The season a board is for: ``?season=N``, ``all`` (None), or the current one."""
    cal = calendar(request)
    raw = request.query.get("season")
    if raw is None:
        return cal.current(now)
    if raw == "all":
        return None
    here = cal.current(now)
    if not raw.isdigit() or here is None or not 1 <= int(raw) <= here.number:
        most = f"1 to {here.number}" if here else "none yet"
        raise ValidationFailed(
            f"season must be a season that has begun ({most}) or all",
            details={"fields": {"season": f"a season that has begun ({most}) or all"}},
        )
    return cal.season(int(raw))


def _ratings(season: Season | None, now: datetime, n: int) -> str:
    """The ratings a board ranks (``$n-1``, ``$n``: the season's start and end so far)."""
    if season is None:
        return "ratings"
    in_season = f"h.user_id IS NOT NULL AND h.created_at >= ${n - 1} AND h.created_at < ${n}"
    if season.ends_at > now:  # the current season: today's ratings of its players
        return (
            "(SELECT cur.user_id, cur.mu, cur.sigma, s.matches FROM ratings cur JOIN "
            f"(SELECT h.user_id, count(*) AS matches FROM rating_history h WHERE {in_season} "
            "GROUP BY h.user_id) s ON s.user_id = cur.user_id)"
        )
    return (  # a past season as it ended
        "(SELECT DISTINCT ON (h.user_id) h.user_id, h.mu_after AS mu, h.sigma_after AS sigma, "
        f"count(*) OVER (PARTITION BY h.user_id) AS matches FROM rating_history h "
        f"WHERE {in_season} ORDER BY h.user_id, h.created_at DESC, h.id DESC)"
    )


def _row(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "rank": r["rank"],
        "user_id": str(r["id"]),
        "display_name": r["display_name"],
        "rating": round(float(r["rating"]), 3),
        "mu": round(float(r["mu"]), 3),
        "sigma": round(float(r["sigma"]), 3),
        "matches": r["matches"],
    }


async def _group_board(request: web.Request, board: str, may_read: str, where: str) -> web.Response:
    """A class's or a pod's board (``{board}_id`` in the path), if ``may_read`` (a query of
    the group's id, the caller's id and role) says the caller may read it; else 404."""
    caller = await current_user(request)
    missing = NotFound(f"no such {board}", code=f"{board}_not_found")
    try:
        group_id = uuid.UUID(request.match_info[f"{board}_id"])
    except ValueError:
        raise missing from None
    pg = request.app[PG]
    if not await pg.fetchval(may_read, group_id, uuid.UUID(caller.id), caller.role):
        raise missing
    return await _board(pg, request, board, where, caller, group_id)


@api.route(
    "GET",
    "/api/v1/leaderboards/global",
    summary="The global board by conservative rating (students and guests are not on it)",
    tag="leaderboards",
    auth=True,
    query=_BOARD_QUERY,
    responses={200: ("one page of the board, and your place", _BOARD), 422: _PAGING},
)
async def global_board(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return await _board(request.app[PG], request, "global", _GLOBAL, caller)


@api.route(
    "GET",
    "/api/v1/leaderboards/classes/{class_id}",
    summary="A class's board (its teacher, its students, admins)",
    tag="leaderboards",
    auth=True,
    query=_BOARD_QUERY,
    responses={
        200: ("one page of the class's board, and your place", _BOARD),
        404: ("no such class you may see (class_not_found)", None),
        422: _PAGING,
    },
)
async def class_board(request: web.Request) -> web.Response:
    return await _group_board(
        request,
        "class",
        "SELECT $3 = 'admin' OR c.teacher_id = $2 OR EXISTS (SELECT 1 FROM class_members cm "
        "WHERE cm.class_id = c.id AND cm.user_id = $2) FROM classes c WHERE c.id = $1",
        _CLASS,
    )


@api.route(
    "GET",
    "/api/v1/leaderboards/pods/{pod_id}",
    summary="A study pod's board (its members, admins)",
    tag="leaderboards",
    auth=True,
    query=_BOARD_QUERY,
    responses={
        200: ("one page of the pod's board, and your place", _BOARD),
        404: ("no such pod you are in (pod_not_found)", None),
        422: _PAGING,
    },
)
async def pod_board(request: web.Request) -> web.Response:
    return await _group_board(
        request,
        "pod",
        "SELECT $3 = 'admin' OR EXISTS (SELECT 1 FROM pod_members pm WHERE pm.pod_id = p.id "
        "AND pm.user_id = $2) FROM pods p WHERE p.id = $1",
        _POD,
    )


@api.route(
    "GET",
    "/api/v1/leaderboards/seasons",
    summary="The seasons that have begun, newest first",
    tag="leaderboards",
    auth=True,
    responses={200: ("the season calendar", _SEASONS)},
)
async def seasons(request: web.Request) -> web.Response:
    await current_user(request)
    now = datetime.now(UTC)
    cal = calendar(request)
    return web.json_response(
        {
            "enabled": cal.enabled,
            "weeks": cal.weeks,
            "items": [s.plain(now) for s in cal.past_and_current(now)],
        }
    )

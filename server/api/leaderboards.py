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
ratings.  Unrated accounts (no match yet) are not listed.  Seasons are still to come.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from server.accounts import store as accounts
from server.api.caller import current_user
from server.errors import NotFound
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG

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
_BOARD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["board", "items", "me", "next_cursor"],
    "properties": {
        "board": {"type": "string", "enum": ["global", "class", "pod"]},
        "items": {"type": "array", "items": _ROW},
        "me": {"oneOf": [_ROW, {"type": "null"}]},
        "next_cursor": {"type": ["string", "null"]},
    },
}
_PAGING = ("bad limit or cursor (validation_failed)", None)

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
    n = len(args)
    ranked = (
        "SELECT row_number() OVER (ORDER BY r.mu - 3 * r.sigma DESC, u.id) AS rank, "
        "u.id, u.display_name, r.mu - 3 * r.sigma AS rating, r.mu, r.sigma, r.matches "
        f"FROM ratings r JOIN users u ON u.id = r.user_id WHERE {where}"
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
        "items": page,
        "me": None if mine is None else _row(mine),
        "next_cursor": encode_cursor(str(page[-1]["rank"])) if more and page else None,
    }
    return web.json_response(body)


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

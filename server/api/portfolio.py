"""``/api/v1/portfolio``: a writer's pieces with scores, suggestions and reviews, and the
portfolio exported as JSON or as one self-contained HTML file (docs/portfolio.md).

``/portfolio/me`` is the caller's; ``/portfolio/{user_id}`` someone else's, for their
teacher (a teacher of a class the student is in) and admins — anyone else, and any id
that is no live account, gets 404 ``portfolio_not_found``.  Filters: ``trait`` (pieces
whose focus trait it is), ``from`` and ``to`` (dates, UTC, both included); newest first,
paginated with ``limit`` and an opaque ``cursor``.  Exports count in the caller's
``export`` bucket (``limits.exports_per_account_per_hour``) and hold at most
:data:`EXPORT_MAX_PIECES` pieces (the newest).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from aiohttp import web

from server.accounts import store as accounts
from server.ai.types import Trait
from server.api.caller import current_user
from server.api.export import export_limit
from server.errors import NotFound
from server.http.body import ValidationFailed
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG
from server.portfolio import html as render
from server.portfolio import store
from server.reports.store import teaches

api = Api()

TRAITS = [t.value for t in Trait]
EXPORT_MAX_PIECES = 1000
FORMATS = ("json", "html")

_REVIEW_RECEIVED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "strength", "suggestion", "rating"],
    "properties": {
        "id": {"type": "string", "description": "<match_id>/<review_id>, for a report"},
        "strength": {"type": "string"},
        "suggestion": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 6},
    },
}
_REVIEW_GIVEN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "to", "strength", "suggestion", "rating", "helpfulness", "hidden"],
    "properties": {
        "id": {"type": "string"},
        "to": {"type": "string", "description": "the alias of the piece's writer"},
        "strength": {"type": "string"},
        "suggestion": {"type": "string"},
        "rating": {"type": "integer", "minimum": 1, "maximum": 6},
        "helpfulness": {"type": "integer", "minimum": 1, "maximum": 6},
        "hidden": {"type": "boolean", "description": "a moderator hid it from the writer"},
    },
}
_PIECE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "match_id",
        "mode",
        "ranked",
        "prompt",
        "focus",
        "date",
        "alias",
        "rank",
        "score",
        "words",
        "text",
        "hidden",
        "provisional",
        "overall",
        "traits",
        "suggestions",
        "reviews_received",
        "reviews_given",
        "replay",
    ],
    "properties": {
        "id": {"type": "string", "description": "<match_id>/<alias>, for a report"},
        "match_id": {"type": "string", "format": "uuid"},
        "mode": {"type": "string", "description": "ranked, practice, practice-solo, ..."},
        "ranked": {"type": "boolean"},
        "prompt": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
        },
        "focus": {"type": "string"},
        "date": {"type": "string", "format": "date-time"},
        "alias": {"type": "string"},
        "rank": {"type": ["integer", "null"]},
        "score": {"type": "number"},
        "words": {"type": "integer", "minimum": 0},
        "text": {"type": "string", "description": "empty when hidden and not yours"},
        "hidden": {"type": "boolean", "description": "a moderator hid it from others"},
        "provisional": {"type": "boolean"},
        "overall": {"type": ["number", "null"]},
        "traits": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 6},
        },
        "suggestions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sentence", "advice"],
                "properties": {"sentence": {"type": "string"}, "advice": {"type": "string"}},
            },
        },
        "reviews_received": {"type": "array", "items": _REVIEW_RECEIVED},
        "reviews_given": {"type": "array", "items": _REVIEW_GIVEN},
        "replay": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["api", "page"],
                    "properties": {"api": {"type": "string"}, "page": {"type": "string"}},
                },
            ]
        },
    },
}
_OWNER: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["user_id", "display_name"],
    "properties": {
        "user_id": {"type": "string", "format": "uuid"},
        "display_name": {"type": "string"},
    },
}
_PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["owner", "items", "next_cursor"],
    "properties": {
        "owner": _OWNER,
        "items": {"type": "array", "items": _PIECE},
        "next_cursor": {"type": ["string", "null"]},
    },
}
_EXPORT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "exported_at", "owner", "pieces", "truncated"],
    "properties": {
        "format": {"type": "string", "const": "quill.portfolio"},
        "exported_at": {"type": "string", "format": "date-time"},
        "owner": _OWNER,
        "pieces": {"type": "array", "items": _PIECE},
        "truncated": {"type": "boolean", "description": f"more than {EXPORT_MAX_PIECES}"},
    },
}
_DATE: Schema = {"type": "string", "format": "date", "description": "YYYY-MM-DD (UTC)"}
_QUERY: dict[str, Schema] = {
    "trait": {"type": "string", "enum": TRAITS, "description": "pieces with this focus"},
    "from": {**_DATE, "description": "pieces finished on or after this day (UTC)"},
    "to": {**_DATE, "description": "pieces finished on or before this day (UTC)"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
    "cursor": {"type": "string"},
}
_BAD_QUERY = ("bad trait, from, to, limit or cursor (validation_failed)", None)
_NOT_FOUND = ("no such portfolio among those you may read (portfolio_not_found)", None)


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field} {message}", details={"fields": {field: message}})


def _day(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(name, "must be a date YYYY-MM-DD") from None


def _parse_cursor(parts: list[str]) -> tuple[datetime, uuid.UUID]:
    when, match_id = parts
    return datetime.fromisoformat(when), uuid.UUID(match_id)


def _filter(request: web.Request, *, paged: bool) -> store.Filter:
    trait = request.query.get("trait")
    if trait is not None and trait not in TRAITS:
        raise _bad("trait", f"must be one of {', '.join(TRAITS)}")
    since, until = _day(request, "from"), _day(request, "to")
    if since is not None and until is not None and until < since:
        raise _bad("to", "must not be before from")
    cursor = request.query.get("cursor") if paged else None
    return store.Filter(
        trait=trait,
        since=None if since is None else datetime.combine(since, time(), UTC),
        until=None if until is None else datetime.combine(until + timedelta(days=1), time(), UTC),
        before=decode_cursor(cursor, _parse_cursor) if cursor else None,
    )


async def _readable(request: web.Request, caller: accounts.User, user_id: str) -> dict[str, str]:
    """The owner of the portfolio if the caller may read it, else 404."""
    try:
        user_id = str(uuid.UUID(user_id))
    except ValueError:
        raise NotFound("no such portfolio", code="portfolio_not_found") from None
    pg = request.app[PG]
    allowed = (
        user_id == caller.id
        or caller.role == "admin"
        or (caller.role == "teacher" and await teaches(pg, caller.id, user_id))
    )
    row = await store.owner(pg, user_id) if allowed else None
    if row is None:
        raise NotFound("no such portfolio", code="portfolio_not_found")
    return {"user_id": str(row["id"]), "display_name": row["display_name"]}


async def _page(request: web.Request, caller: accounts.User, user_id: str) -> web.Response:
    owner = await _readable(request, caller, user_id)
    f = _filter(request, paged=True)
    limit = page_limit(request)
    pg = request.app[PG]
    rows = await store.seats(pg, owner["user_id"], f, limit + 1)
    items = await store.pieces(pg, rows[:limit], own=owner["user_id"] == caller.id)
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        None
        if last is None
        else encode_cursor(last["finished_at"].astimezone(UTC).isoformat(), str(last["match_id"]))
    )
    return web.json_response({"owner": owner, "items": items, "next_cursor": next_cursor})


@api.route(
    "GET",
    "/api/v1/portfolio/me",
    summary="Your portfolio: every piece with prompt, date, scores, the AI's suggestions, "
    "the reviews you received (anonymous) and gave, and the replay link",
    tag="portfolio",
    auth=True,
    query=_QUERY,
    responses={200: ("one page of your pieces, newest first", _PAGE), 422: _BAD_QUERY},
)
async def my_portfolio(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return await _page(request, caller, caller.id)


@api.route(
    "GET",
    "/api/v1/portfolio/me/export",
    summary="Your whole portfolio as JSON or as a self-contained HTML file that prints well "
    "(query: format json|html; an attachment)",
    tag="portfolio",
    auth=True,
    query={"format": {"type": "string", "enum": list(FORMATS)}},
    responses={
        200: ("the portfolio (JSON, or text/html when format=html)", _EXPORT),
        422: ("format is not json or html (validation_failed)", None),
        429: ("too many exports (limits.exports_per_account_per_hour)", None),
    },
)
async def export_portfolio(request: web.Request) -> web.Response:
    caller = await current_user(request)
    fmt = request.query.get("format", "json")
    if fmt not in FORMATS:
        raise _bad("format", "must be json or html")
    await export_limit(request, caller)
    pg = request.app[PG]
    rows = await store.seats(pg, caller.id, store.Filter(), EXPORT_MAX_PIECES + 1)
    pieces = await store.pieces(pg, rows[:EXPORT_MAX_PIECES], own=True)
    now = store.iso(datetime.now(UTC))
    owner = {"user_id": caller.id, "display_name": caller.display_name}
    stamp = now[:10]
    if fmt == "html":
        base = f"{request.scheme}://{request.host}"
        page = render.render(caller.display_name, now, pieces, base)
        return web.Response(
            body=page.encode(),
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Content-Disposition": f'attachment; filename="portfolio-{stamp}.html"',
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )
    doc: dict[str, Any] = {
        "format": "quill.portfolio",
        "exported_at": now,
        "owner": owner,
        "pieces": pieces,
        "truncated": len(rows) > EXPORT_MAX_PIECES,
    }
    return web.Response(
        body=orjson.dumps(doc),
        headers={
            "Content-Type": "application/json",
            "Content-Disposition": f'attachment; filename="portfolio-{stamp}.json"',
        },
    )


@api.route(
    "GET",
    "/api/v1/portfolio/{user_id}",
    summary="A student's portfolio, for their teacher and admins (as /portfolio/me)",
    tag="portfolio",
    auth=True,
    query=_QUERY,
    responses={
        200: ("one page of the student's pieces, newest first", _PAGE),
        404: _NOT_FOUND,
        422: _BAD_QUERY,
    },
)
async def portfolio_of(request: web.Request) -> web.Response:
    caller = await current_user(request)
    return await _page(request, caller, request.match_info["user_id"])


def describe(document: dict[str, Any]) -> None:
    """Add the HTML form of the export's 200 answer to the OpenAPI document."""
    ok = document["paths"]["/api/v1/portfolio/me/export"]["get"]["responses"]["200"]
    ok["content"]["text/html"] = {"schema": {"type": "string"}}

"""``/api/v1/notifications``: what a user is told outside a match (docs/notifications.md).

Listing is newest first with an opaque ``cursor`` (``next_cursor`` of the page before;
``null`` on the last page), ``limit`` 1-50 (default 20), ``unread=true`` for the unread
ones only; every page says how many are unread in all.  Marking read: some
(``POST /notifications/read`` with ``ids``; ids that are not the caller's, or already
read, are left alone) or all (``POST /notifications/read-all``); both answer how many
changed and how many stay unread, and count in the caller's ``notifications.write``
bucket (``limits.notification_writes_per_account_per_minute``).  The same notifications
are pushed over the caller's WebSocket when connected (``notification``,
docs/protocol.md).  Only the caller's own notifications are ever shown.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.api.caller import current_user
from server.http import ratelimit
from server.http.body import Fields, ValidationFailed, json_body
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG, SETTINGS
from server.notifications import store
from server.notifications.store import KINDS

api = Api()

MAX_IDS = 100

_ITEM: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "kind", "data", "created_at", "read"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "data": {"type": "object", "description": "the kind's fields (docs/notifications.md)"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
    },
}
_PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "next_cursor", "unread"],
    "properties": {
        "items": {"type": "array", "items": _ITEM},
        "next_cursor": {"type": ["string", "null"]},
        "unread": {"type": "integer", "minimum": 0, "description": "unread in all"},
    },
}
_MARKED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["marked", "unread"],
    "properties": {
        "marked": {"type": "integer", "minimum": 0, "description": "how many were marked read"},
        "unread": {"type": "integer", "minimum": 0, "description": "how many stay unread"},
    },
}
_IDS_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ids"],
    "properties": {
        "ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_IDS,
            "items": {"type": "string", "format": "uuid"},
        }
    },
}
_QUERY: dict[str, Schema] = {
    "limit": {"type": "string", "description": "1-50, default 20"},
    "cursor": {"type": "string", "description": "next_cursor of the previous page"},
    "unread": {"type": "string", "enum": ["true", "false"], "description": "only unread"},
}
_LIMITED = (
    "too many changes (limits.notification_writes_per_account_per_minute)",
    None,
)


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "notifications.write",
        caller.id,
        request.app[SETTINGS].limits.notification_writes_per_account_per_minute,
    )


def _parse_cursor(parts: list[str]) -> tuple[datetime, str]:
    when, note_id = parts
    return datetime.fromisoformat(when), str(uuid.UUID(note_id))


@api.route(
    "GET",
    "/api/v1/notifications",
    summary="Your notifications, newest first (query: limit 1-50, cursor, unread=true)",
    tag="notifications",
    auth=True,
    query=_QUERY,
    responses={
        200: ("one page of your notifications", _PAGE),
        422: ("bad limit, cursor or unread (validation_failed)", None),
    },
)
async def list_notifications(request: web.Request) -> web.Response:
    caller = await current_user(request)
    limit = page_limit(request)
    raw_unread = request.query.get("unread", "false")
    if raw_unread not in ("true", "false"):
        raise ValidationFailed(
            "unread must be true or false",
            details={"fields": {"unread": "must be true or false"}},
        )
    cursor = request.query.get("cursor")
    before = decode_cursor(cursor, _parse_cursor) if cursor else None
    pg = request.app[PG]
    notes = await store.page(
        pg, caller.id, limit=limit + 1, before=before, unread_only=raw_unread == "true"
    )
    last = notes[limit - 1] if len(notes) > limit else None
    body: dict[str, Any] = {
        "items": [n.plain() for n in notes[:limit]],
        "next_cursor": None
        if last is None
        else encode_cursor(last.created_at.isoformat(), last.id),
        "unread": await store.unread_count(pg, caller.id),
    }
    return web.json_response(body)


@api.route(
    "POST",
    "/api/v1/notifications/read",
    summary="Mark some of your notifications read",
    tag="notifications",
    auth=True,
    request=_IDS_IN,
    responses={200: ("how many were marked, how many stay unread", _MARKED), 429: _LIMITED},
)
async def mark_read(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"ids"})
    raw = f.body.get("ids")
    ids: list[str] = []
    if raw is None:
        f.problem("ids", "is required")
    elif not isinstance(raw, list) or not 1 <= len(raw) <= MAX_IDS:
        f.problem("ids", f"must be a list of 1 to {MAX_IDS} notification ids")
    else:
        for i, value in enumerate(raw):
            try:
                ids.append(str(uuid.UUID(value)) if isinstance(value, str) else "")
            except ValueError:
                ids.append("")
            if not ids[-1]:
                f.problem(f"ids[{i}]", "is not a notification id")
    f.done()
    pg = request.app[PG]
    marked = await store.mark_read(pg, caller.id, ids)
    return web.json_response({"marked": marked, "unread": await store.unread_count(pg, caller.id)})


@api.route(
    "POST",
    "/api/v1/notifications/read-all",
    summary="Mark all your notifications read",
    tag="notifications",
    auth=True,
    responses={200: ("how many were marked (none stay unread)", _MARKED), 429: _LIMITED},
)
async def mark_all_read(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    marked = await store.mark_read(request.app[PG], caller.id)
    return web.json_response(
        {"marked": marked, "unread": await store.unread_count(request.app[PG], caller.id)}
    )

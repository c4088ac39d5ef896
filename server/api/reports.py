"""``/api/v1/reports``: content reports and the review queue (docs/reports.md).

Any signed-in user who could see a piece or a review (``server.reports.store.may_see``)
may report it once, with a reason from a fixed list and an optional note; content they
could not see answers 404 as if it did not exist, their own content 422, a second report
of the same content 409.  The queue (``GET /reports``) lists what the caller moderates:
everything for an admin; for a teacher, reports about matches of their lobbies or
content by students of their classes; anybody else 403.  An action closes a report:
``dismiss``; ``hide`` (others no longer see the content; it closes every open report on
it, and the author is told); ``warn`` (the author gets a ``report_action`` notification);
``unhide`` on a report closed as hidden shows the content again (its reports become
``restored``; the author is told).  Every action is in the audit log (``report.dismiss``,
``report.hide``, ``report.warn``, ``report.unhide``).
Reporters are never named, to the author or in the queue.  Filing and acting count in
the caller's ``reports.write`` bucket (``limits.report_writes_per_account_per_minute``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.api.audit import audit_user
from server.api.caller import current_user
from server.errors import Conflict, Forbidden, NotFound
from server.http import ratelimit
from server.http.body import Fields, ValidationFailed, json_body
from server.http.openapi import BODY_STATUSES, Api, Schema, text_schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG, REDIS, SETTINGS
from server.notifications import store as notes
from server.reports import store

api = Api()

NOTE_CHARS = 1000
ACTION_NOTE_CHARS = 500
QUEUE_STATUSES = ("open", "closed", "all")

_TARGET: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "id"],
    "properties": {
        "kind": {"type": "string", "enum": list(store.KINDS)},
        "id": {
            "type": "string",
            "maxLength": 200,
            "description": "a piece: <match_id>/<alias>; a review: <match_id>/<review_id>",
        },
    },
}
_REPORT_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["target", "reason"],
    "properties": {
        "target": _TARGET,
        "reason": {"type": "string", "enum": list(store.REASONS)},
        "note": text_schema("what is wrong, in your words (moderators read it)", maxLength=1000),
    },
}
_FILED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "target", "reason", "note", "status", "created_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "target": _TARGET,
        "reason": {"type": "string", "enum": list(store.REASONS)},
        "note": {"type": "string"},
        "status": {"type": "string", "enum": list(store.STATUSES)},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_ENTRY: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "target",
        "reason",
        "note",
        "status",
        "created_at",
        "closed_at",
        "action_note",
        "match_id",
        "focus",
        "alias",
        "author",
        "content",
        "hidden",
        "reports_on_content",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "target": _TARGET,
        "reason": {"type": "string", "enum": list(store.REASONS)},
        "note": {"type": "string"},
        "status": {"type": "string", "enum": list(store.STATUSES)},
        "created_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "action_note": {"type": "string"},
        "match_id": {"type": "string", "format": "uuid"},
        "focus": {"type": "string"},
        "alias": {"type": "string"},
        "author": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["user_id", "display_name"],
                    "properties": {
                        "user_id": {"type": "string", "format": "uuid"},
                        "display_name": {"type": "string"},
                    },
                },
            ]
        },
        "content": {
            "type": "object",
            "additionalProperties": False,
            "description": "a piece: text; a review: strength and suggestion",
            "properties": {
                "text": {"type": "string"},
                "strength": {"type": "string"},
                "suggestion": {"type": "string"},
            },
        },
        "hidden": {"type": "boolean"},
        "reports_on_content": {"type": "integer", "minimum": 1},
    },
}
_QUEUE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _ENTRY},
        "next_cursor": {"type": ["string", "null"]},
    },
}
_ACTION_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "enum": list(store.ACTIONS)},
        "note": text_schema(
            "to the author with warn; kept with the report otherwise", maxLength=500
        ),
    },
}
_ACTED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["report", "closed"],
    "properties": {
        "report": _ENTRY,
        "closed": {
            "type": "array",
            "items": {"type": "string", "format": "uuid"},
            "description": "every report this action closed (hide closes all open ones on "
            "the content; unhide restores all that stood hidden)",
        },
    },
}
_LIMITED = ("too many reports or actions (limits.report_writes_per_account_per_minute)", None)
_NOT_MODERATOR = ("only teachers and admins have a review queue (not_moderator)", None)


class ReportConflict(Conflict):
    code = "already_reported"


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "reports.write",
        caller.id,
        request.app[SETTINGS].limits.report_writes_per_account_per_minute,
    )


def _read_report(body: dict[str, Any]) -> tuple[str, str, str, str]:
    f = Fields(body, {"target", "reason", "note"})
    target = body.get("target")
    kind = public_id = ""
    if not isinstance(target, dict):
        f.problem("target", "must be an object with kind and id")
    else:
        extra = set(target) - {"kind", "id"}
        if extra:
            f.problem("target", f"has unknown fields: {', '.join(sorted(map(str, extra)))}")
        kind_raw, id_raw = target.get("kind"), target.get("id")
        if kind_raw not in store.KINDS:
            f.problem("target.kind", f"must be one of {', '.join(store.KINDS)}")
        else:
            kind = str(kind_raw)
        if not isinstance(id_raw, str) or not 1 <= len(id_raw) <= 200:
            f.problem("target.id", "must be a string of 1..200 characters")
        elif store.parse_public_id(id_raw) is None:
            f.problem("target.id", "must be <match_id>/<alias> or <match_id>/<review_id>")
        else:
            public_id = id_raw
    reason = body.get("reason")
    if reason not in store.REASONS:
        f.problem("reason", f"must be one of {', '.join(store.REASONS)}")
    note = f.string("note", required=False, max_len=NOTE_CHARS) or ""
    f.done()
    return kind, public_id, str(reason), note.strip()


@api.route(
    "POST",
    "/api/v1/reports",
    summary="Report a piece or a review you saw (to its teacher's or an admin's review queue)",
    tag="reports",
    auth=True,
    request=_REPORT_IN,
    responses={
        201: ("the report, filed", _FILED),
        404: ("no such content among what you could see (content_not_found)", None),
        409: ("you reported this already (already_reported)", None),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def file_report(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    kind, public_id, reason, note = _read_report(await json_body(request))
    pg = request.app[PG]
    async with pg.acquire() as conn:
        target = await store.resolve(conn, kind, public_id)
        if target is None or not await store.may_see(conn, caller.id, caller.role, target):
            raise NotFound("no such piece or review among those you saw", code="content_not_found")
        if target.author_id == caller.id:
            raise ValidationFailed(
                "you cannot report your own writing",
                code="own_content",
                details={"fields": {"target": "is your own"}},
            )
        row = await store.create(conn, caller.id, target, reason, note)
    if row is None:
        raise ReportConflict("you reported this already")
    return web.json_response(
        {
            "id": str(row["id"]),
            "target": {"kind": row["kind"], "id": row["target"]},
            "reason": row["reason"],
            "note": row["note"],
            "status": row["status"],
            "created_at": _iso(row["created_at"]),
        },
        status=201,
    )


def _moderator(caller: accounts.User) -> None:
    if caller.role not in ("teacher", "admin"):
        raise Forbidden("only teachers and admins have a review queue", code="not_moderator")


def _parse_cursor(parts: list[str]) -> tuple[datetime, uuid.UUID]:
    when, report_id = parts
    return datetime.fromisoformat(when), uuid.UUID(report_id)


@api.route(
    "GET",
    "/api/v1/reports",
    summary="The review queue: reports you moderate, newest first "
    "(query: status open|closed|all, limit 1-50, cursor)",
    tag="reports",
    auth=True,
    responses={
        200: ("one page of the queue", _QUEUE),
        403: _NOT_MODERATOR,
        422: ("bad status, limit or cursor", None),
    },
)
async def review_queue(request: web.Request) -> web.Response:
    caller = await current_user(request)
    _moderator(caller)
    status = request.query.get("status", "open")
    if status not in QUEUE_STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(QUEUE_STATUSES)}",
            details={"fields": {"status": f"must be one of {', '.join(QUEUE_STATUSES)}"}},
        )
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    before = decode_cursor(cursor, _parse_cursor) if cursor else None
    rows = await store.queue(
        request.app[PG], caller.id, caller.role, status=status, limit=limit + 1, before=before
    )
    items = [store.plain_report(r, _iso) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = (
        None
        if last is None
        else encode_cursor(last["created_at"].astimezone(UTC).isoformat(), str(last["id"]))
    )
    return web.json_response({"items": items, "next_cursor": next_cursor})


def _report_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["report_id"])
    except ValueError:
        raise NotFound("no such report", code="report_not_found") from None


@api.route(
    "POST",
    "/api/v1/reports/{report_id}/actions",
    summary="Act on a report in your queue: dismiss, hide the content, warn its author, "
    "or undo a hide",
    tag="reports",
    auth=True,
    request=_ACTION_IN,
    responses={
        200: ("the report, closed", _ACTED),
        403: _NOT_MODERATOR,
        404: ("no such report in your queue (report_not_found)", None),
        409: (
            "the report is closed already (report_closed), or unhide on a report that "
            "did not hide its content (not_hidden)",
            None,
        ),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def act(request: web.Request) -> web.Response:
    caller = await current_user(request)
    _moderator(caller)
    await _write_limit(request, caller)
    report_id = _report_id(request)
    body = await json_body(request)
    f = Fields(body, {"action", "note"})
    action = body.get("action")
    if action not in store.ACTIONS:
        f.problem("action", f"must be one of {', '.join(store.ACTIONS)}")
    note = (f.string("note", required=False, max_len=ACTION_NOTE_CHARS) or "").strip()
    f.done()
    action = str(action)
    pg = request.app[PG]
    sent: list[notes.Notification] = []
    async with pg.acquire() as conn, conn.transaction():
        report = await store.moderated(conn, report_id, caller.id, caller.role, lock=True)
        if report is None:
            raise NotFound("no such report in your queue", code="report_not_found")
        if not store.may_act(report["status"], action):
            if action == "unhide":
                raise Conflict(
                    f"this report is {report['status']}: only a report that hid its "
                    "content can unhide it",
                    code="not_hidden",
                )
            raise Conflict(f"this report is {report['status']} already", code="report_closed")
        closed = await store.close(conn, report, action, caller.id, note)
        author = None if report["author_id"] is None else str(report["author_id"])
        if author is not None and action in ("warn", "hide", "unhide"):
            data: dict[str, Any] = {
                "report_id": str(report["id"]),
                "action": action,
                "kind": report["kind"],
                "match_id": str(report["match_id"]),
            }
            if action == "warn" and note:
                data["message"] = note
            sent.append(await notes.notify(conn, author, "report_action", data))
        await audit_user(
            conn,
            request,
            f"report.{action}",
            caller.id,
            author,
            report_id=str(report["id"]),
            kind=report["kind"],
            content=report["target"],
            closed=[str(c) for c in closed],
            note=note,
        )
        after = await store.moderated(conn, report_id, caller.id, caller.role, lock=False)
    await notes.publish(request.app[REDIS], sent)
    assert after is not None
    return web.json_response(
        {"report": store.plain_report(after, _iso), "closed": [str(c) for c in closed]}
    )

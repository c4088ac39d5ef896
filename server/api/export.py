"""``GET /api/v1/me/export``: everything the system holds about the caller, as one JSON
file (docs/privacy.md#export).

Sections: the account; the rating and its history; every seat with the piece (text and
edit log), its scores and the AI's suggestions; the reviews the user gave and received
(anonymous: no other player is named); study pods (profile, membership, departures,
check-ins, waitlist); the classes they are in; notifications; goals, practice rounds and
tutor threads with their messages and escalations (each read only if its table exists:
:data:`OWN_TABLES`); the reports they filed; and the audit-log entries about them.

Bounded: each list holds at most :data:`MAX_ROWS` rows, newest first; a section that hit
the cap is named in ``truncated``.  Exports count in the caller's ``export`` bucket
(``limits.exports_per_account_per_hour``, shared with the portfolio export).  Never in
the file: password or sign-in-code hashes, tokens, other people's names or addresses.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgpack
import orjson
from aiohttp import web

from server.accounts import store as accounts
from server.api.caller import current_user
from server.http import ratelimit
from server.http.openapi import Api, Schema
from server.http.state import PG, REDIS, SETTINGS

api = Api()

MAX_ROWS = 500
EXPORT_WINDOW_S = 3600
SECRET_COLUMNS = frozenset({"password_hash", "code_hash", "token_hash"})

OWN_TABLES: tuple[tuple[str, str, str], ...] = (
    # (section, table, the column naming the user): read when the table exists
    ("goals", "goals", "user_id"),
    ("pod_profile", "pod_profiles", "user_id"),
    ("pod_membership", "pod_members", "user_id"),
    ("pod_waitlist", "pod_waitlist", "user_id"),
    ("pod_departures", "pod_departures", "user_id"),
    ("pod_checkins", "pod_checkins", "user_id"),
    ("notifications", "notifications", "user_id"),
    ("practice_rounds", "practice_rounds", "user_id"),
    ("tutor_threads", "tutor_threads", "user_id"),
    ("tutor_escalations", "tutor_escalations", "student_id"),
)
"""Tables with one column naming the user, dumped whole (but secrets).  A table another
part adds later belongs here (and in docs/privacy.md)."""

_EXPORT: Schema = {
    "type": "object",
    "required": ["format", "exported_at", "account", "truncated"],
    "properties": {
        "format": {"type": "string", "const": "quill.export"},
        "exported_at": {"type": "string", "format": "date-time"},
        "account": {"type": "object"},
        "rating": {"type": ["object", "null"]},
        "rating_history": {"type": "array"},
        "matches": {"type": "array", "description": "your seats with piece, scores, edits"},
        "reviews_given": {"type": "array"},
        "reviews_received": {"type": "array"},
        "classes": {"type": "array"},
        "reports_filed": {"type": "array"},
        "audit": {"type": "array"},
        "tutor_messages": {"type": "array"},
        "sessions": {"type": "array", "description": "sign-ins: when, device, address"},
        "truncated": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"type": ["array", "object", "null"]},
}


async def export_limit(request: web.Request, caller: accounts.User) -> None:
    """The ``export`` bucket: data and portfolio exports per account per hour."""
    app = request.app
    await ratelimit.hit(
        app[REDIS],
        "export",
        caller.id,
        app[SETTINGS].limits.exports_per_account_per_hour,
        window_s=EXPORT_WINDOW_S,
        now=app[ratelimit.CLOCK].now(),
        per="account",
    )


def _json(raw: Any) -> dict[str, Any]:
    """A ``to_jsonb`` row as a dict, without secret columns."""
    row = orjson.loads(raw) if isinstance(raw, str | bytes) else dict(raw)
    return {k: v for k, v in row.items() if k not in SECRET_COLUMNS}


def _edit_log(data: bytes | None) -> Any:
    if not data:
        return []
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (ValueError, msgpack.UnpackException):
        return []


class _Collector:
    def __init__(self, conn: asyncpg.Connection, uid: uuid.UUID) -> None:
        self.conn = conn
        self.uid = uid
        self.truncated: list[str] = []

    async def rows(self, section: str, query: str, *args: Any) -> list[dict[str, Any]]:
        found = await self.conn.fetch(
            f"SELECT to_jsonb(q) AS j FROM ({query} LIMIT {MAX_ROWS + 1}) q", self.uid, *args
        )
        if len(found) > MAX_ROWS:
            self.truncated.append(section)
        return [_json(r["j"]) for r in found[:MAX_ROWS]]


async def _exists(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{table}"))


async def collect(conn: asyncpg.Connection, user_id: str) -> dict[str, Any]:
    """The whole export of one account (module docstring)."""
    uid = uuid.UUID(user_id)
    c = _Collector(conn, uid)
    account = await c.rows(
        "account",
        "SELECT id, handle, display_name, role, is_guest, created_at, updated_at "
        "FROM users WHERE id = $1",
    )
    rating = await c.rows(
        "rating", "SELECT mu, sigma, matches, updated_at FROM ratings WHERE user_id = $1"
    )
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {
        "format": "quill.export",
        "exported_at": now,
        "account": account[0] if account else {},
        "rating": rating[0] if rating else None,
    }
    out["sessions"] = await c.rows(
        "sessions",
        "SELECT created_at, expires_at, used_at, revoked_at, user_agent, ip "
        "FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at DESC",
    )
    out["rating_history"] = await c.rows(
        "rating_history",
        "SELECT match_id, rank, mu_before, sigma_before, mu_after, sigma_after, created_at "
        "FROM rating_history WHERE user_id = $1 ORDER BY created_at DESC",
    )
    seats = await conn.fetch(
        "SELECT to_jsonb(q) - 'edit_log' - 'player_id' AS j, q.edit_log FROM ("
        "SELECT m.id AS match_id, m.mode, m.ranked, m.prompt_id, m.focus, m.finished_at, "
        "s.player_id, s.alias, s.rank, s.score, s.writing, s.review, s.left_match, "
        "sub.text, sub.words, sub.paste_count, sub.pasted_chars, sub.withheld, sub.edit_log, "
        "ps.overall, ps.rationale, ps.suggestions, ps.engine, "
        "(SELECT jsonb_object_agg(x.trait, x.value) FROM scores x WHERE x.match_id = s.match_id "
        "AND x.player_id = s.player_id) AS traits "
        "FROM seats s JOIN matches m ON m.id = s.match_id "
        "LEFT JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN piece_scores ps ON ps.match_id = s.match_id AND ps.player_id = s.player_id "
        f"WHERE s.user_id = $1 ORDER BY m.finished_at DESC LIMIT {MAX_ROWS + 1}) q",
        uid,
    )
    if len(seats) > MAX_ROWS:
        c.truncated.append("matches")
    matches = []
    for s in seats[:MAX_ROWS]:
        row = _json(s["j"])
        row["edit_log"] = _edit_log(s["edit_log"])
        matches.append(row)
    out["matches"] = matches
    player = str(uid)
    out["reviews_given"] = await c.rows(
        "reviews_given",
        "SELECT r.match_id, w.alias AS to_alias, r.strength, r.suggestion, r.rating, "
        "r.shown_strength, r.shown_suggestion, r.withheld, r.helpfulness, r.judged, "
        "r.written_at FROM reviews r LEFT JOIN seats w ON w.match_id = r.match_id "
        "AND w.player_id = r.writer_id WHERE r.reviewer_id = $2 "
        "AND EXISTS (SELECT 1 FROM seats me WHERE me.match_id = r.match_id AND me.user_id = $1) "
        "ORDER BY r.written_at DESC",
        player,
    )
    out["reviews_received"] = await c.rows(
        "reviews_received",
        "SELECT r.match_id, r.shown_strength AS strength, r.shown_suggestion AS suggestion, "
        "r.rating, r.written_at FROM reviews r WHERE r.writer_id = $2 AND NOT r.withheld "
        "AND EXISTS (SELECT 1 FROM seats me WHERE me.match_id = r.match_id AND me.user_id = $1) "
        "AND NOT EXISTS (SELECT 1 FROM hidden_content h WHERE h.match_id = r.match_id "
        "AND h.kind = 'review' AND h.item = r.review_id) ORDER BY r.written_at DESC",
        player,
    )
    out["classes"] = await c.rows(
        "classes",
        "SELECT c.id AS class_id, c.name, c.grade_level, t.display_name AS teacher, "
        "cm.joined_at, st.created_at AS account_created_by_teacher_at, st.last_sign_in_at "
        "FROM class_members cm JOIN classes c ON c.id = cm.class_id "
        "JOIN users t ON t.id = c.teacher_id "
        "LEFT JOIN students st ON st.user_id = cm.user_id AND st.class_id = cm.class_id "
        "WHERE cm.user_id = $1 ORDER BY cm.joined_at DESC",
    )
    for section, table, column in OWN_TABLES:
        if await _exists(conn, table):
            dated = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'created_at')",
                table,
            )
            order = "created_at DESC" if dated else "1 DESC"
            out[section] = await c.rows(
                section, f"SELECT * FROM {table} WHERE {column} = $1 ORDER BY {order}"
            )
    if await _exists(conn, "tutor_messages"):
        out["tutor_messages"] = await c.rows(
            "tutor_messages",
            "SELECT m.thread_id, m.seq, m.author, m.text, m.confidence, m.factors, m.engine, "
            "m.notice, m.declined, m.ask_teacher, m.created_at FROM tutor_messages m "
            "JOIN tutor_threads t ON t.id = m.thread_id WHERE t.user_id = $1 "
            "ORDER BY m.created_at DESC",
        )
    out["reports_filed"] = await c.rows(
        "reports_filed",
        "SELECT id, kind, target, reason, note, status, created_at, closed_at FROM reports "
        "WHERE reporter_id = $1 ORDER BY created_at DESC",
    )
    out["audit"] = await c.rows(
        "audit",
        "SELECT at, action, details, (actor_id = $1) AS by_you, "
        "CASE WHEN actor_id = $1 THEN ip END AS ip FROM audit_log "
        "WHERE (target_type = 'user' AND target_id = $1::text) OR actor_id = $1 "
        "ORDER BY at DESC",
    )
    out["truncated"] = c.truncated
    return out


@api.route(
    "GET",
    "/api/v1/me/export",
    summary="Everything the system holds about you, as one JSON file (an attachment)",
    tag="me",
    auth=True,
    responses={
        200: ("your data (docs/privacy.md#export)", _EXPORT),
        429: ("too many exports (limits.exports_per_account_per_hour)", None),
    },
)
async def export_me(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await export_limit(request, caller)
    async with request.app[PG].acquire() as conn, conn.transaction(readonly=True):
        doc = await collect(conn, caller.id)
    body = await asyncio.to_thread(orjson.dumps, doc)
    stamp = doc["exported_at"][:10]
    return web.Response(
        body=body,
        headers={
            "Content-Type": "application/json",
            "Content-Disposition": f'attachment; filename="quill-data-{stamp}.json"',
        },
    )

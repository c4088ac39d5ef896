"""``GET /api/v1/me/export`` on real PostgreSQL and Redis: everything about the caller —
account, rating and history, pieces with their edit logs, reviews given and received
(anonymous), pods, classes, notifications, reports filed, audit entries — and nothing
secret or about anybody else; every table that names a user is covered (or listed as
deliberately left out); the export limit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest

from server.api.export import OWN_TABLES
from server.config import Settings
from server.notifications import store as notes
from tests.classes.helpers import call, error_of, ok
from tests.conftest import UNTHROTTLED, Node, start_node
from tests.reports.helpers import class_of, match_of, person, seat_alias, sql, strength_of

COVERED = {table for _, table, _ in OWN_TABLES} | {
    "users",  # account
    "ratings",  # rating
    "rating_history",
    "seats",  # matches (with submissions, piece_scores, scores)
    "class_members",  # classes
    "students",  # classes (the account a teacher created: when, last sign-in)
    "reports",  # reports_filed
    "audit_log",  # audit
    "refresh_tokens",  # sessions
}
NOT_EXPORTED = {
    # (table, column): why a reference to a user is not part of the user's export
    ("reports", "author_id"): "reports about the user's content would reveal reporters",
    ("reports", "closed_by"): "a moderator's actions are the school's record",
    ("hidden_content", "hidden_by"): "a moderator's actions are the school's record",
    ("classes", "teacher_id"): "a teacher's classes are the school's, exported as rosters",
    ("lobbies", "teacher_id"): "a teacher's lobbies: results are exported as CSV",
    ("students", "created_by"): "the teacher who made a class account",
    ("prompt_images", "teacher_id"): "a teacher's uploads are files they hold already",
    ("score_overrides", "actor_id"): "a teacher's override, in the audit log",
    (
        "lobby_members",
        "user_id",
    ): "a lobby membership is shown by the lobby; the matches are exported",
    ("tutor_messages", "author_id"): "exported through tutor_threads (tutor_messages)",
    ("tutor_escalations", "answered_by"): "the teacher who answered",
    ("lobby_rounds", "started_by"): "the teacher who started a round",
}


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(limits=UNTHROTTLED)
    runner, n = await start_node(settings, database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


async def test_the_export_holds_the_users_data_and_nobody_elses(node: Node, database: str) -> None:
    teacher = await person(node, "teacher")
    a, b = await person(node), await person(node)
    klass = await class_of(node, database, teacher, [a])
    match_id = await match_of(database, [a, b], texts=["Ada's own words.", "Ben's words."])
    await ok(
        await call(
            node,
            "PUT",
            "/api/v1/pods/me/profile",
            a.token,
            {"time_zone": "Europe/Paris", "windows": [{"day": 1, "start": 1080, "minutes": 60}]},
        )
    )
    conn = await asyncpg.connect(database)
    try:
        await notes.notify(conn, a.id, "teacher_message", {"text": "Well done", "class_id": klass})
    finally:
        await conn.close()
    alias_b = await seat_alias(database, match_id, b.id)
    await ok(
        await call(
            node,
            "POST",
            "/api/v1/reports",
            a.token,
            {"target": {"kind": "piece", "id": f"{match_id}/{alias_b}"}, "reason": "spam"},
        ),
        201,
    )
    resp = await call(node, "GET", "/api/v1/me/export", a.token)
    doc = await ok(resp)
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="quill-data-')
    assert doc["format"] == "quill.export" and doc["truncated"] == []
    assert doc["account"]["id"] == a.id and doc["account"]["handle"] == a.handle
    (m,) = doc["matches"]
    assert m["match_id"] == match_id and m["text"] == "Ada's own words."
    assert isinstance(m["edit_log"], list) and m["edit_log"]
    assert m["traits"] and m["rationale"] is not None
    assert doc["rating"]["matches"] == 1 and len(doc["rating_history"]) == 1
    assert {r["strength"] for r in doc["reviews_given"]} == {strength_of(a.id)}
    assert {r["strength"] for r in doc["reviews_received"]} <= {
        strength_of(b.id),
        strength_of("bot:0"),
    }
    assert doc["classes"][0]["class_id"] == klass and doc["classes"][0]["teacher"] == teacher.name
    assert doc["pod_profile"][0]["time_zone"] == "Europe/Paris"
    assert [n["kind"] for n in doc["notifications"]] == ["teacher_message"]
    assert [r["reason"] for r in doc["reports_filed"]] == ["spam"]
    assert any(e["action"] for e in doc["audit"]) or doc["audit"] == []
    assert doc["sessions"] and "token_hash" not in doc["sessions"][0]
    text = orjson.dumps(doc).decode()
    for secret in ("password_hash", "code_hash", "token_hash", "$argon2"):
        assert secret not in text
    # Nobody else: not b's id, handle, name or words (b's seat is named by alias only).
    for other in (b.id, b.handle, b.name, "Ben's words."):
        assert other not in text, other
    assert (await call(node, "GET", "/api/v1/me/export")).status == 401


async def test_every_table_naming_a_user_is_exported_or_listed(database: str) -> None:
    """A table added later that references users must be added to the export
    (server/api/export.py OWN_TABLES) or to NOT_EXPORTED here, with a reason."""
    rows = await sql(
        database,
        "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
        "WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass",
    )
    missing = sorted(
        (r["tbl"], r["col"])
        for r in rows
        if (r["tbl"], r["col"]) not in NOT_EXPORTED and r["tbl"] not in COVERED
    )
    assert missing == [], f"not in the data export (server/api/export.py): {missing}"


async def test_an_export_of_a_new_account(node: Node) -> None:
    a = await person(node)
    doc = await ok(await call(node, "GET", "/api/v1/me/export", a.token))
    assert doc["matches"] == [] and doc["rating"] is None and doc["classes"] == []


async def test_the_export_limit(settings: Settings, database: str, redis_url: str) -> None:
    limits = {**UNTHROTTLED, "exports_per_account_per_hour": 1}
    runner, node = await start_node(settings.replace(limits=limits), database, redis_url)
    try:
        a = await person(node)
        await ok(await call(node, "GET", "/api/v1/me/export", a.token))
        status, code, details = await error_of(
            await call(node, "GET", "/api/v1/me/export", a.token)
        )
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "export"
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_a_guest_can_export(node: Node) -> None:
    guest = await ok(await node.post("/api/v1/auth/guest", {}), 201)
    doc = await ok(await call(node, "GET", "/api/v1/me/export", guest["access_token"]))
    assert doc["account"]["is_guest"] is True
    assert uuid.UUID(doc["account"]["id"])

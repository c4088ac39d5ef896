"""Every auth flow and every bad input, checked by HTTP status and error code."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest

from server.config import Settings
from tests.conftest import Node, start_node

PASSWORD = "correct horse battery"


async def register(node: Node, handle: str = "alice", **extra: Any) -> dict[str, Any]:
    resp = await node.post(
        "/api/v1/auth/register", {"handle": handle, "password": PASSWORD, **extra}
    )
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def error_of(resp: Any) -> tuple[int, str, dict[str, Any]]:
    body = await resp.json()
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["message"]
    assert body["error"]["request_id"] == resp.headers["X-Request-ID"]
    return resp.status, body["error"]["code"], body["error"]["details"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_register_login_me(node: Node) -> None:
    body = await register(node, display_name="Alice Liddell")
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"]["handle"] == "alice" and body["user"]["role"] == "player"
    resp = await node.post("/api/v1/auth/login", {"handle": "ALICE", "password": PASSWORD})
    assert resp.status == 200
    login = await resp.json()
    me = await node.get("/api/v1/auth/me", headers=bearer(login["access_token"]))
    assert me.status == 200
    assert (await me.json())["display_name"] == "Alice Liddell"


async def test_password_is_stored_as_argon2id(node: Node, database: str) -> None:
    await register(node)
    conn = await asyncpg.connect(database)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE handle = 'alice'")
        actions = await conn.fetch("SELECT action FROM audit_log ORDER BY id")
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert [r["action"] for r in actions] == ["user.register"]


async def test_teacher_can_register_admin_cannot(node: Node) -> None:
    body = await register(node, "msfrizzle", role="teacher")
    assert body["user"]["role"] == "teacher"
    resp = await node.post(
        "/api/v1/auth/register", {"handle": "boss", "password": PASSWORD, "role": "admin"}
    )
    assert (await error_of(resp))[:2] == (403, "forbidden_role")


async def test_refresh_rotates_and_reuse_revokes_the_family(node: Node) -> None:
    first = await register(node)
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert resp.status == 200
    second = await resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await node.get("/api/v1/auth/me", headers=bearer(second["access_token"]))).status == 200
    # The spent token comes back: somebody copied it. The whole session dies.
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert (await error_of(resp))[:2] == (401, "refresh_token_reused")
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": second["refresh_token"]})
    assert (await error_of(resp))[:2] == (401, "refresh_token_reused")
    resp = await node.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert (await error_of(resp))[:2] == (401, "session_revoked")


async def test_logout_ends_the_session_only(node: Node) -> None:
    a = await register(node)
    resp = await node.post("/api/v1/auth/login", {"handle": "alice", "password": PASSWORD})
    b = await resp.json()
    resp = await node.post("/api/v1/auth/logout", headers=bearer(a["access_token"]))
    assert resp.status == 204
    resp = await node.get("/api/v1/auth/me", headers=bearer(a["access_token"]))
    assert (await error_of(resp))[:2] == (401, "session_revoked")
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": a["refresh_token"]})
    assert (await error_of(resp))[:2] == (401, "refresh_token_reused")
    # The other session (another device) still works.
    assert (await node.get("/api/v1/auth/me", headers=bearer(b["access_token"]))).status == 200


async def test_guest_plays_then_upgrades(node: Node) -> None:
    resp = await node.post("/api/v1/auth/guest")
    assert resp.status == 201
    guest = await resp.json()
    assert guest["user"]["guest"] is True and guest["user"]["handle"] is None
    assert len(guest["user"]["display_name"]) >= 5
    resp = await node.post(
        "/api/v1/auth/upgrade",
        {"handle": "newbie", "password": PASSWORD},
        headers=bearer(guest["access_token"]),
    )
    assert resp.status == 200, await resp.text()
    up = await resp.json()
    assert up["user"]["guest"] is False and up["user"]["id"] == guest["user"]["id"]
    resp = await node.post("/api/v1/auth/login", {"handle": "newbie", "password": PASSWORD})
    assert resp.status == 200
    # An upgraded account cannot upgrade again.
    resp = await node.post(
        "/api/v1/auth/upgrade",
        {"handle": "other", "password": PASSWORD},
        headers=bearer(up["access_token"]),
    )
    assert (await error_of(resp))[:2] == (409, "not_a_guest")


async def test_guest_with_chosen_name(node: Node) -> None:
    resp = await node.post("/api/v1/auth/guest", {"display_name": "  Zoë Ng "})
    assert resp.status == 201
    assert (await resp.json())["user"]["display_name"] == "Zoë Ng"


async def test_upgrade_to_a_taken_handle(node: Node) -> None:
    await register(node, "taken")
    guest = await (await node.post("/api/v1/auth/guest")).json()
    resp = await node.post(
        "/api/v1/auth/upgrade",
        {"handle": "TAKEN", "password": PASSWORD},
        headers=bearer(guest["access_token"]),
    )
    assert (await error_of(resp))[:2] == (409, "handle_taken")


REGISTER_BAD = [
    ({"handle": "ab", "password": PASSWORD}, "handle"),
    ({"handle": "no spaces", "password": PASSWORD}, "handle"),
    ({"handle": "_lead", "password": PASSWORD}, "handle"),
    ({"handle": "x" * 25, "password": PASSWORD}, "handle"),
    ({"handle": "admin", "password": PASSWORD}, "handle"),
    ({"handle": "sh1thead", "password": PASSWORD}, "handle"),
    ({"handle": "bob", "password": "short"}, "password"),
    ({"handle": "bob", "password": "x" * 129}, "password"),
    ({"handle": "bobby123", "password": "BOBBY123"}, "password"),
    ({"handle": "bob", "password": " " * 10}, "password"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "x"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "y" * 33}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "bob<script>"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "a  b"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "Fuuuck you"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "1234"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "display_name": "zero\u200bwidth"}, "display_name"),
    ({"handle": "bob", "password": PASSWORD, "role": "king"}, "role"),
    ({"handle": 12, "password": PASSWORD}, "handle"),
    ({"password": PASSWORD}, "handle"),
    ({"handle": "bob"}, "password"),
    ({"handle": "bob", "password": PASSWORD, "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("body", "field"), REGISTER_BAD)
async def test_register_rejects_bad_fields(node: Node, body: dict[str, Any], field: str) -> None:
    resp = await node.post("/api/v1/auth/register", body)
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed")
    assert field in details["fields"]


async def test_register_taken_handle_is_case_insensitive(node: Node) -> None:
    await register(node, "Alice")
    resp = await node.post("/api/v1/auth/register", {"handle": "alice", "password": PASSWORD})
    assert (await error_of(resp))[:2] == (409, "handle_taken")


MALFORMED = [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "invalid_body"),
    (b'"text"', "application/json", 400, "invalid_body"),
    (b"handle=a&password=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"", "application/json", 400, "missing_body"),
    (b"\xff\xfe", "application/json", 400, "invalid_json"),
]


@pytest.mark.parametrize(("raw", "ctype", "status", "code"), MALFORMED)
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh"]
)
async def test_malformed_bodies(
    node: Node, path: str, raw: bytes, ctype: str, status: int, code: str
) -> None:
    resp = await node.http.post(node.url + path, data=raw, headers={"Content-Type": ctype})
    assert (await error_of(resp))[:2] == (status, code)


async def test_login_failures(node: Node) -> None:
    await register(node)
    for body in (
        {"handle": "alice", "password": "wrong password"},
        {"handle": "nobody", "password": PASSWORD},
    ):
        resp = await node.post("/api/v1/auth/login", body)
        assert (await error_of(resp))[:2] == (401, "invalid_credentials")
    resp = await node.post("/api/v1/auth/login", {"handle": "alice"})
    assert (await error_of(resp))[:2] == (422, "validation_failed")


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Basic abc"}, "invalid_token"),
        ({"Authorization": "Bearer "}, "invalid_token"),
        ({"Authorization": "Bearer not-a-token"}, "invalid_token"),
        ({"Authorization": "Bearer v1.e30.AAAA"}, "invalid_token"),
    ],
)
async def test_bad_access_tokens(node: Node, headers: dict[str, str], code: str) -> None:
    resp = await node.get("/api/v1/auth/me", headers=headers)
    assert (await error_of(resp))[:2] == (401, code)


async def test_tampered_and_expired_access_tokens(node: Node) -> None:
    body = await register(node)
    head, payload, sig = body["access_token"].split(".")
    forged = f"{head}.{payload}x.{sig}"
    resp = await node.get("/api/v1/auth/me", headers=bearer(forged))
    assert (await error_of(resp))[:2] == (401, "invalid_token")
    from server.accounts.tokens import AccessClaims
    from server.http.state import SIGNER

    claims = AccessClaims(
        user_id=body["user"]["id"],
        role="player",
        guest=False,
        session_id="00000000-0000-0000-0000-000000000000",
        issued_at=1,
        expires_at=2,
    )
    expired = node.app[SIGNER].issue(claims)
    resp = await node.get("/api/v1/auth/me", headers=bearer(expired))
    assert (await error_of(resp))[:2] == (401, "token_expired")


async def test_bad_refresh_tokens(node: Node) -> None:
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": "made-up"})
    assert (await error_of(resp))[:2] == (401, "invalid_refresh_token")
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": 5})
    assert (await error_of(resp))[:2] == (422, "validation_failed")


async def test_expired_refresh_token(node: Node, database: str) -> None:
    body = await register(node)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
    finally:
        await conn.close()
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert (await error_of(resp))[:2] == (401, "refresh_token_expired")


@pytest.fixture
def settings() -> Settings:
    return Settings().replace(limits={"auth_per_ip_per_minute": 1000})


async def test_rate_limit_per_ip(settings: Settings, database: str, redis_url: str) -> None:
    tight = settings.replace(limits={"auth_per_ip_per_minute": 3})
    runner, node = await start_node(tight, database, redis_url)
    try:
        for _ in range(3):
            assert (await node.post("/api/v1/auth/guest")).status == 201
        resp = await node.post("/api/v1/auth/guest")
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited")
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        assert details["bucket"] == "auth.ip" and details["limit"] == 3
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_rate_limit_per_account(settings: Settings, database: str, redis_url: str) -> None:
    tight = settings.replace(limits={"auth_per_account_per_minute": 2})
    runner, node = await start_node(tight, database, redis_url)
    try:
        await register(node)
        for _ in range(2):
            resp = await node.post(
                "/api/v1/auth/login", {"handle": "alice", "password": "nope-nope"}
            )
            assert resp.status == 401
        resp = await node.post("/api/v1/auth/login", {"handle": "Alice", "password": PASSWORD})
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "auth.account"
        assert "Retry-After" in resp.headers
        # Another account from the same address is not blocked by alice's bucket.
        await register(node, "bob")
        resp = await node.post("/api/v1/auth/login", {"handle": "bob", "password": PASSWORD})
        assert resp.status == 200
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_body_size_limit(settings: Settings, database: str, redis_url: str) -> None:
    small = settings.replace(limits={"max_body_bytes": 2048})
    runner, node = await start_node(small, database, redis_url)
    try:
        big = {"handle": "alice", "password": "x" * 5000}
        resp = await node.post("/api/v1/auth/register", big)
        status, code, details = await error_of(resp)
        assert (status, code) == (413, "payload_too_large") and details["max_bytes"] == 2048

        async def chunks():  # type: ignore[no-untyped-def]
            yield b'{"handle": "alice", "password": "'
            yield b"y" * 4096
            yield b'"}'

        resp = await node.http.post(
            node.url + "/api/v1/auth/register",
            data=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert (await error_of(resp))[:2] == (413, "payload_too_large")
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_bot_tokens_are_refused_on_rest(node: Node) -> None:

    from server.accounts.tokens import AccessClaims
    from server.http.state import SIGNER

    now = int(time.time())
    claims = AccessClaims(
        user_id="bot:1",
        role="bot",
        guest=False,  # type: ignore[arg-type]
        session_id="00000000-0000-0000-0000-000000000001",
        issued_at=now,
        expires_at=now + 60,
    )
    resp = await node.get("/api/v1/auth/me", headers=bearer(node.app[SIGNER].issue(claims)))
    assert (await error_of(resp))[:2] == (403, "bot_token")


# --- The text rule: what a body may hold ----------------------------------------------

UNSTORABLE = [
    ("/api/v1/auth/login", {"handle": "ab\u0000cd", "password": PASSWORD}, "handle"),
    ("/api/v1/auth/login", {"handle": "alice", "password": "pass\u0000word!"}, "password"),
    ("/api/v1/auth/register", {"handle": "alice", "password": "pass\u0000word!"}, "password"),
    ("/api/v1/auth/register", {"handle": "alice\u0007", "password": PASSWORD}, "handle"),
    (
        "/api/v1/auth/register",
        {"handle": "alice", "password": PASSWORD, "display_name": "Al\u0085ice"},
        "display_name",
    ),
    ("/api/v1/auth/register", {"handle": "alice", "password": PASSWORD, "role": "\x7f"}, "role"),
    ("/api/v1/auth/guest", {"display_name": "Zo\u0000e"}, "display_name"),
    ("/api/v1/auth/guest", {"display_name": "Zoe\ufdd0"}, "display_name"),
    ("/api/v1/auth/guest", {"display_name": "Zoe\U0001ffff"}, "display_name"),
    ("/api/v1/auth/refresh", {"refresh_token": "\u0000"}, "refresh_token"),
    ("/api/v1/auth/login", {"hand\u0000le": "alice", "password": PASSWORD}, "hand\ufffdle"),
    ("/api/v1/auth/guest", {"display_name": {"nested": ["ok", "no\u0000"]}}, "display_name"),
]


@pytest.mark.parametrize(("path", "body", "field"), UNSTORABLE)
async def test_unstorable_text_is_a_422_naming_the_field(
    node: Node, path: str, body: dict[str, Any], field: str
) -> None:
    resp = await node.post(path, body)
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed")
    assert any(name.startswith(field) for name in details["fields"]), details


async def test_the_text_rule_holds_behind_a_bearer_token(node: Node) -> None:
    guest = await (await node.post("/api/v1/auth/guest")).json()
    resp = await node.post(
        "/api/v1/auth/upgrade",
        {"handle": "newbie", "password": PASSWORD, "display_name": "New\u0000bie"},
        headers=bearer(guest["access_token"]),
    )
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed") and "display_name" in details["fields"]


async def test_a_lone_surrogate_escape_is_invalid_json_with_a_clear_message(node: Node) -> None:
    for raw in (b'{"handle": "\\ud800", "password": "x"}', b'{"\\udfff": 1}'):
        resp = await node.http.post(
            node.url + "/api/v1/auth/login",
            data=raw,
            headers={"Content-Type": "application/json"},
        )
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (400, "invalid_json")
        assert "surrogate" in body["error"]["message"]


async def test_tab_newline_and_any_script_are_text(node: Node) -> None:
    body = await register(node, "zoe", display_name="Zoë 日本")
    assert body["user"]["display_name"] == "Zoë 日本"
    resp = await node.post(
        "/api/v1/auth/register", {"handle": "tabby", "password": "tab\there\nand 😀"}
    )
    assert resp.status == 201


# --- Login throttling that does not lock the owner out --------------------------------


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_failures_from_one_address_do_not_lock_out_the_owner(
    settings: Settings, database: str, redis_url: str
) -> None:
    proxied = settings.replace(server={"trust_forwarded_for": True})
    runner, node = await start_node(proxied, database, redis_url)
    try:
        await register(node)
        wrong = {"handle": "alice", "password": "not the password"}
        for _ in range(10):  # limits.auth_per_account_per_minute
            resp = await node.post("/api/v1/auth/login", wrong, headers=_from("203.0.113.1"))
            assert resp.status == 401
        resp = await node.post("/api/v1/auth/login", wrong, headers=_from("203.0.113.1"))
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "auth.account"
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        # The owner, somewhere else, signs in.
        resp = await node.post(
            "/api/v1/auth/login",
            {"handle": "alice", "password": PASSWORD},
            headers=_from("198.51.100.7"),
        )
        assert resp.status == 200, await resp.text()
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_a_handle_has_a_ceiling_over_all_addresses(
    settings: Settings, database: str, redis_url: str
) -> None:
    tight = settings.replace(
        server={"trust_forwarded_for": True}, limits={"auth_per_handle_per_minute": 3}
    )
    runner, node = await start_node(tight, database, redis_url)
    try:
        await register(node)
        wrong = {"handle": "alice", "password": "not the password"}
        for i in range(3):
            resp = await node.post("/api/v1/auth/login", wrong, headers=_from(f"203.0.113.{i}"))
            assert resp.status == 401
        resp = await node.post("/api/v1/auth/login", wrong, headers=_from("203.0.113.99"))
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "auth.handle"
        assert "Retry-After" in resp.headers
    finally:
        await node.http.close()
        await runner.cleanup()


# --- Upgrading rotates the session ----------------------------------------------------


async def test_upgrade_ends_the_guest_session_and_starts_a_new_one(node: Node) -> None:
    guest = await (await node.post("/api/v1/auth/guest")).json()
    resp = await node.post(
        "/api/v1/auth/upgrade",
        {"handle": "newbie", "password": PASSWORD},
        headers=bearer(guest["access_token"]),
    )
    assert resp.status == 200
    up = await resp.json()
    assert up["refresh_token"] != guest["refresh_token"]
    # The guest's tokens are dead: the refresh token and the access token.
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": guest["refresh_token"]})
    assert (await error_of(resp))[0] == 401
    resp = await node.get("/api/v1/auth/me", headers=bearer(guest["access_token"]))
    assert (await error_of(resp))[:2] == (401, "session_revoked")
    # The new session works and refreshes.
    me = await node.get("/api/v1/auth/me", headers=bearer(up["access_token"]))
    assert me.status == 200 and (await me.json())["guest"] is False
    resp = await node.post("/api/v1/auth/refresh", {"refresh_token": up["refresh_token"]})
    assert resp.status == 200


# --- Headers of token answers ---------------------------------------------------------


async def test_token_answers_are_not_cached_and_list_every_field(node: Node) -> None:
    resp = await node.post("/api/v1/auth/guest")
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    body = await resp.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
        "user",
    }
    assert set(body["user"]) == {"id", "handle", "display_name", "role", "guest", "created_at"}


async def test_a_digits_only_handle_needs_a_display_name(node: Node) -> None:
    resp = await node.post("/api/v1/auth/register", {"handle": "12345", "password": PASSWORD})
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed") and "display_name" in details["fields"]
    await register(node, "12345", display_name="Number Fan")

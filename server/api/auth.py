"""``/api/v1/auth``: register, login, refresh, logout, guest, upgrade, me, and a student's
sign-in with the username and code a teacher gave them (docs/classes.md).

Access tokens live ``server.access_token_seconds`` (15 min); refresh tokens
``server.refresh_token_seconds`` (7 days) and are rotated on every use.  Presenting a
refresh token that was already used revokes its whole family (the session): whoever stole
it and whoever still holds the newer one are both logged out.  Upgrading a guest starts
a new session and ends the guest's (its tokens were issued to an account that no longer
exists in that form).

Logins are throttled per address (``limits.auth_per_ip_per_minute``), per handle from one
address (``limits.auth_per_account_per_minute``) and per handle from everywhere
(``limits.auth_per_handle_per_minute``, much higher): a stranger guessing passwords from
a few addresses uses up their own buckets, not the owner's.  A student's sign-in is
throttled per username the same way, and per address with its own, higher limit
(``limits.student_signin_per_ip_per_minute``): a whole class signs in at once from behind
one school address.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.accounts import store
from server.accounts.names import (
    display_name_problem,
    guest_display_name,
    handle_problem,
    normalize_display_name,
)
from server.accounts.passwords import hash_password, password_problem, verify_password
from server.accounts.tokens import AccessClaims, new_refresh_token, refresh_hash
from server.api.audit import audit_user
from server.api.session import authenticate, revoke_session
from server.classes import codes
from server.classes import store as class_store
from server.classes.codehash import verify_code
from server.errors import Conflict, Forbidden, Unauthorized
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.middleware import client_ip
from server.http.openapi import Api, Schema, text_schema
from server.http.state import PG, REDIS, SETTINGS, SIGNER
from server.types import UserId

api = Api()

SELF_SERVICE_ROLES = ("player", "teacher")  # admins are made by an operator, not by sign-up

_USER: Schema = {
    "type": "object",
    "required": ["id", "handle", "display_name", "role", "guest", "created_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "handle": {"type": ["string", "null"]},
        "display_name": {"type": "string"},
        "role": {"type": "string", "enum": ["player", "teacher", "admin"]},
        "guest": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_TOKENS: Schema = {
    "type": "object",
    "required": [
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
        "user",
    ],
    "properties": {
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "description": "access token lifetime, seconds"},
        "refresh_expires_in": {
            "type": "integer",
            "description": "refresh token lifetime, seconds",
        },
        "user": _USER,
    },
}
# What the schema can say of the rules in server/accounts/names.py and passwords.py; the
# rest (blocklist, reserved names, letters of any script) is in the descriptions.
_NEW_HANDLE: Schema = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{2,23}$",
    "description": "3–24 letters, digits, '_', '.' or '-', starting with a letter or "
    "digit; unique without regard to case; not on the blocklist or reserved list",
}
_NEW_PASSWORD: Schema = text_schema(
    "8–128 characters, not only spaces, not the handle", minLength=8, maxLength=128
)
_DISPLAY_NAME: Schema = {
    "type": "string",
    "minLength": 2,
    "maxLength": 32,
    "pattern": "^[\\p{N}\\p{M} _.'-]*\\p{L}[\\p{L}\\p{N}\\p{M} _.'-]*$",
    "description": "2–32 characters once trimmed (and NFC-normalised): letters of any "
    "script, digits, nonspacing marks, spaces and - _ . ' only, at least one letter, no "
    "double spaces; not on the blocklist or reserved list",
}
_CREDENTIALS: Schema = {
    "type": "object",
    "required": ["handle", "password"],
    "additionalProperties": False,
    "properties": {
        "handle": text_schema("the handle (any case)", maxLength=64),
        "password": text_schema("the password", maxLength=1024),
    },
}
_REGISTER: Schema = {
    "type": "object",
    "required": ["handle", "password"],
    "additionalProperties": False,
    "properties": {
        "handle": _NEW_HANDLE,
        "password": _NEW_PASSWORD,
        "display_name": _DISPLAY_NAME,
        "role": {"type": "string", "enum": list(SELF_SERVICE_ROLES), "default": "player"},
    },
    # Without a display_name the handle is the display name, which needs a letter.
    "anyOf": [
        {"required": ["display_name"]},
        {"properties": {"handle": {"pattern": "[A-Za-z]"}}},
    ],
}
_UPGRADE: Schema = {
    "type": "object",
    "required": ["handle", "password"],
    "additionalProperties": False,
    "properties": {
        "handle": _NEW_HANDLE,
        "password": _NEW_PASSWORD,
        "display_name": {**_DISPLAY_NAME, "description": "default: the guest's name"},
    },
}
_LIMITED = ("rate limited; see Retry-After and details.bucket", None)


async def _auth_rate_limit(request: web.Request) -> None:
    limits = request.app[SETTINGS].limits
    await ratelimit.limit(
        request.app,
        request.app[REDIS],
        "auth.ip",
        client_ip(request),
        limits.auth_per_ip_per_minute,
    )


async def _login_rate_limit(request: web.Request, handle: str) -> None:
    """Sign-ins for one handle: from this address first, then from everywhere.  An
    address over its own limit is refused before it spends any of the handle's."""
    limits, redis = request.app[SETTINGS].limits, request.app[REDIS]
    handle = handle.lower()
    await ratelimit.limit(
        request.app,
        redis,
        "auth.account",
        f"{handle}@{client_ip(request)}",
        limits.auth_per_account_per_minute,
        per="handle from this address",
    )
    await ratelimit.limit(
        request.app, redis, "auth.handle", handle, limits.auth_per_handle_per_minute, "handle"
    )


async def _end_session(request: web.Request, family: uuid.UUID, reason: str) -> None:
    """Revoke a session: its refresh tokens (PostgreSQL), its access tokens and sockets."""
    await store.revoke_family(request.app[PG], family)
    await revoke_session(request.app, str(family), reason)


async def _issue(
    request: web.Request, user: store.User, family: uuid.UUID | None = None, status: int = 200
) -> web.Response:
    """A new access token and a new refresh token (in ``family``, or a new session)."""
    settings = request.app[SETTINGS].server
    family = family or uuid.uuid4()
    refresh, digest = new_refresh_token()
    await store.insert_refresh_token(
        request.app[PG],
        user_id=user.id,
        family_id=family,
        token_hash=digest,
        lifetime_s=settings.refresh_token_seconds,
        user_agent=request.headers.get("User-Agent"),
        ip=client_ip(request),
    )
    now = int(time.time())
    access = request.app[SIGNER].issue(
        AccessClaims(
            user_id=user.id,
            role=user.role,
            guest=user.is_guest,
            session_id=str(family),
            issued_at=now,
            expires_at=now + settings.access_token_seconds,
        )
    )
    body: dict[str, Any] = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": settings.access_token_seconds,
        "refresh_expires_in": settings.refresh_token_seconds,
        "user": user.public(),
    }
    return web.json_response(body, status=status)


def _new_credentials(f: Fields) -> tuple[str | None, str | None, str | None]:
    """Handle, password and (normalised) display name of a new account, with their rules
    checked; problems are collected on ``f``.  The display name is checked by the caller
    (registration defaults it to the handle)."""
    handle = f.string("handle", max_len=64)
    password = f.string("password", max_len=1024)
    display = f.string("display_name", required=False, max_len=256)
    if handle is not None and (p := handle_problem(handle)):
        f.problem("handle", p)
    if password is not None and (p := password_problem(password, handle)):
        f.problem("password", p)
    return handle, password, None if display is None else normalize_display_name(display)


async def _audit(request: web.Request, action: str, actor: str | None, **details: Any) -> None:
    await audit_user(request.app[PG], request, action, actor, actor, **details)


@api.route(
    "POST",
    "/api/v1/auth/register",
    summary="Create an account",
    tag="auth",
    request=_REGISTER,
    responses={
        201: ("account created, signed in", _TOKENS),
        403: ("role admin asked for (forbidden_role)", None),
        409: ("handle taken", None),
        429: _LIMITED,
    },
)
async def register(request: web.Request) -> web.Response:
    await _auth_rate_limit(request)
    f = Fields(await json_body(request), {"handle", "password", "display_name", "role"})
    handle, password, display = _new_credentials(f)
    display = display if display is not None else handle
    if display is not None and (p := display_name_problem(display)):
        f.problem("display_name", p)
    role = f.string("role", required=False, max_len=32) or "player"
    if role == "admin":
        raise Forbidden("admin accounts cannot be self-registered", code="forbidden_role")
    if role not in SELF_SERVICE_ROLES:
        f.problem("role", f"must be one of {', '.join(SELF_SERVICE_ROLES)}")
    f.done()
    assert handle is not None and password is not None and display is not None
    user = await store.create_user(
        request.app[PG],
        handle=handle,
        display_name=display,
        role=role,
        password_hash=await hash_password(password),
        is_guest=False,
    )
    if user is None:
        raise Conflict(
            f"the handle {handle!r} is taken",
            code="handle_taken",
            details={"fields": {"handle": "is taken"}},
        )
    await _audit(request, "user.register", user.id, role=role)
    return await _issue(request, user, status=201)


@api.route(
    "POST",
    "/api/v1/auth/login",
    summary="Sign in with handle and password",
    tag="auth",
    request=_CREDENTIALS,
    responses={
        200: ("signed in", _TOKENS),
        401: ("wrong handle or password", None),
        429: _LIMITED,
    },
)
async def login(request: web.Request) -> web.Response:
    await _auth_rate_limit(request)
    f = Fields(await json_body(request), {"handle", "password"})
    handle = f.string("handle", max_len=64)
    password = f.string("password", max_len=1024)
    f.done()
    assert handle is not None and password is not None
    await _login_rate_limit(request, handle)
    user = await store.user_by_handle(request.app[PG], handle)
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        raise Unauthorized("wrong handle or password", code="invalid_credentials")
    await _audit(request, "user.login", user.id)
    return await _issue(request, user)


@api.route(
    "POST",
    "/api/v1/auth/refresh",
    summary="Trade a refresh token for new tokens",
    tag="auth",
    request={
        "type": "object",
        "required": ["refresh_token"],
        "additionalProperties": False,
        "properties": {"refresh_token": text_schema("a refresh token", maxLength=256)},
    },
    responses={
        200: ("new tokens; the old refresh token is spent", _TOKENS),
        401: ("invalid, expired or reused refresh token", None),
        429: _LIMITED,
    },
)
async def refresh(request: web.Request) -> web.Response:
    await _auth_rate_limit(request)
    f = Fields(await json_body(request), {"refresh_token"})
    token = f.string("refresh_token", max_len=256)
    f.done()
    assert token is not None
    pg = request.app[PG]
    reused: str | None = None
    async with pg.acquire() as conn, conn.transaction():
        row = await store.refresh_row_for_update(conn, refresh_hash(token))
        if row is None:
            raise Unauthorized("this refresh token is not valid", code="invalid_refresh_token")
        if row["used_at"] is not None or row["revoked_at"] is not None:
            await store.revoke_family(conn, row["family_id"])
            reused = str(row["user_id"])
        elif row["expires_at"] <= datetime.now(UTC):
            raise Unauthorized(
                "this refresh token has expired; sign in again", code="refresh_token_expired"
            )
        else:
            await store.mark_refresh_used(conn, row["id"])
            user = await store.user_by_id(conn, str(row["user_id"]))
    if reused is not None:
        await revoke_session(request.app, str(row["family_id"]), "refresh_reuse")
        await _audit(request, "session.refresh_reuse", reused, family=str(row["family_id"]))
        raise Unauthorized(
            "this refresh token was already used; the session is revoked, sign in again",
            code="refresh_token_reused",
        )
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_refresh_token")
    return await _issue(request, user, family=row["family_id"])


@api.route(
    "POST",
    "/api/v1/auth/logout",
    summary="End this session (all its tokens)",
    tag="auth",
    auth=True,
    request={"type": "object", "description": "ignored"},
    body_required=False,
    responses={204: ("logged out", None)},
)
async def logout(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    await json_body(request, optional=True)
    family = uuid.UUID(claims.session_id)
    await store.revoke_family(request.app[PG], family)
    await revoke_session(request.app, claims.session_id, "logout")
    await _audit(request, "user.logout", claims.user_id)
    return web.Response(status=204)


@api.route(
    "POST",
    "/api/v1/auth/guest",
    summary="Start playing as a guest",
    tag="auth",
    request={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "display_name": {**_DISPLAY_NAME, "description": "default: a generated name"}
        },
    },
    body_required=False,
    responses={
        201: ("guest account created, signed in", _TOKENS),
        429: _LIMITED,
    },
)
async def guest(request: web.Request) -> web.Response:
    await _auth_rate_limit(request)
    f = Fields(await json_body(request, optional=True), {"display_name"})
    display = f.string("display_name", required=False, max_len=256)
    if display is not None:
        display = normalize_display_name(display)
        if p := display_name_problem(display):
            f.problem("display_name", p)
    f.done()
    user = await store.create_user(
        request.app[PG],
        handle=None,
        display_name=display or guest_display_name(),
        role="player",
        password_hash=None,
        is_guest=True,
    )
    assert user is not None
    await _audit(request, "user.guest", user.id)
    return await _issue(request, user, status=201)


@api.route(
    "POST",
    "/api/v1/auth/upgrade",
    summary="Turn a guest into a full account",
    tag="auth",
    auth=True,
    request=_UPGRADE,
    responses={
        200: ("upgraded; new tokens of a new session, the guest's session is ended", _TOKENS),
        409: ("not a guest, or handle taken", None),
    },
)
async def upgrade(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    f = Fields(await json_body(request), {"handle", "password", "display_name"})
    handle, password, display = _new_credentials(f)
    if display is not None and (p := display_name_problem(display)):
        f.problem("display_name", p)
    f.done()
    assert handle is not None and password is not None
    if not claims.guest:
        raise Conflict("this account already has a handle and password", code="not_a_guest")
    pg = request.app[PG]
    if await store.user_by_handle(pg, handle) is not None:
        raise Conflict(
            f"the handle {handle!r} is taken",
            code="handle_taken",
            details={"fields": {"handle": "is taken"}},
        )
    user = await store.upgrade_guest(
        pg,
        claims.user_id,
        handle=handle,
        password_hash=await hash_password(password),
        display_name=display,
    )
    if user is None:
        raise Conflict(f"the handle {handle!r} is taken", code="handle_taken")
    await _end_session(request, uuid.UUID(claims.session_id), "upgrade")
    await _audit(request, "user.upgrade", user.id, ended_session=claims.session_id)
    return await _issue(request, user)


@api.route(
    "GET",
    "/api/v1/auth/me",
    summary="The signed-in account",
    tag="auth",
    auth=True,
    responses={200: ("the account", _USER)},
)
async def me(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    user = await store.user_by_id(request.app[PG], UserId(claims.user_id))
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_token")
    return web.json_response(user.public())


_STUDENT_SIGN_IN: Schema = {
    "type": "object",
    "required": ["username", "code"],
    "additionalProperties": False,
    "properties": {
        "username": text_schema("the username on the card (any case)", maxLength=64),
        "code": text_schema(
            "the sign-in code on the card: 8 of 23456789ABCDEFGHJKMNPQRSTUVWXYZ; case, "
            "spaces and dashes do not matter",
            maxLength=64,
        ),
    },
}


@api.route(
    "POST",
    "/api/v1/auth/student",
    summary="Sign in with the username and sign-in code a teacher gave you",
    tag="auth",
    request=_STUDENT_SIGN_IN,
    responses={
        200: ("signed in", _TOKENS),
        401: ("wrong username or code (invalid_credentials)", None),
        422: ("the code cannot be one (it names the letters codes never hold)", None),
        429: _LIMITED,
    },
)
async def student_sign_in(request: web.Request) -> web.Response:
    limits = request.app[SETTINGS].limits
    await ratelimit.limit(
        request.app,
        request.app[REDIS],
        "auth.student.ip",
        client_ip(request),
        limits.student_signin_per_ip_per_minute,
        per="ip",
    )
    f = Fields(await json_body(request), {"username", "code"})
    username = f.string("username", max_len=64)
    code = f.string("code", max_len=64)
    if code is not None and (p := codes.code_problem(code)):
        f.problem("code", p)
    f.done()
    assert username is not None and code is not None
    await _login_rate_limit(request, username)
    pg = request.app[PG]
    found = await class_store.student_for_sign_in(pg, username)
    ok = await verify_code(found.code_hash if found else None, codes.normalize(code))
    if found is None or not ok:
        raise Unauthorized("wrong username or code", code="invalid_credentials")
    await class_store.mark_signed_in(pg, found.user.id)
    await _audit(request, "student.sign_in", found.user.id, class_id=found.class_id)
    return await _issue(request, found.user)


@api.route(
    "POST",
    "/api/v1/auth/student/password",
    summary="A student sets a password of their own (when their class allows it); the "
    "sign-in code then stops working",
    tag="auth",
    auth=True,
    request={
        "type": "object",
        "required": ["password"],
        "additionalProperties": False,
        "properties": {"password": text_schema("the new password", maxLength=1024)},
    },
    responses={
        204: ("set; sign in with username and password from now on", None),
        403: (
            "not a student account (not_a_student), or the class does not allow it "
            "(passwords_not_allowed)",
            None,
        ),
        429: _LIMITED,
    },
)
async def student_password(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    f = Fields(await json_body(request), {"password"})
    password = f.string("password", max_len=1024)
    pg = request.app[PG]
    user = await store.user_by_id(pg, claims.user_id)
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_token")
    if password is not None and (p := password_problem(password, user.handle)):
        f.problem("password", p)
    f.done()
    assert password is not None
    klass = await class_store.managing_class(pg, user.id)
    if klass is None:
        raise Forbidden("only a class's student accounts set a password here", code="not_a_student")
    if not klass.students_may_set_password:
        raise Forbidden(
            "your class does not let students choose a password; ask your teacher",
            code="passwords_not_allowed",
        )
    limits = request.app[SETTINGS].limits
    await ratelimit.per_account(
        request, "auth.student.password", user.id, limits.auth_per_account_per_minute
    )
    digest = await hash_password(password)
    async with pg.acquire() as conn, conn.transaction():
        await class_store.set_own_password(conn, user.id, digest)
        await audit_user(conn, request, "student.set_password", user.id, user.id)
    return web.Response(status=204)

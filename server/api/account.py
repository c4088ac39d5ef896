"""Ending an account: ``DELETE /api/v1/auth/me`` (by its owner) and
``POST /api/v1/admin/users/{user_id}/disable`` (by an admin).

Both revoke every session of the account on every node (:func:`revoke_user`: its access
tokens answer 401 ``session_revoked``, its sockets close with 1008 ``session_revoked``)
and are written to the audit log.

- Deleting removes the user's personal data and keeps the other players' matches intact,
  the user's seats renamed to a pseudonym (what goes and what stays:
  :func:`server.accounts.store.delete_user`).  An account with a password must confirm it
  (a stolen access token alone cannot delete an account); a guest has none to give.
- Disabling keeps everything but the account cannot sign in, refresh or upgrade any more
  (the store's lookups skip disabled accounts).  An admin cannot disable their own account.
"""

from __future__ import annotations

import uuid

from aiohttp import web

from server.accounts import store
from server.accounts.passwords import verify_password
from server.api.audit import audit_user
from server.api.session import authenticate, revoke_user
from server.errors import Conflict, Forbidden, NotFound, Unauthorized
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.openapi import Api, Schema
from server.http.state import PG, REDIS, SETTINGS

api = Api()

_DELETE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "password": {
            "type": "string",
            "description": "the account's password (required unless the account is a guest)",
        }
    },
}
_DISABLE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": 500}},
}
_DISABLED: Schema = {
    "type": "object",
    "required": ["user_id", "disabled_at"],
    "properties": {
        "user_id": {"type": "string", "format": "uuid"},
        "disabled_at": {"type": "string", "format": "date-time"},
    },
}
_BAD = ("malformed body or fields", None)


@api.route(
    "DELETE",
    "/api/v1/auth/me",
    summary="Delete the signed-in account and its personal data",
    tag="auth",
    auth=True,
    request=_DELETE,
    responses={
        204: ("deleted; every session of the account is revoked", None),
        400: _BAD,
        401: ("not signed in, or the password does not match", None),
        403: ("a bot token", None),
        413: _BAD,
        415: _BAD,
        422: _BAD,
        429: ("rate limited; see Retry-After", None),
    },
)
async def delete_me(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    f = Fields(await json_body(request, optional=True), {"password"})
    password = f.string("password", required=False, max_len=1024)
    pg = request.app[PG]
    user = await store.user_by_id(pg, claims.user_id)
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_token")
    if user.password_hash is not None and password is None:
        f.problem("password", "is required to delete an account that has one")
    f.done()
    if user.password_hash is not None:
        limits = request.app[SETTINGS].limits
        await ratelimit.limit(
            request.app,
            request.app[REDIS],
            "auth.delete",
            user.id,
            limits.auth_per_account_per_minute,
        )
        if not await verify_password(user.password_hash, password or ""):
            raise Unauthorized("the password does not match", code="invalid_credentials")
    async with pg.acquire() as conn, conn.transaction():
        matches = await store.delete_user(conn, user.id)
        if matches is None:
            raise Unauthorized("this account no longer exists", code="invalid_token")
        await audit_user(conn, request, "user.delete", user.id, user.id, matches=matches)
        # Still inside the transaction: if Redis fails, nothing is deleted (and the
        # sessions may be revoked already: sign in again and retry).
        await revoke_user(request.app, user.id, "deleted")
    return web.Response(status=204)


@api.route(
    "POST",
    "/api/v1/admin/users/{user_id}/disable",
    summary="Disable an account: no sign-in, no refresh, every session revoked (admins)",
    tag="admin",
    auth=True,
    request=_DISABLE,
    responses={
        200: ("disabled (again: the first time is kept)", _DISABLED),
        400: _BAD,
        401: ("missing or bad access token", None),
        403: ("not an admin", None),
        404: ("no such account", None),
        409: ("an admin disabling their own account", None),
        413: _BAD,
        415: _BAD,
        422: _BAD,
    },
)
async def disable_user(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    if claims.role != "admin":
        raise Forbidden("only an admin may disable accounts")
    f = Fields(await json_body(request, optional=True), {"reason"})
    reason = f.string("reason", required=False, max_len=500)
    f.done()
    target = request.match_info["user_id"]
    try:
        target = str(uuid.UUID(target))
    except ValueError:
        raise NotFound(f"no account {target!r}", code="user_not_found") from None
    if target == claims.user_id:
        raise Conflict("an admin cannot disable their own account", code="cannot_disable_self")
    disabled = await store.disable_user(request.app[PG], target)
    if disabled is None:
        raise NotFound(f"no account {target!r}", code="user_not_found")
    await revoke_user(request.app, target, "disabled")
    await audit_user(
        request.app[PG], request, "user.disable", claims.user_id, target, reason=reason or ""
    )
    return web.json_response({"user_id": target, "disabled_at": disabled.isoformat()})

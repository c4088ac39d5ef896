"""Who is calling: the bearer access token checked, and the session not revoked."""

from __future__ import annotations

import time

from aiohttp import web

from server.accounts.tokens import AccessClaims, TokenError
from server.errors import Forbidden, Unauthorized
from server.http.state import REDIS, SIGNER


def revoked_key(session_id: str) -> str:
    return f"quill:revoked:sid:{session_id}"


async def authenticate(request: web.Request) -> AccessClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized(
            "send an access token: Authorization: Bearer <token>", code="missing_token"
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "the Authorization header must be 'Bearer <token>'", code="invalid_token"
        )
    claims = await claims_for(request.app, token.strip())
    if claims.role == "bot":  # bot tokens are minted by the bot pool for the game socket only
        raise Forbidden("bot tokens are only valid on the game socket", code="bot_token")
    return claims


async def claims_for(app: web.Application, token: str) -> AccessClaims:
    """Verify an access token (also used by the WebSocket handshake)."""
    try:
        claims = app[SIGNER].verify(token, time.time())
    except TokenError as exc:
        raise Unauthorized(str(exc), code=exc.code) from None
    if await app[REDIS].exists(revoked_key(claims.session_id)):
        raise Unauthorized("this session has been logged out", code="session_revoked")
    return claims

"""Who is calling: the bearer access token checked, and the session not revoked.

Revoking (logout, refresh-token reuse, account deletion or disabling) does two things in
Redis, in one round trip:

- a key the REST routes and the ``/ws`` handshake check on every request, living as long
  as an access token can: ``quill:revoked:sid:<sid>`` (one session) or
  ``quill:revoked:user:<user id>`` (every session of the account issued up to the epoch
  second it holds);
- a message on the pub/sub channel ``quill:revocations`` (:class:`Revocation`, JSON).
  Every node's :class:`~server.realtime.hub.Hub` listens and closes the matching live
  sockets with 1008 ``session_revoked``; after a lost subscription it re-checks every
  socket against the keys above, so a message missed during a Redis blip is caught too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from aiohttp import web
from redis.asyncio import Redis

from server.accounts.tokens import AccessClaims, TokenError
from server.errors import Forbidden, Unauthorized
from server.http.state import REDIS, SETTINGS, SIGNER

REVOCATIONS = "quill:revocations"
"""The pub/sub channel of revocations (every node subscribes)."""

REVOKED_CLOSE_REASON = "session_revoked"
"""The close reason of a socket whose session was revoked (with close code 1008)."""


def revoked_key(session_id: str) -> str:
    return f"quill:revoked:sid:{session_id}"


def revoked_user_key(user_id: str) -> str:
    return f"quill:revoked:user:{user_id}"


@dataclass(frozen=True, slots=True)
class Revocation:
    """One revocation as published: a session (``sid``) or every session of a ``user``."""

    reason: str
    session_id: str | None = None
    user_id: str | None = None

    def encode(self) -> bytes:
        return orjson.dumps({"sid": self.session_id, "user": self.user_id, "reason": self.reason})

    @classmethod
    def decode(cls, data: bytes | str) -> Revocation | None:
        """The revocation in a pub/sub message, or None when it is not one."""
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict):
            return None
        sid, user, reason = body.get("sid"), body.get("user"), body.get("reason")
        sid = sid if isinstance(sid, str) and sid else None
        user = user if isinstance(user, str) and user else None
        if sid is None and user is None:
            return None
        return cls(reason if isinstance(reason, str) else "", sid, user)


async def revoke_session(app: web.Application, session_id: str, reason: str) -> None:
    """End one session everywhere: its access tokens fail, its sockets close (1008)."""
    ttl = app[SETTINGS].server.access_token_seconds
    async with app[REDIS].pipeline(transaction=False) as pipe:
        pipe.set(revoked_key(session_id), reason, ex=ttl)
        pipe.publish(REVOCATIONS, Revocation(reason, session_id=session_id).encode())
        await pipe.execute()


async def revoke_user(app: web.Application, user_id: str, reason: str) -> None:
    """End every session of an account (deleted, disabled): as :func:`revoke_session`."""
    ttl = app[SETTINGS].server.access_token_seconds
    async with app[REDIS].pipeline(transaction=False) as pipe:
        pipe.set(revoked_user_key(user_id), int(time.time()), ex=ttl)
        pipe.publish(REVOCATIONS, Revocation(reason, user_id=user_id).encode())
        await pipe.execute()


async def revoked(redis: Redis, claims: AccessClaims) -> bool:
    """Whether the session of these claims was revoked (one round trip)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.exists(revoked_key(claims.session_id))
        pipe.get(revoked_user_key(claims.user_id))
        session_gone, user_since = await pipe.execute()
    return revocation_holds(session_gone, user_since, claims.issued_at)


def revocation_holds(session_gone: object, user_since: object, issued_at: int) -> bool:
    """Given what Redis holds for a session (``EXISTS`` of its key) and its account (the
    ``GET`` of the user key), whether a token issued at ``issued_at`` is revoked."""
    if session_gone:
        return True
    if user_since is None:
        return False
    try:
        return isinstance(user_since, bytes | str) and issued_at <= int(user_since)
    except ValueError:
        return True  # not written by revoke_user: err on the side of refusing


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
    if await revoked(app[REDIS], claims):
        raise Unauthorized("this session has been logged out or revoked", code="session_revoked")
    return claims

"""Access tokens (signed, short-lived, stateless) and refresh tokens (opaque, stored hashed).

An access token is ``v1.<payload>.<signature>``: the payload is base64url JSON with the
user id ``sub``, ``role``, ``guest``, the session (refresh family) ``sid``, ``iat`` and
``exp``; the signature is HMAC-SHA256 over ``v1.<payload>`` with the server secret.  A
refresh token is 32 random bytes (base64url); only its SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import orjson

from server.types import UserId

_PREFIX = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UserId
    role: str
    guest: bool
    session_id: str
    issued_at: int
    expires_at: int


class TokenError(Exception):
    """The token is malformed, forged or expired; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 bytes")
        self._secret = secret

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def issue(self, claims: AccessClaims) -> str:
        payload = {
            "sub": claims.user_id,
            "role": claims.role,
            "guest": claims.guest,
            "sid": claims.session_id,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        body = f"{_PREFIX}.{_b64(orjson.dumps(payload))}"
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: float) -> AccessClaims:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            raise TokenError("invalid_token", "the access token is malformed")
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(body), parts[2]):
            raise TokenError("invalid_token", "the access token signature does not match")
        try:
            p = orjson.loads(_unb64(parts[1]))
            claims = AccessClaims(
                user_id=UserId(str(p["sub"])),
                role=str(p["role"]),
                guest=bool(p["guest"]),
                session_id=str(p["sid"]),
                issued_at=int(p["iat"]),
                expires_at=int(p["exp"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("invalid_token", "the access token payload is malformed") from exc
        if now >= claims.expires_at:
            raise TokenError("token_expired", "the access token has expired; refresh it")
        return claims


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash to store."""
    token = _b64(secrets.token_bytes(32))
    return token, refresh_hash(token)


def refresh_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()

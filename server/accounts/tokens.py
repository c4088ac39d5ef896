"""Access tokens (JWT, signed, short-lived, stateless) and refresh tokens (opaque, hashed).

An access token is a JWT (RFC 7519, compact form) signed with HMAC-SHA256 (``HS256``):

- header ``{"alg": "HS256", "typ": "JWT", "kid": <key id>}``; the key id names the
  signing key (``k`` + the first 16 hex digits of the key's SHA-256), so every node and the
  bot pool derive the same id from the same secret and a verifier picks the key by it;
- claims, all required: ``sub`` (user id, or ``bot:<n>``), ``role``, ``guest`` (boolean),
  ``sid`` (the session: the refresh-token family), ``iat`` and ``exp`` (integer epoch
  seconds).  Expired means ``now >= exp``, with no leeway.

:meth:`TokenSigner.verify` is total: any ``str`` or ``bytes`` ends in claims or in
:class:`TokenError` with code ``invalid_token`` or ``token_expired``.  Only ``HS256`` is
accepted (``none`` and every other algorithm are refused), only with a known key id.  Key
rotation: a signer signs with its current key and also verifies with the ``previous`` keys
it was given (see ``server.accounts.store.previous_token_secrets``).

A refresh token is 32 random bytes (base64url); only its SHA-256 is stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from server.types import UserId

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "role", "guest", "sid", "iat", "exp")
MAX_TOKEN_CHARS = 4096  # ours are ~350; anything longer is not worth parsing
VERIFIED_TOKENS = 4096  # well-signed tokens whose claims a signer keeps (about 0.6 MB)
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_INVALID = "invalid_token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(secret: bytes) -> str:
    """The ``kid`` of a signing key: derived from the key, so every process agrees on it."""
    return "k" + hashlib.sha256(secret).hexdigest()[:16]


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


def _invalid(message: str) -> TokenError:
    return TokenError(_INVALID, message)


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise _invalid(f"the access token claim {name!r} must be a non-empty string")
    return value


def _integer(payload: Mapping[str, Any], name: str) -> int:
    value = payload[name]
    if type(value) is not int:  # not a float, not a bool
        raise _invalid(f"the access token claim {name!r} must be an integer")
    return value


class TokenSigner:
    """Signs access tokens with the current key; verifies them with it or a previous one."""

    def __init__(self, secret: bytes, previous: Iterable[bytes] = ()) -> None:
        keys = [secret, *previous]
        if any(len(k) < 32 for k in keys):
            raise ValueError("a token secret must be at least 32 bytes")
        self._secret = secret
        self.kid = key_id(secret)
        self._keys: dict[str, bytes] = {key_id(k): k for k in reversed(keys)}
        self._verified: dict[bytes, AccessClaims] = {}  # digest → claims, oldest first

    def issue(self, claims: AccessClaims) -> str:
        payload = {
            "sub": claims.user_id,
            "role": claims.role,
            "guest": claims.guest,
            "sid": claims.session_id,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str | bytes, now: float) -> AccessClaims:
        """The claims of a valid token at time ``now``; :class:`TokenError` otherwise.

        A token's signature is checked once: the claims of the last
        :data:`VERIFIED_TOKENS` tokens that passed are kept by the token's digest (PyJWT
        takes about 150 µs a token, and a client sends the same one with every request
        until it expires); expiry is checked against ``now`` every time."""
        text = _compact(token)
        digest = hashlib.blake2b(text.encode("ascii"), digest_size=16).digest()
        claims = self._verified.get(digest)
        if claims is None:
            claims = self._check(text)
            verified = self._verified
            verified[digest] = claims
            if len(verified) > VERIFIED_TOKENS:
                del verified[next(iter(verified))]  # the oldest
        if now >= claims.expires_at:
            raise TokenError("token_expired", "the access token has expired; refresh it")
        return claims

    def _check(self, text: str) -> AccessClaims:
        """The claims of a well-signed token (expiry not checked)."""
        try:
            kid = jwt.get_unverified_header(text).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise _invalid("the access token is signed with an unknown key")
            payload = jwt.decode(
                text,
                key,
                algorithms=[ALGORITHM],
                leeway=0,
                # exp is checked below against ``now`` (the caller's clock), not PyJWT's.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except TokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, binascii.Error) as exc:
            raise _invalid("the access token is malformed or its signature does not match") from (
                exc
            )
        return _claims(payload)


def _compact(token: object) -> str:
    """The token as ASCII text in the JWT compact form, or ``invalid_token``."""
    if isinstance(token, bytes | bytearray | memoryview):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise _invalid("the access token is malformed") from None
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise _invalid("the access token is malformed")
    if not token.isascii() or not _COMPACT.fullmatch(token):
        raise _invalid("the access token is malformed")
    return token


def _claims(payload: Any) -> AccessClaims:
    if not isinstance(payload, dict):
        raise _invalid("the access token payload is malformed")
    guest = payload["guest"]
    if not isinstance(guest, bool):
        raise _invalid("the access token claim 'guest' must be a boolean")
    return AccessClaims(
        user_id=UserId(_text(payload, "sub")),
        role=_text(payload, "role"),
        guest=guest,
        session_id=_text(payload, "sid"),
        issued_at=_integer(payload, "iat"),
        expires_at=_integer(payload, "exp"),
    )


def new_refresh_token() -> tuple[str, bytes]:
    """A fresh refresh token and the hash to store."""
    token = _b64(secrets.token_bytes(32))
    return token, refresh_hash(token)


def refresh_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()

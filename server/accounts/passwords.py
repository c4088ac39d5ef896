"""Password hashing with argon2id (``argon2-cffi``), run off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.text import text_problem

_hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
_DUMMY = _hasher.hash("a password nobody has")

MIN_LENGTH = 8
MAX_LENGTH = 128


def password_problem(password: str, handle: str | None = None) -> str | None:
    """Why a new password is not acceptable, or None.  Passwords follow the text rule
    like any text (a NUL or a lone surrogate could not be typed again, or be hashed)."""
    if problem := text_problem(password):
        return problem
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if not password.strip():
        return "must not be only spaces"
    if handle is not None and password.lower() == handle.lower():
        return "must not be the same as the handle"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False  # UnicodeEncodeError: a lone surrogate, which no stored password holds


async def verify_password(stored: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time and say no."""
    return await asyncio.to_thread(_verify, stored, password)

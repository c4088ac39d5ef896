"""Sign-in codes hashed with argon2id (``argon2-cffi``), off the event loop.

The parameters are lighter than a password's (:mod:`server.accounts.passwords`, the
library's defaults: 64 MiB, 3 passes, ~120 ms here): 19 MiB, 2 passes, one lane, the
OWASP minimum for argon2id (~25 ms).  A password is chosen by a person and may be weak,
so every guess must cost an offline attacker as much as possible; a sign-in code is 39.6
random bits (:mod:`server.classes.codes`), so even a stolen hash takes ~10¹¹ guesses of
25 ms, and a teacher importing a class of 60 waits 1.5 s, not 7.  The hash records its
parameters, so raising them later needs no migration: old hashes keep verifying.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("NOBODYS1")  # not a code: it holds a 1


def _hash(code: str) -> str:
    return _hasher.hash(code)


async def hash_code(code: str) -> str:
    """The stored form of a (canonical) code."""
    return await asyncio.to_thread(_hash, code)


async def hash_codes(codes: list[str]) -> list[str]:
    """Several at once, on the default thread pool (argon2 releases the GIL)."""
    return list(await asyncio.gather(*(hash_code(c) for c in codes)))


def _verify(stored: str | None, code: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, code) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_code(stored: str | None, code: str) -> bool:
    """Check a (canonical) code; with no stored hash, spend the same time and say no."""
    return await asyncio.to_thread(_verify, stored, code)

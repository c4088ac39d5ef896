"""Sign-in codes and class codes: easy to read aloud, copy from paper and type.

The alphabet has no ``0``/``O``, ``1``/``I``/``L`` (they look alike on paper and in
many fonts): 31 symbols, ``23456789ABCDEFGHJKMNPQRSTUVWXYZ``.  A student's sign-in code
is 8 of them (31⁸ ≈ 8.5·10¹¹, about 39.6 bits), printed in two groups (``K7MQ-XP4R``);
a class code is 6 (``K7M-QXP``).  Both are drawn with :mod:`secrets`.

What a person types is normalised before it is compared: case does not matter, spaces
and dashes are dropped.  A typed ``0``, ``O``, ``1``, ``I`` or ``L`` is not guessed at
(no code holds one): :func:`code_problem` says so, so a child who misread the card is
told what to look at instead of only "wrong code".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""The symbols of every code: digits and capitals without 0, O, 1, I and L."""
LOOK_ALIKES = frozenset("0O1IL")
SIGN_IN_LENGTH = 8
CLASS_LENGTH = 6
_IGNORED = str.maketrans("", "", " -\t")


def new_code(length: int = SIGN_IN_LENGTH, choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh code of ``length`` symbols, canonical form (no dash)."""
    return "".join(choice(ALPHABET) for _ in range(length))


def new_class_code() -> str:
    return new_code(CLASS_LENGTH)


def show(code: str) -> str:
    """The printed form: two groups joined by a dash (``K7MQ-XP4R``, ``K7M-QXP``)."""
    half = (len(code) + 1) // 2
    return f"{code[:half]}-{code[half:]}" if len(code) > 3 else code


def normalize(typed: str) -> str:
    """What was typed, upper-cased, without spaces and dashes (not yet checked)."""
    return typed.translate(_IGNORED).upper()


def code_problem(typed: str, length: int = SIGN_IN_LENGTH) -> str | None:
    """Why ``typed`` cannot be a code of ``length`` symbols, or None."""
    code = normalize(typed)
    misread = sorted(LOOK_ALIKES & set(code))
    if misread:
        return (
            f"codes never contain {', '.join(misread)}: they have no 0, O, 1, I or L "
            "(look again at the card: 2-9 and the other letters only)"
        )
    if any(c not in ALPHABET for c in code):
        return f"must be letters and digits from {ALPHABET} (dashes and spaces are ignored)"
    if len(code) != length:
        return f"must be {length} letters and digits (dashes and spaces are ignored)"
    return None


def parse(typed: str, length: int = SIGN_IN_LENGTH) -> str | None:
    """The canonical code, or None when ``typed`` cannot be one."""
    return None if code_problem(typed, length) else normalize(typed)

"""Paginated lists: the ``limit`` query parameter and opaque cursors.

A cursor is the sort key of the last item of a page (``next_cursor``), URL-safe base64 of
its parts joined by ``|``; a route turns the parts back into its own types with
:func:`decode_cursor`'s ``parse``.  A limit or cursor this server did not hand out is 422
``validation_failed``, naming the field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from server.http.body import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 50

T = TypeVar("T")


def page_limit(request: web.Request, default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ValidationFailed(
            f"limit must be an integer from 1 to {most}",
            details={"fields": {"limit": f"must be an integer from 1 to {most}"}},
        )
    return int(raw)


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parse: Callable[[list[str]], T]) -> T:
    """The cursor's parts through ``parse`` (which raises ValueError on a bad part)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return parse(raw.split("|"))
    except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor is not one this server handed out",
            details={"fields": {"cursor": "is not a valid cursor"}},
        ) from None

"""Reading JSON bodies and checking their fields, with precise errors."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from server.errors import ApiError, BadRequest


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"


async def json_body(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; 415/400 for a wrong type, bad JSON or a non-object."""
    if not request.body_exists:
        if optional:
            return {}
        raise BadRequest("this route needs a JSON object body", code="missing_body")
    if request.content_type != "application/json":
        raise ApiError(
            f"send the body as application/json, not {request.content_type or 'nothing'}",
            code="unsupported_media_type",
            status=415,
        )
    raw = await request.read()  # raises 413 past client_max_size
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_body")
    return data


class Fields:
    """Pull typed fields out of a body, collecting every problem before raising once."""

    def __init__(self, body: dict[str, Any], allowed: set[str]) -> None:
        self.body = body
        self.problems: dict[str, str] = {
            name: "is not a known field" for name in body if name not in allowed
        }

    def string(self, name: str, *, required: bool = True, max_len: int = 1000) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.problems[name] = "is required"
            return None
        if not isinstance(value, str):
            self.problems[name] = f"must be a string, not {type(value).__name__}"
            return None
        if len(value) > max_len:
            self.problems[name] = f"must be at most {max_len} characters"
            return None
        return value

    def problem(self, name: str, message: str) -> None:
        self.problems.setdefault(name, message)

    def done(self) -> None:
        if self.problems:
            first = next(iter(self.problems.items()))
            raise ValidationFailed(
                f"{first[0]} {first[1]}"
                + (f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""),
                details={"fields": self.problems},
            )

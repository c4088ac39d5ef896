"""The one error shape: ``{"error": {"code", "message", "details", "request_id"}}``."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from server.errors import ApiError, RateLimited

# aiohttp's own HTTP exceptions (raised by the router or body reader) → our codes.
_HTTP_CODES = {
    400: ("bad_request", "the request is malformed"),
    404: ("not_found", "no such route"),
    405: ("method_not_allowed", "this route does not accept that method"),
    413: ("payload_too_large", "the request body is larger than the limit"),
    415: ("unsupported_media_type", "send the body as application/json"),
}


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id,
        }
    }
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def from_api_error(exc: ApiError, request_id: str) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(exc.status, exc.code, exc.message, request_id, exc.details, headers)


def from_http_exception(exc: web.HTTPException, request_id: str, max_body: int) -> web.Response:
    code, message = _HTTP_CODES.get(exc.status, ("http_error", exc.reason))
    details: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if exc.status == 413:
        details["max_bytes"] = max_body
    if exc.status == 405 and isinstance(exc, web.HTTPMethodNotAllowed):
        details["allowed"] = sorted(exc.allowed_methods)
        headers["Allow"] = ", ".join(details["allowed"])
    return error_response(exc.status, code, message, request_id, details, headers)

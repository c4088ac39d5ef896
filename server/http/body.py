"""Reading JSON bodies and checking their fields, with precise errors.

Every string of a body — object keys and values at any depth — follows the one text
rule (:mod:`server.text`): a body that breaks it is refused whole with 422
``validation_failed`` naming where, before any handler sees it.  :meth:`Fields.string`
applies the rule again, so a field read from anywhere else gets it too.

A body must arrive within ``server.request_read_seconds`` of the handler asking for it
(408 ``request_timeout``, and the connection is closed); a client that goes away while
sending it raises :class:`ClientAborted`, which the pipeline counts and does not log as
an error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from server.errors import ApiError, BadRequest
from server.http.state import SETTINGS
from server.text import scrub, text_problem


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"


class RequestTimeout(ApiError):
    status = 408
    code = "request_timeout"


class ClientAborted(Exception):
    """The client closed the connection before its request body was complete."""


async def read_body(request: web.Request) -> bytes:
    """The whole body, within ``server.request_read_seconds``; 413 past the size limit."""
    seconds = request.app[SETTINGS].server.request_read_seconds
    if _gone(request):
        # Closed before the handler ran: aiohttp then never ends the body stream.
        raise ClientAborted("the connection closed before the body was read")
    try:
        async with asyncio.timeout(seconds):
            return await request.read()  # raises 413 past client_max_size
    except TimeoutError:
        if _gone(request):
            raise ClientAborted("the connection closed while the body was read") from None
        raise RequestTimeout(
            f"the request body did not arrive within {seconds:g} s",
            details={"read_seconds": seconds},
        ) from None
    except (ConnectionError, HttpProcessingError, web.RequestPayloadError) as exc:
        if _gone(request) or isinstance(exc, ConnectionError):
            raise ClientAborted(str(exc)) from None
        raise BadRequest(f"the body could not be read: {exc}", code="bad_body") from None


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _json_error(exc: orjson.JSONDecodeError) -> BadRequest:
    message = f"the body is not valid JSON: {exc}"
    if "surrogate" in exc.msg:
        message += (
            " (a \\ud800-\\udfff escape must be half of a surrogate pair; "
            "text may not hold lone surrogates)"
        )
    return BadRequest(
        message,
        code="invalid_json",
        details={"line": exc.lineno, "column": exc.colno, "position": exc.pos},
    )


async def json_body(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; 415/400 for a wrong type, bad JSON or a non-object,
    422 for text that breaks the text rule anywhere in it."""
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
    raw = await read_body(request)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _json_error(exc) from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_body")
    problems = text_problems(data)
    if problems:
        raise ValidationFailed(_summary(problems), details={"fields": problems})
    return data


def text_problems(data: dict[str, Any]) -> dict[str, str]:
    """Every string of ``data`` (keys included, at any depth) that breaks the text rule,
    by where it is: ``handle``, ``players[2]``, ``a.b``.  Iterative, so depth is free."""
    problems: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{scrub(key)}" if where else scrub(key)
                if p := text_problem(key):
                    problems.setdefault(path, f"has a name that {p}")
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, str) and (p := text_problem(value)):
            problems.setdefault(where, p)
    return problems


def _summary(problems: dict[str, str]) -> str:
    first = next(iter(problems.items()))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first[0]} {first[1]}{more}"


class Fields:
    """Pull typed fields out of a body, collecting every problem before raising once."""

    def __init__(self, body: dict[str, Any], allowed: set[str]) -> None:
        self.body = body
        self.problems: dict[str, str] = {
            scrub(name): "is not a known field" for name in body if name not in allowed
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
        if p := text_problem(value):
            self.problems[name] = p
            return None
        return value

    def problem(self, name: str, message: str) -> None:
        self.problems.setdefault(name, message)

    def done(self) -> None:
        if self.problems:
            raise ValidationFailed(_summary(self.problems), details={"fields": self.problems})

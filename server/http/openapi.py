"""Routes declared once with their documentation; the OpenAPI 3.1 document is built from them.

Every route of the app is added through an :class:`Api`, so ``GET /api/v1/openapi.json``
describes exactly the routes that exist (a test checks the router against the document,
and schemathesis checks every answer against it).  The statuses the shared pipeline can
give a route — :data:`API_STATUSES` (rate limit), :data:`BODY_STATUSES` (reading a
body), :data:`AUTH_STATUSES` / :data:`REST_AUTH_STATUSES` (the token) — are added to
each operation they apply to, so a route declares only its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Schema = dict[str, Any]

ERROR_SCHEMA: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
                "request_id": {"type": "string"},
            },
        }
    },
}


Response = tuple[str, Schema | None]

TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\ufdd0-\\ufdef\\ufffe\\uffff]*$"
"""The text rule (server/text.py) as far as a pattern can say it in both JSON Schema's
(ECMA 262) and Python's dialects: no controls but tab and newline, no BMP
non-characters.  Lone surrogates cannot be sent in JSON; the astral non-characters
(U+1FFFE…) are refused too but left out here."""


def text_schema(description: str, **constraints: Any) -> Schema:
    """A free-text string field under the text rule."""
    return {"type": "string", "pattern": TEXT_PATTERN, "description": description, **constraints}


BODY_STATUSES: dict[int, Response] = {
    400: ("the body is not JSON, not an object, or missing", None),
    408: ("the body did not arrive within server.request_read_seconds", None),
    413: ("the body is larger than limits.max_body_bytes", None),
    415: ("the body is not application/json", None),
    422: ("a field is missing, unknown or invalid; details.fields says which", None),
}
"""What reading a JSON body can answer (server/http/body.py)."""
AUTH_STATUSES: dict[int, Response] = {
    401: ("missing, malformed, expired or revoked access token", None),
}
"""What checking an access token can answer (server/api/session.py ``claims_for``)."""
REST_AUTH_STATUSES: dict[int, Response] = {
    **AUTH_STATUSES,
    403: ("this token may not be used here (bot tokens are for the game socket)", None),
}
"""What ``authenticate``, which every ``/api/`` route with ``auth`` uses, can answer."""
API_STATUSES: dict[int, Response] = {
    429: ("rate limited (limits.api_per_ip_per_minute); see Retry-After", None),
}
"""What every route under ``/api/`` can answer (the per-address limit)."""


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    request: Schema | None
    responses: dict[int, Response]
    auth: bool
    tag: str
    produces: str = "application/json"
    body_required: bool = True
    query: dict[str, Schema] = field(default_factory=dict)

    def all_responses(self) -> dict[int, Response]:
        """The route's own responses and those the pipeline adds (the route's own
        description wins where both name a status)."""
        merged: dict[int, Response] = {}
        rest = self.path.startswith("/api/")
        if rest:
            merged.update(API_STATUSES)
        if self.auth:
            merged.update(REST_AUTH_STATUSES if rest else AUTH_STATUSES)
        if self.request is not None:
            merged.update(BODY_STATUSES)
        merged.update(self.responses)
        return merged


@dataclass
class Api:
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: dict[int, Response],
        request: Schema | None = None,
        auth: bool = False,
        tag: str = "default",
        produces: str = "application/json",
        body_required: bool = True,
        query: dict[str, Schema] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a route.  ``request`` is the JSON body's schema (``body_required=False``
        when the body may be left out); ``produces`` is the media type of its successful
        answers that have a schema (errors are always the JSON error shape); ``query``
        the optional query parameters, by name, with their schemas (a route that reads
        one declares it here, so the document and schemathesis know it)."""

        def register(handler: Handler) -> Handler:
            op = Operation(
                method,
                path,
                handler,
                summary,
                request,
                responses,
                auth,
                tag,
                produces,
                body_required,
                dict(query or {}),
            )
            self.operations.append(op)
            return handler

        return register

    def add_to(self, app: web.Application) -> None:
        for op in self.operations:
            app.router.add_route(op.method, op.path, op.handler)

    def document(self, version: str) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            entry: dict[str, Any] = {
                "summary": op.summary,
                "operationId": op.handler.__name__,
                "tags": [op.tag],
                "responses": {},
            }
            params = [
                {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                for part in op.path.split("/")
                if part.startswith("{")
            ]
            params += [
                {"name": name, "in": "query", "required": False, "schema": schema}
                for name, schema in op.query.items()
            ]
            if params:
                entry["parameters"] = params
            if op.request is not None:
                entry["requestBody"] = {
                    "required": op.body_required,
                    "content": {"application/json": {"schema": op.request}},
                }
            if op.auth:
                entry["security"] = [{"bearer": []}]
            for status, (description, schema) in sorted(op.all_responses().items()):
                resp: dict[str, Any] = {"description": description}
                if schema is not None:
                    media = op.produces if status < 400 else "application/json"
                    resp["content"] = {media: {"schema": schema}}
                elif status >= 400:
                    ref = {"$ref": "#/components/schemas/Error"}
                    resp["content"] = {"application/json": {"schema": ref}}
                entry["responses"][str(status)] = resp
            paths.setdefault(op.path, {})[op.method.lower()] = entry
        return {
            "openapi": "3.1.0",
            "info": {"title": "Quill Arena", "version": version},
            "paths": paths,
            "components": {
                "schemas": {"Error": ERROR_SCHEMA},
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }

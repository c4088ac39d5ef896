"""Routes declared once with their documentation; the OpenAPI 3.1 document is built from them.

Every route of the app is added through an :class:`Api`, so ``GET /api/v1/openapi.json``
describes exactly the routes that exist (a test checks the router against the document).
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


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    request: Schema | None
    responses: dict[int, tuple[str, Schema | None]]
    auth: bool
    tag: str


@dataclass
class Api:
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: dict[int, tuple[str, Schema | None]],
        request: Schema | None = None,
        auth: bool = False,
        tag: str = "default",
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            op = Operation(method, path, handler, summary, request, responses, auth, tag)
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
            if params:
                entry["parameters"] = params
            if op.request is not None:
                entry["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": op.request}},
                }
            if op.auth:
                entry["security"] = [{"bearer": []}]
            for status, (description, schema) in sorted(op.responses.items()):
                resp: dict[str, Any] = {"description": description}
                if schema is not None:
                    resp["content"] = {"application/json": {"schema": schema}}
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

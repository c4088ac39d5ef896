"""A local fake of the Anthropic Messages API, good enough for the real ``anthropic`` SDK.

It serves ``POST /v1/messages`` on 127.0.0.1 (a free port) with aiohttp and answers every
request with one ``tool_use`` block for the tool named by ``tool_choice`` (or the first
tool).  The tool input comes from, in order: the behaviour's own ``input``, a responder
registered for that tool name (a callable given the request body), or a value generated
from the tool's ``input_schema`` that satisfies the schema.

Each request takes the next scripted behaviour (``fake.script(...)``) or, when the script
is empty, ``fake.default``:

- ``ok(input=None, usage=None)`` — a 200 with a tool_use block;
- ``slow(delay, then=ok())`` — wait ``delay`` seconds (cut short by ``close()``), then ``then``;
- ``rate_limited(retry_after="1")`` — 429 ``rate_limit_error`` with a ``retry-after`` header;
- ``server_error(status=500)`` — a 5xx ``api_error``;
- ``overloaded()`` — 529 ``overloaded_error``;
- ``status(code, error_type)`` — any other error status;
- ``malformed(kind)`` — a 200 whose tool input is broken: ``missing_field``, ``out_of_range``,
  ``wrong_type``, ``no_tool_use`` (only a text block), or ``bad_json`` (not JSON at all);
- ``drop()`` — close the connection without sending a response;
- ``hold(then=ok())`` — wait until ``fake.release()`` (or ``close()``), then ``then``.

``fake.in_flight`` counts requests being handled and ``fake.max_in_flight`` the most at once.

Every request is recorded (``fake.requests``) with its headers and JSON body, so a test can
inspect the system blocks, ``cache_control``, tools and the user message.

Usage::

    async with FakeAnthropic() as fake:
        client = anthropic.AsyncAnthropic(api_key="test", base_url=fake.base_url, max_retries=0)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

Json = dict[str, Any]
Responder = Callable[[Json], Json]
MalformedKind = Literal["missing_field", "out_of_range", "wrong_type", "no_tool_use", "bad_json"]

DEFAULT_USAGE: Json = {
    "input_tokens": 120,
    "output_tokens": 80,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 1500,
}


@dataclass(frozen=True)
class Behaviour:
    kind: str
    input: Json | None = None
    usage: Json | None = None
    delay: float = 0.0
    then: Behaviour | None = None
    status: int = 200
    error_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    malformed: MalformedKind | None = None


def ok(input: Json | None = None, usage: Json | None = None) -> Behaviour:
    return Behaviour("ok", input=input, usage=usage)


def slow(delay: float, then: Behaviour | None = None) -> Behaviour:
    return Behaviour("slow", delay=delay, then=then or ok())


def rate_limited(retry_after: str | None = "1", retry_after_ms: str | None = None) -> Behaviour:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return Behaviour("error", status=429, error_type="rate_limit_error", headers=headers)


def server_error(status: int = 500) -> Behaviour:
    return Behaviour("error", status=status, error_type="api_error")


def overloaded() -> Behaviour:
    return Behaviour("error", status=529, error_type="overloaded_error")


def status(code: int, error_type: str = "invalid_request_error") -> Behaviour:
    return Behaviour("error", status=code, error_type=error_type)


def malformed(kind: MalformedKind, input: Json | None = None) -> Behaviour:
    return Behaviour("malformed", malformed=kind, input=input)


def drop() -> Behaviour:
    return Behaviour("drop")


def hold(then: Behaviour | None = None) -> Behaviour:
    return Behaviour("hold", then=then or ok())


@dataclass(frozen=True)
class RecordedRequest:
    headers: Mapping[str, str]
    body: Json

    @property
    def system(self) -> list[Json]:
        system = self.body.get("system", [])
        if isinstance(system, str):
            return [{"type": "text", "text": system}]
        return list(system)

    @property
    def system_text(self) -> str:
        return "\n".join(str(block.get("text", "")) for block in self.system)

    @property
    def user_text(self) -> str:
        """All text of all user turns, joined."""
        parts: list[str] = []
        for message in self.body.get("messages", []):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            else:
                parts.extend(str(b.get("text", "")) for b in content if b.get("type") == "text")
        return "\n".join(parts)

    @property
    def tool_name(self) -> str:
        choice = self.body.get("tool_choice") or {}
        if choice.get("type") == "tool":
            return str(choice["name"])
        tools = self.body.get("tools") or []
        return str(tools[0]["name"]) if tools else ""

    @property
    def tool_schema(self) -> Json:
        for tool in self.body.get("tools") or []:
            if tool.get("name") == self.tool_name:
                return dict(tool.get("input_schema") or {})
        return {"type": "object", "properties": {}}


class FakeAnthropic:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Behaviour = ok()
        self.responders: dict[str, Responder] = {}
        self._script: deque[Behaviour] = deque()
        self._closing = asyncio.Event()
        self._released = asyncio.Event()
        self._arrival = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self.base_url = ""

    # -- scripting ---------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        self._script.extend(behaviours)

    def respond(self, tool_name: str, responder: Responder) -> None:
        """Build the tool input for ``tool_name`` from the request body."""
        self.responders[tool_name] = responder

    @property
    def pending(self) -> int:
        return len(self._script)

    async def wait_in_flight(self, count: int) -> None:
        """Return once ``count`` requests are being handled at the same time."""
        while self.in_flight < count:
            self._arrival.clear()
            await self._arrival.wait()

    def release(self) -> None:
        """Let every held request (and every later one) go on."""
        self._released.set()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing.set()
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAnthropic:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the endpoint --------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._arrival.set()
        try:
            return await self._handle(request)
        finally:
            self.in_flight -= 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: Json = await request.json()
        recorded = RecordedRequest(headers=dict(request.headers), body=body)
        self.requests.append(recorded)
        behaviour = self._script.popleft() if self._script else self.default
        while behaviour.kind in ("slow", "hold"):
            if behaviour.kind == "hold":
                await self._released.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), behaviour.delay)
            behaviour = behaviour.then or ok()
        if behaviour.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            # The socket is gone; aiohttp discards whatever the handler returns.
            return web.Response(status=500)
        if behaviour.kind == "error":
            return web.json_response(
                {
                    "type": "error",
                    "error": {"type": behaviour.error_type, "message": "fake failure"},
                },
                status=behaviour.status,
                headers={**behaviour.headers, "request-id": f"req_fake_{next(self._ids)}"},
            )
        return self._tool_reply(recorded, behaviour)

    def _tool_reply(self, recorded: RecordedRequest, behaviour: Behaviour) -> web.Response:
        name = recorded.tool_name
        schema = recorded.tool_schema
        if behaviour.input is not None:
            tool_input = copy.deepcopy(behaviour.input)
        elif name in self.responders:
            tool_input = self.responders[name](recorded.body)
        else:
            tool_input = generate(schema)
        content: list[Json]
        if behaviour.kind == "malformed":
            if behaviour.malformed == "bad_json":
                return web.Response(status=200, text="{not json", content_type="application/json")
            if behaviour.malformed == "no_tool_use":
                content = [{"type": "text", "text": "I would rather not use the tool."}]
                return self._message(recorded, content, "end_turn", behaviour)
            tool_input = break_input(tool_input, schema, behaviour.malformed or "missing_field")
        content = [
            {
                "type": "tool_use",
                "id": f"toolu_fake_{next(self._ids)}",
                "name": name,
                "input": tool_input,
            }
        ]
        return self._message(recorded, content, "tool_use", behaviour)

    def _message(
        self, recorded: RecordedRequest, content: list[Json], stop: str, behaviour: Behaviour
    ) -> web.Response:
        usage = dict(DEFAULT_USAGE)
        usage.update(behaviour.usage or {})
        return web.json_response(
            {
                "id": f"msg_fake_{next(self._ids)}",
                "type": "message",
                "role": "assistant",
                "model": recorded.body.get("model", "claude-fake"),
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage,
            },
            headers={"request-id": f"req_fake_{next(self._ids)}"},
        )


# -- values from a JSON schema -------------------------------------------------------------


def generate(schema: Json, name: str = "value") -> Any:
    """A value that satisfies ``schema`` (the subset of JSON Schema that tool schemas use)."""
    if "enum" in schema:
        return copy.deepcopy(schema["enum"][0])
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: Json = schema.get("properties") or {}
        return {key: generate(sub, key) for key, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        return [generate(schema.get("items") or {"type": "string"}, name) for _ in range(count)]
    if kind == "integer":
        lo = int(schema.get("minimum", 0))
        hi = int(schema.get("maximum", lo + 3))
        return (lo + hi) // 2
    if kind == "number":
        lo_f = float(schema.get("minimum", 0.0))
        hi_f = float(schema.get("maximum", lo_f + 1.0))
        return round((lo_f + hi_f) / 2, 2)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = f"A generated {name.replace('_', ' ')} for the test."
    lo_len = int(schema.get("minLength", 0))
    if len(text) < lo_len:
        text = text + "x" * (lo_len - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def break_input(value: Json, schema: Json, kind: MalformedKind) -> Json:
    """Spoil a valid tool input the way ``kind`` says (deep copy; the original is untouched)."""
    broken = copy.deepcopy(value)
    if kind == "missing_field":
        required = list(schema.get("required") or list(value))
        if required:
            broken.pop(required[0], None)
        return broken
    path = _find_numeric(schema)
    if path is None:
        # No number anywhere: make the first required field the wrong type instead.
        required = list(schema.get("required") or list(value))
        if required:
            broken[required[0]] = 12345
        return broken
    keys, sub = path
    target: Any = broken
    for key in keys[:-1]:
        target = target[key]
    if kind == "out_of_range":
        target[keys[-1]] = (sub.get("maximum", 5) or 0) + 10
    else:
        target[keys[-1]] = "six"
    return broken


def _find_numeric(
    schema: Json, prefix: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], Json] | None:
    for key, sub in (schema.get("properties") or {}).items():
        if sub.get("type") in ("integer", "number"):
            return (*prefix, key), sub
        if sub.get("type") == "object":
            found = _find_numeric(sub, (*prefix, key))
            if found is not None:
                return found
    return None

"""Any text, any value and any bytes in every REST route: a 4xx in the one error shape
(or a 2xx where it happens to be valid), never a 5xx.

The routes come from the route table (``server.app.APIS``), so a new route is fuzzed as
soon as it exists: every top-level field of its request schema and every path parameter
gets arbitrary Unicode (U+0000, C0/C1 controls, lone surrogates — escaped in the JSON as
a JavaScript client would write them —, non-characters, very long strings) or arbitrary
JSON values; unknown fields come along; the caller has no token, a made-up one, or a
valid one of a new guest or admin.  Raw bytes go to every route with assorted content
types.  One node serves the whole module from its own loop (``threaded_node``);
hypothesis runs in the test's thread with a blocking HTTP client.

Path parameters stay under 300 characters: a request line over 8 KiB is refused by
aiohttp's parser with a plain-text 400 before the application sees it (logged as a
warning, see server/http/protocol.py), which is not the error shape this test checks.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import APIS
from server.config import Settings
from server.http.openapi import Operation
from tests.conftest import UNTHROTTLED, ThreadedNode

OPERATIONS = sorted(
    (op for api in APIS for op in api.operations if op.path.startswith("/api/")),
    key=lambda op: (op.path, op.method),
)
WITH_BODY = [op for op in OPERATIONS if op.request is not None]
EXAMPLES = 800

ODD = [
    "\x00", "\t", "\n", "\r", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\xa0", "\u0301",
    "\u200b", "\u202e", "\u2028", "\ufeff", "\ufdd0", "\ufffd", "\ufffe", "\uffff",
    "\U0001f600", "\U0001fffe", "\U0010ffff", "\ud800", "\udbff", "\udc00", "\udfff",
    "/", "%", "?", "#", "..", '"', "\\",
]  # fmt: skip
chars = st.one_of(
    st.characters(),  # every category but surrogates
    st.characters(max_codepoint=0x9F),  # ASCII and the C0/C1 controls
    st.sampled_from(ODD),  # lone surrogates among them: invalid JSON, rarely
)
texts = st.one_of(
    st.lists(chars, max_size=40).map("".join),
    st.text(max_size=40),  # mostly storable: the request gets further
    st.text(st.characters(max_codepoint=0x7F), max_size=40),
    st.builds(  # very long: past every field limit, now and then past the body limit
        lambda c, n: c * n,
        st.lists(chars, min_size=1, max_size=3).map("".join),
        st.one_of(st.integers(1, 3000), st.integers(1, 30_000)),
    ),
)
values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)
TOKENS = ("none", "made-up", "guest", "admin")
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
)


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(limits=UNTHROTTLED)


@dataclass(frozen=True)
class Request:
    op: Operation
    path: str
    token: str
    content_type: str
    body: bytes | None


@st.composite
def paths(draw: st.DrawFn, op: Operation) -> str:
    """``op.path`` with each ``{parameter}`` filled with arbitrary text (URL-quoted)."""
    parts = []
    for part in op.path.split("/"):
        if part.startswith("{"):
            text = draw(st.lists(chars, max_size=300).map("".join))
            part = quote(text.encode("utf-8", "surrogatepass"), safe="")
        parts.append(part)
    return "/".join(parts)


def encoded(body: Any) -> bytes:
    """JSON as a sloppy client writes it: lone surrogates as ``\\udxxx`` escapes."""
    return json.dumps(body, ensure_ascii=True).encode()


@st.composite
def field_requests(draw: st.DrawFn) -> Request:
    op = draw(st.sampled_from(WITH_BODY))
    assert op.request is not None
    fields = sorted(op.request.get("properties", {}))
    body: dict[str, Any] = {}
    for name in fields:
        if draw(st.integers(0, 5)) == 0:
            continue  # left out
        body[name] = draw(st.one_of(texts, texts, values))
    body.update(draw(st.dictionaries(texts, values, max_size=2)))  # unknown fields
    content_type = draw(st.sampled_from(CONTENT_TYPES[:2])) if draw(st.integers(0, 9)) else ""
    return Request(op, draw(paths(op)), draw(st.sampled_from(TOKENS)), content_type, encoded(body))


@st.composite
def raw_requests(draw: st.DrawFn) -> Request:
    op = draw(st.sampled_from(OPERATIONS))
    body = draw(
        st.one_of(
            st.binary(max_size=200),
            values.map(encoded),  # JSON, but maybe not an object
            st.binary(max_size=30).map(lambda b: b'{"a": "' + b + b'"}'),  # bad UTF-8 inside
        )
    )
    return Request(
        op,
        draw(paths(op)),
        draw(st.sampled_from(TOKENS)),
        draw(st.sampled_from(CONTENT_TYPES)),
        body,
    )


def token_for(node: ThreadedNode, kind: str) -> str | None:
    if kind == "none":
        return None
    if kind == "made-up":
        return "v1.eyJzdWIiOiJ4In0.AAAA"
    if kind == "guest":
        return node.token(node.user(guest=True), guest=True)
    return node.token(node.user("admin"), "admin")


def send(node: ThreadedNode, req: Request) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(node.url)
    headers = {}
    if req.content_type:
        headers["Content-Type"] = req.content_type
    token = token_for(node, req.token)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.request(req.op.method, req.path, body=req.body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def check(node: ThreadedNode, req: Request) -> None:
    status, headers, body = send(node, req)
    where = f"{req.op.method} {req.path} ({req.token}, {req.content_type!r})"
    assert status < 500, f"{where}: {status} {body[:500]!r}"
    assert headers.get("x-content-type-options") == "nosniff", where
    if status >= 400:
        assert headers.get("content-type", "").startswith("application/json"), where
        error = orjson.loads(body)["error"]
        assert set(error) == {"code", "message", "details", "request_id"}, where
        assert isinstance(error["code"], str) and error["message"], where
        assert error["request_id"] == headers["x-request-id"], where


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_the_route_table_is_what_is_fuzzed() -> None:
    assert {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/admin/matches")} <= {
        (op.method, op.path) for op in WITH_BODY
    }


def test_any_text_or_value_in_any_field(threaded_node: ThreadedNode) -> None:
    @FUZZ
    @given(req=field_requests())
    def run(req: Request) -> None:
        check(threaded_node, req)

    run()


def test_any_bytes_as_any_body(threaded_node: ThreadedNode) -> None:
    @FUZZ
    @given(req=raw_requests())
    def run(req: Request) -> None:
        check(threaded_node, req)

    run()

"""Health, readiness, metrics, the OpenAPI document and the error shape for routing errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema_rs  # comes with schemathesis (dev extras)
import orjson
import pytest
import structlog

from server.app import openapi_document
from server.config import Settings
from server.embedded import EmbeddedRedis
from server.http.state import REDIS
from tests.conftest import Node, limited_node, start_node
from tests.realtime.client import WAIT
from tests.realtime.helpers import eventually


async def test_health(node: Node) -> None:
    resp = await node.get("/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["version"] and body["node_id"]


async def test_ready_when_both_answer(node: Node) -> None:
    resp = await node.get("/ready")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}


async def test_ready_and_routes_are_503_when_redis_goes_away(
    settings: Settings, database: str, tmp_path: Path
) -> None:
    redis = EmbeddedRedis(tmp_path / "redis", durable=False)
    url = redis.start()
    runner, node = await start_node(settings, database, url)
    try:
        assert (await node.get("/ready")).status == 200
        redis.stop()
        resp = await node.get("/ready")
        assert resp.status == 503
        body = await resp.json()
        assert body["error"]["code"] == "not_ready"
        assert body["error"]["details"]["postgres"] == "ok"
        assert body["error"]["details"]["redis"] != "ok"
        # A route that needs Redis (its rate limit) says so: 503, try again; never 500.
        resp = await node.post("/api/v1/auth/guest", json={})
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        assert (await resp.json())["error"]["code"] == "unavailable"
    finally:
        redis.stop()
        await node.http.close()
        await runner.cleanup()


async def test_metrics_count_requests_by_route_and_status(node: Node) -> None:
    await node.get("/health")
    await node.get("/no/such/thing")
    resp = await node.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    assert 'quill_http_requests_total{route="/health",method="GET",status="200"} 1' in text
    assert 'quill_http_requests_total{route="unmatched",method="GET",status="404"} 1' in text
    assert 'quill_http_request_seconds_bucket{route="/health",method="GET",le="+Inf"} 1' in text
    assert "# TYPE quill_http_request_seconds histogram" in text


async def test_openapi_describes_every_route(node: Node) -> None:
    resp = await node.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {
        (r.resource.canonical, r.method)
        for r in node.app.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }
    assert routed == documented
    assert doc["paths"]["/api/v1/auth/register"]["post"]["responses"]["201"]
    assert "bearer" in doc["components"]["securitySchemes"]


async def test_routing_errors_use_the_error_shape(node: Node) -> None:
    resp = await node.get("/api/v1/nothing-here")
    body = await resp.json()
    assert resp.status == 404 and body["error"]["code"] == "not_found"
    resp = await node.http.delete(node.url + "/api/v1/auth/login")
    body = await resp.json()
    assert resp.status == 405 and body["error"]["code"] == "method_not_allowed"
    assert body["error"]["details"]["allowed"] == ["POST"]


async def test_request_id_is_echoed_or_made(node: Node) -> None:
    resp = await node.get("/health", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    resp = await node.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert len(resp.headers["X-Request-ID"]) == 32


async def test_api_rate_limit_per_ip(settings: Settings, database: str, redis_url: str) -> None:
    async with limited_node(settings, database, redis_url, api_per_ip_per_minute=2) as node:
        statuses = [(await node.get("/api/v1/openapi.json")).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        # Health and metrics are not API routes and are never limited.
        assert (await node.get("/health")).status == 200


async def test_api_rate_limit_per_account(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with limited_node(settings, database, redis_url, api_per_account_per_minute=3) as node:
        tokens = [await (await node.post("/api/v1/auth/guest", {})).json() for _ in range(2)]
        first, second = ({"Authorization": f"Bearer {t['access_token']}"} for t in tokens)
        statuses = [(await node.get("/api/v1/auth/me", headers=first)).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await node.get("/api/v1/auth/me", headers=first)
        body = await limited.json()
        assert body["error"]["code"] == "rate_limited"
        assert body["error"]["details"]["bucket"] == "api.account"
        assert int(limited.headers["Retry-After"]) >= 1
        # Another account from the same address has its own allowance, and a request
        # without a token (or with a bad one) counts for the address only.
        assert (await node.get("/api/v1/auth/me", headers=second)).status == 200
        assert (await node.get("/api/v1/openapi.json")).status == 200
        bad = {"Authorization": "Bearer not-a-token"}
        assert (await node.get("/api/v1/auth/me", headers=bad)).status == 401


# --- Headers every answer carries ------------------------------------------------------


async def test_every_answer_has_nosniff_and_no_server_version(node: Node) -> None:
    for resp in (
        await node.get("/health"),
        await node.get("/no/such/thing"),
        await node.get("/metrics"),
        await node.post("/api/v1/auth/login", {"handle": "nobody", "password": "x" * 10}),
    ):
        assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.url
        server = resp.headers.get("Server", "")
        assert "aiohttp" not in server and "Python" not in server, server
        assert not any(ch.isdigit() for ch in server), server


async def test_api_answers_are_not_stored_by_caches(node: Node) -> None:
    ok = await node.post("/api/v1/auth/guest")
    refused = await node.post("/api/v1/auth/login", {"handle": "nobody", "password": "x" * 10})
    assert ok.status == 201 and refused.status == 401
    for resp in (ok, refused):
        assert resp.headers["Cache-Control"] == "no-store"


async def test_method_not_allowed_says_what_is(node: Node) -> None:
    resp = await node.http.delete(node.url + "/api/v1/auth/login")
    assert resp.status == 405
    assert resp.headers["Allow"] == "POST"


# --- Metrics only for the operator's addresses ----------------------------------------


async def test_metrics_are_refused_outside_metrics_allow(
    settings: Settings, database: str, redis_url: str
) -> None:
    runner, node = await start_node(
        settings.replace(server={"metrics_allow": "10.0.0.0/8", "trust_forwarded_for": True}),
        database,
        redis_url,
    )
    try:
        resp = await node.get("/metrics")  # from 127.0.0.1, not in 10.0.0.0/8
        body = await resp.json()
        assert resp.status == 403 and body["error"]["code"] == "metrics_forbidden"
        assert set(body["error"]) == {"code", "message", "details", "request_id"}
        resp = await node.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
        assert resp.status == 200 and "quill_http_requests_total" in await resp.text()
        resp = await node.get("/metrics", headers={"X-Forwarded-For": "not-an-address"})
        assert resp.status == 403
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_metrics_behind_a_proxy_use_the_forwarded_address(
    settings: Settings, database: str, redis_url: str
) -> None:
    """Behind a trusted proxy every request comes from the proxy's (loopback) address:
    the client's own address decides, or the whole internet could read the metrics."""
    runner, node = await start_node(
        settings.replace(server={"trust_forwarded_for": True}), database, redis_url
    )
    try:
        resp = await node.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert resp.status == 403
        assert (await node.get("/metrics")).status == 200
    finally:
        await node.http.close()
        await runner.cleanup()


# --- Slow and vanishing clients -------------------------------------------------------


async def _raw(node: Node, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(node.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(data)
    await writer.drain()
    return reader, writer


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (bounded by WAIT)."""
    async with asyncio.timeout(WAIT):
        return await reader.read()


@pytest.fixture
async def slow_node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    runner, node = await start_node(
        settings.replace(server={"request_read_seconds": 0.5}), database, redis_url
    )
    try:
        yield node
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_headers_that_never_end_are_cut_off(slow_node: Node) -> None:
    reader, writer = await _raw(slow_node, b"GET /health HTTP/1.1\r\nHost: quill\r\nX-Slow: ")
    try:
        assert await _until_closed(reader) == b""
    finally:
        writer.close()


async def test_a_body_that_never_arrives_is_a_408(slow_node: Node) -> None:
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: quill\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    reader, writer = await _raw(slow_node, head + b'{"handle": ')
    try:
        answer = await _until_closed(reader)
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer
    body = orjson.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "request_timeout"
    assert b"connection: close" in rest.lower()


async def test_a_client_that_drops_mid_body_is_an_abort_not_a_server_error(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: quill\r\n"
        b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            _, writer = await _raw(node, head + b'{"handle": "alice", "pass')
            writer.close()
            await writer.wait_closed()

        async def counted() -> bool:
            text = await (await node.get("/metrics")).text()
            return f"{aborts} 3" in text

        aborts = 'quill_http_client_aborts_total{route="/api/v1/auth/register",method="POST"}'
        await eventually(counted, "the three aborts are counted")
    text = await (await node.get("/metrics")).text()
    assert 'status="500"' not in text
    assert not [e for e in logs if e.get("log_level") in ("error", "critical")], logs
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records


async def test_a_client_that_drops_while_its_body_is_read(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """As above, but the handler is already waiting for the body when the client goes."""
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: quill\r\n"
        b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    redis = node.app[REDIS]

    async def login_counted() -> bool:  # the handler counts the attempt, then reads the body
        return bool(await redis.keys("quill:rl:auth.ip:*"))

    with structlog.testing.capture_logs() as logs:
        _, writer = await _raw(node, head + b'{"handle": "alice", "pass')
        await eventually(login_counted, "the login handler runs")
        writer.close()
        await writer.wait_closed()

        async def counted() -> bool:
            text = await (await node.get("/metrics")).text()
            return (
                'quill_http_client_aborts_total{route="/api/v1/auth/login",method="POST"} 1' in text
            )

        await eventually(counted, "the abort is counted")
    assert 'status="500"' not in await (await node.get("/metrics")).text()
    assert not [e for e in logs if e.get("log_level") in ("error", "critical")], logs
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records


async def test_a_request_that_breaks_http_is_a_400_and_a_warning(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's parser answers it before the app sees it; the client's mistake is not
    logged as a server error with a traceback."""
    reader, writer = await _raw(node, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: q\r\n\r\n")
    try:
        answer = await _until_closed(reader)
    finally:
        writer.close()
    assert answer.split(b" ")[1] == b"400", answer[:100]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records
    assert [
        r for r in caplog.records if r.levelno == logging.WARNING and r.name == "aiohttp.server"
    ]


def test_the_document_lists_what_the_pipeline_answers() -> None:
    """Statuses every route can get from the shared pipeline are in the document, and
    every error answer is described by the error schema (checked live by schemathesis)."""
    doc = openapi_document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            listed = set(op["responses"])
            if path.startswith("/api/"):
                assert "429" in listed, (method, path)
            if "requestBody" in op:
                assert {"400", "408", "413", "415", "422"} <= listed, (method, path)
            if "security" in op:
                assert "401" in listed, (method, path)
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    schema = resp["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
    metrics = doc["paths"]["/metrics"]["get"]["responses"]
    assert "text/plain" in metrics["200"]["content"] and "403" in metrics


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"handle": "12345", "password": "correct horse"}, False),  # no letter to show
        ({"handle": "12345", "password": "correct horse", "display_name": "Zoë Ng"}, True),
        ({"handle": "alice", "password": "correct horse"}, True),
        ({"handle": "alice", "password": "correct horse", "display_name": "1234"}, False),
        ({"handle": "alice", "password": "pass\u0000word!"}, False),
        ({"handle": "alice", "password": "correct horse", "extra": 1}, False),
    ],
)
def test_the_register_schema_refuses_what_the_server_refuses(
    body: dict[str, object], valid: bool
) -> None:
    register = openapi_document()["paths"]["/api/v1/auth/register"]["post"]
    schema = register["requestBody"]["content"]["application/json"]["schema"]
    assert jsonschema_rs.validator_for(schema).is_valid(body) is valid

"""Health, readiness, metrics, the OpenAPI document and the error shape for routing errors."""

from __future__ import annotations

from pathlib import Path

from server.config import Settings
from server.embedded import EmbeddedRedis
from tests.conftest import Node, start_node


async def test_health(node: Node) -> None:
    resp = await node.get("/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["version"] and body["node_id"]


async def test_ready_when_both_answer(node: Node) -> None:
    resp = await node.get("/ready")
    assert resp.status == 200
    assert await resp.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}


async def test_ready_is_503_when_redis_goes_away(
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
    runner, node = await start_node(
        settings.replace(limits={"api_per_ip_per_minute": 2}), database, redis_url
    )
    try:
        statuses = [(await node.get("/api/v1/openapi.json")).status for _ in range(3)]
        assert statuses == [200, 200, 429]
        # Health and metrics are not API routes and are never limited.
        assert (await node.get("/health")).status == 200
    finally:
        await node.http.close()
        await runner.cleanup()

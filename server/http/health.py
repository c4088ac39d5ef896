"""Liveness, readiness and metrics routes.

``/metrics`` tells load and error rates, so it is served only to client addresses in
``server.metrics_allow`` (loopback by default; behind a trusted proxy, the forwarded
client address decides); anyone else gets 403 ``metrics_forbidden``.  403 rather than
404: the route is in the public OpenAPI document anyway, and an operator whose scraper
is refused should be told why.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import time

from aiohttp import web

from server.config import parse_networks
from server.errors import Forbidden
from server.http.errors import error_response
from server.http.middleware import client_ip, request_id
from server.http.openapi import Api, Schema
from server.http.state import METRICS, NODE, PG, REDIS, SETTINGS

api = Api()
_HEALTH: Schema = {
    "type": "object",
    "required": ["status", "node_id", "version", "uptime_s"],
    "properties": {
        "status": {"const": "ok"},
        "node_id": {"type": "string"},
        "version": {"type": "string"},
        "uptime_s": {"type": "number"},
    },
}
_READY: Schema = {
    "type": "object",
    "required": ["status", "postgres", "redis"],
    "properties": {
        "status": {"const": "ready"},
        "postgres": {"const": "ok"},
        "redis": {"const": "ok"},
    },
}


@api.route(
    "GET",
    "/health",
    summary="Liveness: the process answers",
    tag="ops",
    responses={200: ("alive", _HEALTH)},
)
async def health(request: web.Request) -> web.Response:
    node = request.app[NODE]
    return web.json_response(
        {
            "status": "ok",
            "node_id": node.node_id,
            "version": node.version,
            "uptime_s": round(time.time() - node.started_at, 3),
        }
    )


async def _probe(check: asyncio.Future[object] | asyncio.Task[object]) -> str:
    try:
        await asyncio.wait_for(check, timeout=2.0)
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@api.route(
    "GET",
    "/ready",
    summary="Readiness: PostgreSQL and Redis answer",
    tag="ops",
    responses={
        200: ("ready", _READY),
        503: ("a dependency does not answer; details name which", None),
    },
)
async def ready(request: web.Request) -> web.Response:
    pg = request.app[PG]
    redis = request.app[REDIS]
    results = {
        "postgres": await _probe(asyncio.ensure_future(pg.fetchval("SELECT 1"))),
        "redis": await _probe(asyncio.ensure_future(redis.ping())),
    }
    if all(v == "ok" for v in results.values()):
        return web.json_response({"status": "ready", **results})
    return error_response(
        503, "not_ready", "a dependency does not answer", request_id(request), results
    )


@api.route(
    "GET",
    "/metrics",
    summary="Prometheus metrics (text format)",
    tag="ops",
    responses={
        200: ("metrics in Prometheus text format", {"type": "string"}),
        403: ("the client address is not in server.metrics_allow", None),
    },
    produces="text/plain",
)
async def metrics(request: web.Request) -> web.Response:
    if not _may_read_metrics(request):
        raise Forbidden(
            "metrics are served only to the addresses in server.metrics_allow",
            code="metrics_forbidden",
        )
    return web.Response(
        text=request.app[METRICS].render(),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Prometheus-Format": "0.0.4"},
    )


@functools.lru_cache(maxsize=4)
def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return parse_networks("server.metrics_allow", value)


def _may_read_metrics(request: web.Request) -> bool:
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:  # "unknown", or a forwarded header that is no address
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    allowed = _networks(request.app[SETTINGS].server.metrics_allow)
    return any(address in net for net in allowed)

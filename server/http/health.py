"""Liveness, readiness and metrics routes."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from server.http.errors import error_response
from server.http.middleware import request_id
from server.http.openapi import Api
from server.http.state import METRICS, NODE, PG, REDIS

api = Api()
_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}


@api.route(
    "GET",
    "/health",
    summary="Liveness: the process answers",
    tag="ops",
    responses={200: ("alive", _STATUS)},
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
    responses={200: ("ready", _STATUS), 503: ("a dependency does not answer", None)},
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
    responses={200: ("metrics in Prometheus text format", None)},
)
async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[METRICS].render(),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Prometheus-Format": "0.0.4"},
    )

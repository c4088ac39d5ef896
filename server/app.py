"""The server node's aiohttp application: state, pools, routes.

``create_app`` only builds; the pools open in ``cleanup_ctx`` when the app starts and close
in reverse order when it stops.  In order: PostgreSQL (refuses to start on a schema that
is behind the migration files), Redis (a pool that waits for a free connection,
``storage.redis_pool_max``), the AI engines (the offline ones in a warmed process pool,
``ai.offline_workers``), re-scoring, the realtime hub, and last the garbage-collector
tuning (:mod:`server.gctune`: freezes the heap once all of the above is loaded).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web
from redis.asyncio import Redis

from server import __version__, gctune, migrate, webapp
from server.accounts.store import previous_token_secrets, token_secret
from server.accounts.tokens import TokenSigner
from server.ai.build import aclose_engines, build_engines, uses_claude
from server.ai.content import load_prompts
from server.api import (
    account,
    auth,
    classes,
    images,
    leaderboards,
    live,
    lobbies,
    lobby_results,
    me,
    pods,
)
from server.api import export as export_api
from server.api import goals as goals_api
from server.api import notifications as notifications_api
from server.api import portfolio as portfolio_api
from server.api import practice as practice_api
from server.api import progress as progress_api
from server.api import prompts as prompts_api
from server.api import replays as replays_api
from server.api import reports as reports_api
from server.api import tutor as tutor_api
from server.config import Settings
from server.http import health, protocol, ratelimit
from server.http.middleware import OWN_BODY_LIMIT, limits, observe, response_headers
from server.http.openapi import Api
from server.http.state import (
    ENDPOINTS,
    ENGINES,
    METRICS,
    NODE,
    PG,
    REDIS,
    SETTINGS,
    SIGNER,
    Endpoints,
    NodeInfo,
)
from server.metrics import Registry
from server.pods.scheduler import scheduler_context as pod_scheduler_context
from server.realtime import admin as realtime_admin
from server.realtime import gateway as realtime_gateway
from server.realtime.aipool import OfflinePool
from server.realtime.lifecycle import (
    OFFLINE,
    realtime_context,
)
from server.realtime.lifecycle import on_shutdown as realtime_shutdown
from server.storage.redispool import redis_pool
from server.storage.rescore import rescore_forever
from server.types import NodeId

log = structlog.get_logger("quill.app")

docs = Api()
APIS: list[Api] = [
    health.api,
    auth.api,
    account.api,
    me.api,
    classes.api,
    lobbies.api,
    images.api,
    lobby_results.api,
    prompts_api.api,
    replays_api.api,
    live.api,
    pods.api,
    practice_api.api,
    tutor_api.api,
    leaderboards.api,
    progress_api.api,
    goals_api.api,
    notifications_api.api,
    portfolio_api.api,
    export_api.api,
    reports_api.api,
    docs,
    realtime_gateway.api,
    realtime_admin.api,
    webapp.api,  # the browser client: pages, static files, prompt images
]


@docs.route(
    "GET",
    "/api/v1/openapi.json",
    summary="This OpenAPI document",
    tag="ops",
    responses={200: ("OpenAPI 3.1 document", {"type": "object"})},
)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def openapi_document() -> dict[str, object]:
    merged = Api([op for api in APIS for op in api.operations])
    document = merged.document(__version__)
    images.describe(document)  # the upload's body is an image file, not JSON
    replays_api.describe(document)  # the replay is JSON or MessagePack
    portfolio_api.describe(document)  # the portfolio export is JSON or HTML
    return document


async def _postgres(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS].storage
    pool = await asyncpg.create_pool(
        app[ENDPOINTS].database_url, min_size=s.pg_pool_min, max_size=s.pg_pool_max
    )
    try:
        async with pool.acquire() as conn:
            await migrate.check(conn)
        app[PG] = pool
        secret = app[SETTINGS].server.token_secret.encode() or await token_secret(pool)
        app[SIGNER] = TokenSigner(secret, previous=await previous_token_secrets(pool))
        yield
    finally:
        await pool.close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    redis = Redis.from_pool(redis_pool(app[ENDPOINTS].redis_url, app[SETTINGS]))
    try:
        await redis.ping()
        app[REDIS] = redis
        yield
    finally:
        await redis.aclose()  # closes its pool too (from_pool)


async def _ai(app: web.Application) -> AsyncIterator[None]:
    """The engines; the offline ones (also Claude's fallback) computed in a process pool
    that is warm before the node listens and shut down after the engines."""
    pool = OfflinePool(app[SETTINGS].ai.offline_workers)
    try:
        await pool.start()
        offline = pool.engines()
        engines = build_engines(app[SETTINGS].ai, app[METRICS], offline=offline)
        app[OFFLINE] = offline
        app[ENGINES] = engines
        try:
            yield
        finally:
            await aclose_engines(engines)
    finally:
        await pool.close()


async def _rescore(app: web.Application) -> AsyncIterator[None]:
    """With Claude configured, re-score provisional pieces now and then (storage/rescore)."""
    if not uses_claude(app[SETTINGS].ai):
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(rescore_forever(app[PG], app[ENGINES].scorer, load_prompts(), stop))
    try:
        yield
    finally:
        stop.set()
        await task


def default_node_id(settings: Settings, port: int) -> NodeId:
    return NodeId(settings.server.node_id or f"{socket.gethostname()}-{port}")


def create_app(
    settings: Settings,
    endpoints: Endpoints,
    *,
    node_id: NodeId | None = None,
    metrics: Registry | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=[observe, limits],
        client_max_size=settings.limits.max_body_bytes,
        handler_args=protocol.handler_args(settings),  # read timeouts (server/http/protocol)
    )
    app[SETTINGS] = settings
    app[ratelimit.CLOCK] = ratelimit.WindowClock()
    app[ENDPOINTS] = endpoints
    app[NODE] = NodeInfo(
        node_id=node_id or default_node_id(settings, settings.server.port),
        started_at=time.time(),
        version=__version__,
    )
    app[METRICS] = metrics or Registry()
    app[OWN_BODY_LIMIT] = frozenset({images.UPLOAD_PATH})  # lobbies.image_max_bytes
    app[images.SLOTS] = asyncio.Semaphore(images.DECODERS)
    replays_api.install(app)  # the replay service, its cache and spectator clock
    live.install(app)  # the live list's public pages
    tutor_api.install(app)  # the tutor service, built on the first question
    app.on_response_prepare.append(response_headers)
    app.cleanup_ctx.append(_postgres)
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_ai)
    app.cleanup_ctx.append(_rescore)
    app.cleanup_ctx.append(realtime_context)
    app.cleanup_ctx.append(pod_scheduler_context)  # after the hub: it opens lobbies
    app.cleanup_ctx.append(gctune.gc_context)  # last: freeze what all of the above loaded
    app.on_shutdown.append(realtime_shutdown)
    for api in APIS:
        api.add_to(app)
    return app

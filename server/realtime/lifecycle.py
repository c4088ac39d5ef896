"""Wiring the realtime part into the node's app: one ``cleanup_ctx`` and one ``on_shutdown``.

Start (``realtime_context``, after PostgreSQL, Redis and the AI engines): build the
:class:`~server.realtime.hub.Hub`, subscribe to session revocations (Redis pub/sub, on a
small pool of its own: the channel keeps its connection for good), rebuild the matches
Redis lists for this node id, read the prompts, and only then let the node listen.
``on_shutdown`` (aiohttp runs it after the sites stopped listening): refuse new sockets,
checkpoint every match, close every socket with 1001.  Exit of the context: whatever is
left stops, before the engines and pools close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from redis.asyncio import ConnectionPool

from server.ai.types import Engines
from server.http.state import ENDPOINTS, ENGINES, METRICS, NODE, PG, REALTIME, REDIS, SETTINGS
from server.realtime.hub import Hub
from server.realtime.tuning import TUNING, Tuning

OFFLINE = web.AppKey("offline_engines", Engines)
"""The offline engines in the node's process pool (set by the app's AI context)."""


PUBSUB_CONNECTIONS = 2  # the revocation channel's own pool: one live, one re-subscribing


async def realtime_context(app: web.Application) -> AsyncIterator[None]:
    pubsub = ConnectionPool.from_url(
        app[ENDPOINTS].redis_url,
        max_connections=PUBSUB_CONNECTIONS,
        socket_timeout=5,
        health_check_interval=30,
    )
    try:
        hub = Hub(
            settings=app[SETTINGS],
            node_id=app[NODE].node_id,
            redis=app[REDIS],
            pool=app[PG],
            engines=app[ENGINES],
            registry=app[METRICS],
            tuning=app.get(TUNING) or Tuning.from_settings(app[SETTINGS].realtime),
            offline=app.get(OFFLINE),
            pubsub=pubsub,
        )
        await hub.start()
        try:
            hub.prompts  # noqa: B018  # read the prompts now, before the heap is frozen (gctune)
            app[REALTIME] = hub
            yield
        finally:
            await hub.close()
    finally:
        await pubsub.aclose()


async def on_shutdown(app: web.Application) -> None:
    hub = app.get(REALTIME)
    if hub is not None:
        await hub.shutdown()

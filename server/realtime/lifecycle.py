"""Wiring the realtime part into the node's app: one ``cleanup_ctx`` and one ``on_shutdown``.

Start (``realtime_context``, after PostgreSQL, Redis and the AI engines): build the
:class:`~server.realtime.hub.Hub`, subscribe to session revocations (Redis pub/sub), rebuild
the matches Redis lists for this node id, and only then let the node listen.  ``on_shutdown`` (aiohttp runs it after the sites stopped
listening): refuse new sockets, checkpoint every match, close every socket with 1001.
Exit of the context: whatever is left stops, before the engines and pools close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from server.http.state import ENGINES, METRICS, NODE, PG, REALTIME, REDIS, SETTINGS
from server.realtime.hub import Hub
from server.realtime.tuning import TUNING, Tuning


async def realtime_context(app: web.Application) -> AsyncIterator[None]:
    hub = Hub(
        settings=app[SETTINGS],
        node_id=app[NODE].node_id,
        redis=app[REDIS],
        pool=app[PG],
        engines=app[ENGINES],
        registry=app[METRICS],
        tuning=app.get(TUNING) or Tuning(),
    )
    await hub.start()
    app[REALTIME] = hub
    try:
        yield
    finally:
        await hub.close()


async def on_shutdown(app: web.Application) -> None:
    hub = app.get(REALTIME)
    if hub is not None:
        await hub.shutdown()

"""Run one server node until told to stop, then shut down in order.

Once listening, the node announces itself to matchmaking (heartbeat with its URL and
load) and starts hosting the matches assigned to it.

Shutdown order (also in docs/operations.md):

1. stop listening: no new connections or handshakes; stop taking assignments and leave
   the node registry;
2. ``on_shutdown``: matches checkpoint to Redis and WebSockets close with 1001 (going away);
3. wait up to ``server.shutdown_grace_seconds`` for in-flight requests;
4. ``cleanup_ctx`` in reverse: close Redis, then the PostgreSQL pool.

``quill up`` then stops the embedded Redis and PostgreSQL, in that order.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

import structlog
from aiohttp import web

from server.app import create_app, default_node_id
from server.config import Settings
from server.http.state import NODE, REALTIME, Endpoints

log = structlog.get_logger("quill.node")


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop``; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def remove() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

    return remove


async def serve_node(
    settings: Settings, endpoints: Endpoints, host: str, port: int, stop: asyncio.Event
) -> None:
    app = create_app(settings, endpoints, node_id=default_node_id(settings, port))
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=settings.server.shutdown_grace_seconds
    )
    await runner.setup()  # opens the pools (cleanup_ctx); fails on an outdated schema
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1] if runner.addresses else port
        url = f"http://{host}:{bound_port}"
        hub = app.get(REALTIME)
        if hub is not None:  # now that the URL is known, join the matchmaking node registry
            await hub.connect_matchmaking(settings.server.public_url or url)
        log.info("node_started", url=url, node_id=app[NODE].node_id)
        print(f"Quill Arena is running at {url}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
        await stop.wait()
        log.info("node_stopping")
    finally:
        await runner.cleanup()
        log.info("node_stopped")

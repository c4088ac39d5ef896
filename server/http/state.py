"""Typed application state (``web.AppKey``): everything a handler may reach on ``app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from server.accounts.tokens import TokenSigner
from server.ai.types import Engines
from server.config import Settings
from server.metrics import Registry
from server.types import NodeId

if TYPE_CHECKING:  # the hub imports this module: no import cycle at run time
    from server.realtime.hub import Hub


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where this node's PostgreSQL and Redis are."""

    database_url: str
    redis_url: str


@dataclass(frozen=True, slots=True)
class NodeInfo:
    node_id: NodeId
    started_at: float  # time.time() at start-up
    version: str


SETTINGS = web.AppKey("settings", Settings)
ENDPOINTS = web.AppKey("endpoints", Endpoints)
NODE = web.AppKey("node", NodeInfo)
METRICS = web.AppKey("metrics", Registry)
PG = web.AppKey("pg", asyncpg.Pool)
REDIS = web.AppKey("redis", Redis)
SIGNER = web.AppKey("signer", TokenSigner)
ENGINES = web.AppKey("engines", Engines)
REQUEST_ID = web.RequestKey("request_id", str)
# the node's matches, sockets and sessions (server/realtime/hub.py)
REALTIME: web.AppKey[Hub] = web.AppKey("realtime")

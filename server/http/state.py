"""Typed application state (``web.AppKey``): everything a handler may reach on ``app``."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from server.accounts.tokens import TokenSigner
from server.config import Settings
from server.metrics import Registry
from server.types import NodeId


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
REQUEST_ID = web.RequestKey("request_id", str)

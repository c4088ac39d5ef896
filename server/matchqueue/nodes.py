"""The node registry: heartbeats with a TTL; the matchmaker picks the least-loaded live node."""

from __future__ import annotations

from dataclasses import dataclass

import msgpack
from redis.asyncio import Redis

from server.matchqueue import keys
from server.types import NodeId


@dataclass(frozen=True, slots=True)
class NodeStatus:
    node: NodeId
    url: str
    load: int  # players in live matches hosted there


async def heartbeat(redis: Redis, node: NodeId, url: str, load: int, ttl_s: float) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.NODES, node)
        pipe.set(
            keys.node_alive(node), msgpack.packb({"url": url, "load": load}), px=int(ttl_s * 1000)
        )
        await pipe.execute()


async def retire(redis: Redis, node: NodeId) -> None:
    """A node shutting down on purpose leaves the registry at once."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.srem(keys.NODES, node)
        pipe.delete(keys.node_alive(node))
        await pipe.execute()


async def live_nodes(redis: Redis) -> list[NodeStatus]:
    ids = sorted(
        m.decode() if isinstance(m, bytes) else m for m in await redis.smembers(keys.NODES)
    )
    if not ids:
        return []
    values = await redis.mget([keys.node_alive(i) for i in ids])
    live = []
    for node, raw in zip(ids, values, strict=True):
        if raw is None:
            continue
        info = msgpack.unpackb(raw)
        live.append(NodeStatus(NodeId(node), str(info["url"]), int(info["load"])))
    return live


def least_loaded(nodes: list[NodeStatus]) -> NodeStatus | None:
    return min(nodes, key=lambda n: (n.load, n.node), default=None)

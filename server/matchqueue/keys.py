"""Every Redis key and stream of matchmaking, in one place.

=================================  ========================================================
``quill:mm:tickets``               hash: player id → msgpack ticket (the queue's truth)
``quill:mm:events``                stream: ``join`` / ``leave`` records, in order, so the
                                   matchmaker follows the queue without rescanning it
``quill:mm:claimed``               hash: player id → until when (Unix seconds) a claimed
                                   ticket's match is being created; no new ticket meanwhile
``quill:mm:lock``                  string with TTL: the id of the active matchmaker
``quill:mm:estimates``             hash: ``<mode>:<bucket>`` → expected wait in seconds
``quill:nodes``                    set of node ids that have announced themselves
``quill:node:<id>:alive``          string with TTL: msgpack ``{url, load}`` (heartbeat)
``quill:node:<id>:assign``         stream: matches assigned to the node (consumer group
                                   ``node``; at-least-once, the node deduplicates)
``quill:node:<id>:notify``         stream: ``match.found`` for players connected there
``quill:bots:requests``            stream: a bot seat to fill (consumer group ``pool``)
``quill:bots:alive``               string with TTL: a bot pool is running (its heartbeat)
=================================  ========================================================
"""

from __future__ import annotations

TICKETS = "quill:mm:tickets"
EVENTS = "quill:mm:events"
LOCK = "quill:mm:lock"
CLAIMED = "quill:mm:claimed"
CLAIM_HOLD_S = 120  # a claim's hold on new tickets, should its match never be created
ESTIMATES = "quill:mm:estimates"
NODES = "quill:nodes"
EVENTS_MAXLEN = 200_000  # trimmed approximately; a matchmaker that falls further behind reloads
ASSIGN_GROUP = "node"
ESTIMATE_BUCKET = 2.5  # mu per estimate bucket
BOT_REQUESTS = "quill:bots:requests"
BOT_GROUP = "pool"
BOTS_ALIVE = "quill:bots:alive"


def node_alive(node: str) -> str:
    return f"quill:node:{node}:alive"


def node_assign(node: str) -> str:
    return f"quill:node:{node}:assign"


def node_notify(node: str) -> str:
    return f"quill:node:{node}:notify"


def estimate_field(mode: str, mu: float) -> str:
    return f"{mode}:{int(mu // ESTIMATE_BUCKET)}"

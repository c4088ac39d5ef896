"""Redis key names of the realtime part, in one place.

=========================================  ====================================================
``quill:match:{<id>}:log``                 list: the match's log records (msgpack), append-only
``quill:match:{<id>}:checkpoint``          string: the latest snapshot (msgpack, holds log_len)
``quill:match:{<id>}:seats``               set: the match's seat tokens
``quill:node:<node_id>:matches``           set: ids of the matches this node hosts
``quill:session:<token>``                  string: a realtime session (msgpack), with a TTL
``quill:seat:<token>``                     string: a seat reservation (msgpack), with a TTL
=========================================  ====================================================

The match id sits in braces, a Redis Cluster hash tag, so a match's log and checkpoint
live in one slot and the append script (``store.APPEND``) may touch both.
"""

from __future__ import annotations


def match_log(match_id: str) -> str:
    return f"quill:match:{{{match_id}}}:log"


def match_checkpoint(match_id: str) -> str:
    return f"quill:match:{{{match_id}}}:checkpoint"


def match_seats(match_id: str) -> str:
    return f"quill:match:{{{match_id}}}:seats"


def match_remote_bots(match_id: str) -> str:
    return f"quill:match:{{{match_id}}}:remote_bots"


def node_matches(node_id: str) -> str:
    return f"quill:node:{node_id}:matches"


def session(token: str) -> str:
    return f"quill:session:{token}"


def seat(token: str) -> str:
    return f"quill:seat:{token}"

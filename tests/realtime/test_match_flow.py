"""Five real sockets (one msgpack, four JSON) play a whole ranked match on one node."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from server.config import Settings
from server.game import Broadcast, SendTo, replay
from server.http.state import PG, REALTIME
from server.protocol import Codec, to_plain
from server.protocol import events as ev
from server.storage.matches import load_replay
from tests.realtime.client import Client
from tests.realtime.helpers import (
    FAST,
    fetch,
    http_for,
    no_matches,
    replay_stored,
    running_node,
)
from tests.realtime.players import Player, gather

# Sent by the gateway or the runner, not by the engine, so not in the replay.
GATEWAY_EVENTS = {"welcome", "pong", "queue.status", "error", "match.saved"}


def match_events(client: Client) -> list[tuple[str, Any]]:
    """What a socket got from its match: from its first ``match.state`` on, in order."""
    events = [(e["t"], e["d"]) for e in client.events if e["t"] not in GATEWAY_EVENTS]
    first = next(i for i, (t, _) in enumerate(events) if t == "match.state")
    return events[first:]


def replayed_events(log: list[dict[str, Any]], player: str) -> list[tuple[str, Any]]:
    """The same, from the stored log re-run through a fresh engine."""
    _, effects = replay(log)
    mine = [
        eff
        for eff in effects
        if isinstance(eff, Broadcast) or (isinstance(eff, SendTo) and eff.player == player)
    ]
    first = next(i for i, eff in enumerate(mine) if isinstance(eff.event, ev.MatchState))
    return [(eff.event.TYPE, to_plain(eff.event)) for eff in mine[first:]]


async def test_five_sockets_play_a_full_match(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(match=FAST)
    async with running_node(settings, database, redis_url) as node:
        http = http_for(node)
        admin = await http.admin(database)
        users = [await http.register() for _ in range(5)]
        created = await http.create_match(admin, [u.id for u in users], ranked=True)
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        assert created["node_url"] == node.url.replace("http", "ws") + "/ws"
        players = [
            Player(f"p{i}", u.id, u.token, node.url, Codec.MSGPACK if i == 0 else Codec.JSON)
            for i, u in enumerate(users)
        ]
        for p in players:
            welcome = await p.connect()
            assert welcome["match_id"] is None  # no seat until match.join
        states = await gather(*(p.join(seats[p.user_id]) for p in players))
        assert {s["phase"] for s in states} == {"lobby"}
        aliases = {p.user_id: s["you"] for p, s in zip(players, states, strict=True)}
        assert len(set(aliases.values())) == 5
        for p in players:
            await p.ready()
        await gather(*(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in players))
        await gather(*(p.write(3) for p in players))
        assigned = await gather(*(p.review_all() for p in players))
        finals = await gather(*(p.results() for p in players))

        # Phases, in order, the same for every socket.
        for p in players:
            phases = [(e["d"]["phase"], e["d"]["reason"]) for e in p.c.all("match.phase")]
            assert phases == [
                ("write", "all_ready"),
                ("feedback", "deadline"),
                ("feedback", "pieces_ready"),
                ("scoring", "all_reviewed"),
                ("results", "scored"),
                ("closed", "finished"),
            ]
            assert p.c.find("match.prompt") is not None
            assert not p.c.all("error")
        assert players[0].c.events[-1]["_codec"] == "msgpack"

        # Review assignment: k = 2 each, never one's own piece, every piece twice.
        reviewed: Counter[str] = Counter()
        for p, assignments in zip(players, assigned, strict=True):
            assert len(assignments) == 2
            assert all(a["alias"] != aliases[p.user_id] for a in assignments)
            reviewed.update(a["alias"] for a in assignments)
        assert set(reviewed.values()) == {2} and len(reviewed) == 5

        # Results: one ranking for all, a report each, ratings moved.
        rankings = [results["ranking"] for results, _ in finals]
        assert all(r == rankings[0] for r in rankings)
        assert sorted(row["alias"] for row in rankings[0]) == sorted(aliases.values())
        for p, (results, report) in zip(players, finals, strict=True):
            assert results["ranked"] and results["match_id"] == created["match_id"]
            assert report["alias"] == aliases[p.user_id] and len(report["reviews_received"]) == 2
            assert all(row["rating"] is not None for row in results["ranking"])

        # PostgreSQL: match, submissions, ratings and their history, the replay.
        match_id = uuid.UUID(created["match_id"])
        pool = node.app[PG]
        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database, "SELECT player_id, text FROM submissions WHERE match_id = $1", match_id
        )
        assert {r["player_id"]: r["text"] for r in subs} == {p.user_id: p.text for p in players}
        history = await fetch(
            database, "SELECT user_id, rank FROM rating_history WHERE match_id = $1", match_id
        )
        assert len(history) == 5
        ratings = await fetch(database, "SELECT user_id, matches FROM ratings")
        assert {str(r["user_id"]) for r in ratings} == {p.user_id for p in players}
        assert {r["matches"] for r in ratings} == {1}
        reviews = await fetch(
            database, "SELECT count(*) AS n FROM reviews WHERE match_id = $1", match_id
        )
        assert reviews[0]["n"] == 10

        # The replay re-runs into exactly what each socket received.
        log = await load_replay(pool, str(match_id))
        assert log is not None
        for p in players:
            assert match_events(p.c) == replayed_events(log, p.user_id), p.name

        # Redis forgot the match; the node hosts nothing.
        hub = node.app[REALTIME]
        await no_matches(hub)
        assert await hub.store.hosted() == []
        for p in players:
            await p.c.close()

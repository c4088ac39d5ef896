"""A node process killed with SIGKILL mid-match comes back with the same node id.

The node runs as ``python -m server serve`` (a subprocess with short phases).  Three
players write and get their edits acknowledged; the node is killed; a new process with
the same node id rebuilds the match from Redis; the players reconnect with their session
tokens, find every acknowledged edit in their draft, and finish the match.  Finally a
SIGTERM closes their sockets with 1001.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from server.embedded import free_port
from server.protocol import Codec
from tests.conftest import ROOT
from tests.realtime.client import WAIT
from tests.realtime.helpers import Http, fetch, replay_stored
from tests.realtime.players import Player, gather

START_LIMIT = 4 * WAIT  # a bound on a hung start, never a speed requirement

PHASES = {
    "QUILL_MATCH__LOBBY_SECONDS": "60",
    "QUILL_MATCH__WRITE_SECONDS": "10",
    "QUILL_MATCH__GRACE_SECONDS": "0.5",
    "QUILL_MATCH__FEEDBACK_SECONDS": "30",
    "QUILL_MATCH__RESULTS_SECONDS": "0.5",
    "QUILL_MATCH__RECONNECT_GRACE_SECONDS": "120",
}


class NodeProcess:
    """``python -m server serve`` on a fixed port with a fixed node id."""

    def __init__(self, database: str, redis_url: str, logs: Path, node_id: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = logs
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUILL_")}
        env.pop("ANTHROPIC_API_KEY", None)
        self.env = {
            **env,
            **PHASES,
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "QUILL_SERVER__NODE_ID": node_id,
            "QUILL_AI__ENGINE": "offline",
            "QUILL_SERVER__SHUTDOWN_GRACE_SECONDS": "5",
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, http: aiohttp.ClientSession) -> None:
        self.starts += 1
        log = (self.logs / f"node-{self.starts}.log").open("wb")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "server",
                "serve",
                "--port",
                str(self.port),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        async with asyncio.timeout(START_LIMIT):
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"the node exited: see {self.logs}")
                try:
                    async with http.get(self.url + "/health") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

    async def signal(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        async with asyncio.timeout(START_LIMIT):
            return await self.proc.wait()

    async def stop(self) -> None:
        """Stop the process we started if it still runs (by its pid, never by name)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@asynccontextmanager
async def node_process(
    database: str, redis_url: str, logs: Path
) -> AsyncIterator[tuple[NodeProcess, Http]]:
    node = NodeProcess(database, redis_url, logs, f"kill-test-{uuid.uuid4().hex[:6]}")
    async with aiohttp.ClientSession() as http:
        try:
            await node.start(http)
            yield node, Http(node.url, http)
        finally:
            await node.stop()


async def test_sigkill_mid_match_loses_no_acknowledged_edit(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    async with node_process(database, redis_url, tmp_path) as (node, http):
        admin = await http.admin(database)
        users = [await http.register() for _ in range(3)]
        created = await http.create_match(admin, [u.id for u in users])
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        players = [
            Player(f"p{i}", u.id, u.token, node.url, Codec.MSGPACK if i == 2 else Codec.JSON)
            for i, u in enumerate(users)
        ]
        for p in players:
            await p.connect()
        states = await gather(*(p.join(seats[p.user_id]) for p in players))
        aliases = [s["you"] for s in states]
        for p in players:
            await p.ready()
        await gather(*(p.c.wait("match.phase", lambda d: d["phase"] == "write") for p in players))
        await gather(*(p.write(2) for p in players))
        acked = {p.name: (p.acked_seq, p.acked_text) for p in players}

        assert await node.signal(signal.SIGKILL) == -signal.SIGKILL
        for p in players:
            code, _ = await p.c.wait_closed()
            assert code == 1006  # no closing handshake: the process just vanished

        await node.start(http.session)
        for p, alias in zip(players, aliases, strict=True):
            welcome = await p.connect()
            assert welcome["match_id"] == created["match_id"]
            state = (await p.c.wait("match.state"))["d"]
            assert state["you"] == alias
            seq, text = acked[p.name]
            assert (state["draft"]["seq"], state["draft"]["text"]) == (seq, text)
            await p.rebase(state)
            if state["phase"] == "write" and not state["draft"]["locked"]:
                await p.write(1, start=2)

        await gather(*(p.review_all() for p in players))
        finals = await gather(*(p.results() for p in players))
        assert len(finals[0][0]["ranking"]) == 3

        match_id = uuid.UUID(created["match_id"])
        await replay_stored(database, created["match_id"])
        subs = await fetch(
            database, "SELECT player_id, text FROM submissions WHERE match_id = $1", match_id
        )
        texts = {r["player_id"]: r["text"] for r in subs}
        for p in players:
            assert texts[p.user_id].startswith(acked[p.name][1])
            assert texts[p.user_id] == p.acked_text

        # A graceful stop closes the sockets with 1001 (going away).
        assert await node.signal(signal.SIGTERM) == 0
        for p in players:
            code, reason = await p.c.wait_closed()
            assert code == 1001 and "reconnect" in reason

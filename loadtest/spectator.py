"""A simulated spectator: a guest that lists live matches and watches them, one after
another, until the run stops.

A *focus* spectator always picks the same match as every other focus spectator (the
oldest live one, so they pile onto one match); a *spread* spectator picks a live match
at random.  Each frame's arrival is measured against its ``ts`` (``spectator_lag_ms``),
and every event is checked against the server-side delay: an event that arrived before
``at + delay`` counts as ``spectator_early`` (the node promises none).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import aiohttp
import msgpack
import orjson

from loadtest.player import Context, now_ms
from loadtest.wsclient import ConnectionClosed, InvalidHandshake, Socket, connect

LIST_EVERY_S = 1.0  # while no match is live: list again after this long
WATCH_AT_MOST_S = 600.0


class Spectator:
    def __init__(self, ctx: Context, index: int, rng: random.Random, *, focus: bool) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = rng
        self.focus = focus
        self.msgpack = rng.random() < ctx.scenario.msgpack_share
        self.base = ctx.base_urls[0]  # matches are watched where they run: one node
        self.access = ""
        self.ws: Socket | None = None
        self.next_id = 0

    async def run(self) -> None:
        tally = self.ctx.tally
        try:
            await self._account()
            await self._open()
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
            tally.errors[f"spectator_connect_{type(exc).__name__}"] += 1
            return
        loop = asyncio.get_running_loop()
        try:
            while loop.time() < self.ctx.hard_stop:
                match_id = await self._pick()
                if match_id is None:
                    if loop.time() >= self.ctx.stop_at:
                        break
                    await asyncio.sleep(LIST_EVERY_S * self.rng.uniform(0.5, 1.5))
                    continue
                await self._watch(match_id)
        except ConnectionClosed as exc:
            tally.closes[f"spectator_{exc.rcvd.code if exc.rcvd else 1006}"] += 1
        finally:
            if self.ws is not None:
                await self.ws.close()

    async def _account(self) -> None:
        async with self.ctx.http.post(f"{self.base}/api/v1/auth/guest", json={}) as resp:
            if resp.status not in (200, 201):
                self.ctx.tally.errors[f"spectator_http_{resp.status}"] += 1
                raise OSError(f"guest answered {resp.status}")
            self.access = (await resp.json())["access_token"]

    async def _open(self) -> None:
        url = self.base.replace("http", "ws", 1) + "/ws?token=" + self.access
        proto = "quill.v1.msgpack" if self.msgpack else "quill.v1.json"
        self.ws = await connect(url, subprotocols=[proto], open_timeout=20)
        await self._send("session.resume", {"session_token": "new"})
        while True:
            env = await self._recv()
            if env is None:
                raise TimeoutError("no welcome")
            if env["t"] == "welcome":
                break
        self.ctx.tally.counts["spectators_connected"] += 1

    async def _pick(self) -> str | None:
        headers = {"Authorization": f"Bearer {self.access}"}
        url = f"{self.base}/api/v1/matches/live?limit=50"
        try:
            async with self.ctx.http.get(url, headers=headers) as resp:
                if resp.status != 200:
                    self.ctx.tally.errors[f"spectator_live_{resp.status}"] += 1
                    return None
                items = (await resp.json())["items"]
        except (aiohttp.ClientError, TimeoutError) as exc:
            # e.g. a kept-alive connection the node closed as it was reused: list again
            self.ctx.tally.errors[f"spectator_live_{type(exc).__name__}"] += 1
            return None
        watchable = [i for i in items if i["phase"] in ("lobby", "write")]
        if not watchable:
            return None
        if self.focus:
            return str(min(watchable, key=lambda i: (i["started_at"], i["match_id"]))["match_id"])
        return str(self.rng.choice(watchable)["match_id"])

    async def _watch(self, match_id: str) -> None:
        tally = self.ctx.tally
        ref = await self._send("spectate.join", {"match_id": match_id})
        delay = 0.0
        loop = asyncio.get_running_loop()
        until = loop.time() + WATCH_AT_MOST_S
        while (left := min(until, self.ctx.hard_stop + 5) - loop.time()) > 0:
            env = await self._recv(left)
            if env is None:
                return
            t, d = env["t"], env.get("d") or {}
            if t == "error" and d.get("ref") == ref:
                tally.errors[f"spectate_{d.get('code')}"] += 1
                await asyncio.sleep(LIST_EVERY_S)
                return
            if t == "spectate.state":
                tally.counts["spectator_joins"] += 1
                delay = float(d["delay"])
            elif t == "spectate.events":
                ts = env["ts"]
                for event in d["events"]:
                    tally.counts["spectator_events"] += 1
                    if ts < round((event["at"] + delay) * 1000):
                        tally.counts["spectator_early"] += 1
            elif t == "spectate.left":
                tally.counts[f"spectator_left_{d.get('reason')}"] += 1
                return

    async def _send(self, t: str, d: dict[str, Any] | None = None) -> int:
        assert self.ws is not None
        self.next_id += 1
        env: dict[str, Any] = {"t": t, "id": self.next_id}
        if d is not None:
            env["d"] = d
        if self.msgpack:
            self.ws.send(msgpack.packb(env), text=False)
        else:
            self.ws.send(orjson.dumps(env), text=True)
        return self.next_id

    async def _recv(self, wait: float = 20.0) -> dict[str, Any] | None:
        assert self.ws is not None
        frame = await self.ws.recv(wait)
        if frame is None:
            return None
        env: dict[str, Any] = msgpack.unpackb(frame) if self.msgpack else orjson.loads(frame)
        ts = env.get("ts")
        if isinstance(ts, int):
            self.ctx.tally.hist["spectator_lag_ms"].add(max(0.0, now_ms() - ts))
        self.ctx.tally.counts["spectator_frames"] += 1
        return env

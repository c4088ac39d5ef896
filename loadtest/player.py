"""One simulated player: a guest account, one socket, match after match.

Everything happens on one coroutine per player (no reader task): :meth:`Player._loop`
waits for the next frame or the next timer (an edit, a review, a ping, a planned drop),
whichever comes first.  Frames are read as raw envelopes (``t``, ``ts``, ``d``) so every
event's ``ts`` gives a latency sample; replies are built as plain dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgpack
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from loadtest.scenario import Scenario
from loadtest.stats import Tally
from loadtest.typist import Typist

REVIEW_STRENGTHS = (
    "The opening line pulls me in and the details feel real.",
    "I like the rhythm of the sentences near the end.",
    "The setting is clear and the mood stays steady.",
)
REVIEW_SUGGESTIONS = (
    "Say a little more about why this night matters to the keeper.",
    "Try cutting the repeated words in the middle part.",
    "End on a concrete image instead of a summary.",
)
TOKEN_REFRESH_AFTER = 600.0  # seconds; access tokens live 900 s by default


class PlayerError(Exception):
    """The player could not go on (no account, no socket)."""


@dataclass
class Context:
    """What every player of a worker shares."""

    base_url: str  # http://127.0.0.1:PORT
    scenario: Scenario
    tally: Tally
    http: aiohttp.ClientSession
    stop_at: float  # loop time: no new match after this
    hard_stop: float  # loop time: leave whatever is running
    live: dict[str, int] = field(default_factory=lambda: {"connected": 0, "in_match": 0})


def now_ms() -> float:
    return time.time() * 1000.0


class Player:
    def __init__(self, ctx: Context, index: int, rng: random.Random) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = rng
        self.msgpack = rng.random() < ctx.scenario.msgpack_share
        self.access = ""
        self.refresh = ""
        self.token_at = 0.0
        self.session = "new"
        self.player_id = ""
        self.heartbeat = 20.0
        self.ws: ClientConnection | None = None
        self.next_id = 0
        self.timers: list[tuple[float, int, str, Any]] = []
        self._timer_n = 0
        self.ever_connected = False
        self.ever_in_match = False
        self._reset_match()

    def _reset_match(self) -> None:
        self.match_id: str | None = None
        self.phase = ""
        self.deadline: int | None = None
        self.typist = Typist(self.rng, self.ctx.scenario.typing)
        self.seq = 0
        self.pending_edits: dict[int, tuple[float, int, bool]] = {}  # id -> (sent, seq, nonempty)
        self.pending_reviews: dict[int, str] = {}
        self.reviewed: set[str] = set()
        self.snapshot_for: int | None = None
        self.queued_at = 0.0
        self.done = False
        self.got_results = False
        self.will_drop = self.rng.random() < self.ctx.scenario.drop_share
        self._cancel_timers("edit", "review", "drop")

    # --- accounts and sockets ---------------------------------------------------------------

    async def _tokens(self) -> None:
        http, base = self.ctx.http, self.ctx.base_url
        if self.refresh and time.monotonic() - self.token_at > TOKEN_REFRESH_AFTER:
            body = {"refresh_token": self.refresh}
            resp = await http.post(f"{base}/api/v1/auth/refresh", json=body)
        elif not self.access:
            resp = await http.post(f"{base}/api/v1/auth/guest", json={})
        else:
            return
        async with resp:
            if resp.status not in (200, 201):
                self.ctx.tally.errors[f"http_{resp.status}"] += 1
                raise PlayerError(f"auth answered {resp.status}")
            data = await resp.json()
        self.access, self.refresh = data["access_token"], data["refresh_token"]
        self.token_at = time.monotonic()

    async def _connect(self) -> None:
        await self._tokens()
        url = self.ctx.base_url.replace("http", "ws", 1) + "/ws?token=" + self.access
        proto = "quill.v1.msgpack" if self.msgpack else "quill.v1.json"
        for attempt in range(5):
            try:
                self.ws = await connect(
                    url,
                    subprotocols=[Subprotocol(proto)],
                    ping_interval=None,
                    open_timeout=20,
                    close_timeout=2,
                    max_size=4 * 1024 * 1024,
                )
                break
            except (OSError, TimeoutError, InvalidHandshake) as exc:
                self.ctx.tally.errors[f"connect_{type(exc).__name__}"] += 1
                await asyncio.sleep(0.5 * 2**attempt * self.rng.uniform(0.5, 1.0))
        else:
            raise PlayerError("no socket")
        await self.send("session.resume", {"session_token": self.session})
        while True:
            env = await self._recv(20.0)
            if env is None:
                raise PlayerError("no welcome")
            if env["t"] == "welcome":
                break
            self._on(env)
        d = env["d"]
        self.session, self.player_id = d["session_token"], d["player_id"]
        self.heartbeat = float(d.get("heartbeat") or 20.0)
        if not self.ever_connected:
            self.ever_connected = True
            self.ctx.tally.counts["players_connected"] += 1
        self.ctx.live["connected"] += 1
        self._timer(self.heartbeat * self.rng.uniform(0.5, 1.0), "ping")

    def _closed(self, code: int | None) -> None:
        self.ctx.live["connected"] -= 1
        self.ws = None
        self.ctx.tally.closes[str(code or 1006)] += 1
        self._cancel_timers("ping")

    def _cancel_timers(self, *kinds: str) -> None:
        self.timers = [t for t in self.timers if t[2] not in kinds]
        heapq.heapify(self.timers)

    async def send(self, t: str, d: dict[str, Any] | None = None) -> int:
        assert self.ws is not None
        self.next_id += 1
        env: dict[str, Any] = {"t": t, "id": self.next_id}
        if d is not None:
            env["d"] = d
        frame: str | bytes = msgpack.packb(env) if self.msgpack else orjson.dumps(env).decode()
        await self.ws.send(frame)
        return self.next_id

    async def _recv(self, wait: float) -> dict[str, Any] | None:
        """The next envelope, or ``None`` at the timeout."""
        assert self.ws is not None
        try:
            async with asyncio.timeout(max(0.0, wait)):
                frame = await self.ws.recv()
        except TimeoutError:
            return None
        env: dict[str, Any] = (
            msgpack.unpackb(frame, raw=False) if isinstance(frame, bytes) else orjson.loads(frame)
        )
        ts = env.get("ts")
        if isinstance(ts, int):
            self.ctx.tally.hist["latency_ms"].add(max(0.0, now_ms() - ts))
        self.ctx.tally.counts["events"] += 1
        return env

    def _timer(self, delay: float, kind: str, payload: Any = None) -> None:
        self._timer_n += 1
        loop_now = asyncio.get_running_loop().time()
        heapq.heappush(self.timers, (loop_now + delay, self._timer_n, kind, payload))

    # --- the player's life ------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await self._connect()
            while loop.time() < self.ctx.stop_at:
                await self._play_one()
        except PlayerError as exc:
            self.ctx.tally.errors[f"player_{exc}".replace(" ", "_")] += 1
        finally:
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await self.ws.close(1000, "load test over")
                self.ctx.live["connected"] -= 1
                self.ws = None

    async def _play_one(self) -> None:
        self._reset_match()
        if self.ws is None:
            await self._connect()
        self.queued_at = time.monotonic()
        if self.ctx.scenario.queue == "quickplay":
            await self.send("match.quickplay")
        else:
            await self.send("queue.join", {"mode": "ranked"})
        await self._loop()
        if self.match_id is not None:
            self.ctx.live["in_match"] -= 1

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.done:
            if loop.time() > self.ctx.hard_stop:
                self.ctx.tally.counts["unfinished"] += 1
                return
            if self.ws is None:
                await self._connect()
            wait = min(self.timers[0][0] - loop.time() if self.timers else 1.0, 1.0)
            try:
                env = await self._recv(wait)
                if env is not None:
                    await self._dispatch(env)
                while self.timers and self.timers[0][0] <= loop.time() and self.ws is not None:
                    _, _, kind, payload = heapq.heappop(self.timers)
                    await TIMERS[kind](self, payload)
            except ConnectionClosed as exc:
                self._closed(exc.rcvd.code if exc.rcvd else None)
                if self.match_id is None:  # the queue is gone with the socket: queue again
                    return

    async def _dispatch(self, env: dict[str, Any]) -> None:
        handler = HANDLERS.get(env["t"])
        if handler is not None:
            await handler(self, env.get("d") or {})

    def _on(self, env: dict[str, Any]) -> None:
        """An event before ``welcome`` (only errors are expected)."""
        if env["t"] == "error":
            self.ctx.tally.errors[env["d"]["code"]] += 1

    # --- events -----------------------------------------------------------------------------

    async def on_queue_status(self, d: dict[str, Any]) -> None:
        status = d["status"]
        if status == "matched":
            waited_ms = (time.monotonic() - self.queued_at) * 1000
            self.ctx.tally.hist["time_to_match_ms"].add(waited_ms)
            await self.send("match.join", {"seat_token": d["seat_token"]})
        elif status in ("expired", "left"):
            self.ctx.tally.errors[f"queue_{status}"] += 1
            self.done = True

    async def on_match_state(self, d: dict[str, Any]) -> None:
        if self.match_id is None:
            self.match_id = d["match_id"]
            if not self.ever_in_match:
                self.ever_in_match = True
                self.ctx.tally.counts["players_in_match"] += 1
            self.ctx.live["in_match"] += 1
        self.phase, self.deadline = d["phase"], d["deadline"]
        if self.phase == "lobby":
            await self.send("match.ready")
        if self.phase == "write":
            self._start_writing()
        draft = d.get("draft")
        if draft is not None and self.phase == "write" and draft["text"] != self.typist.text:
            self.seq = max(self.seq, int(draft["seq"])) + 1
            await self._send_snapshot()
        for a in d.get("assignments") or ():
            self._plan_review(a)
        if d.get("results") is not None:
            self._results()
        if self.phase == "closed":
            self.done = True

    async def on_match_phase(self, d: dict[str, Any]) -> None:
        if d["reason"] == "deadline" and self.deadline is not None:
            late = now_ms() - self.deadline
            if self.phase == "write":
                late -= self.ctx.scenario.grace_seconds * 1000
            self.ctx.tally.hist["deadline_jitter_ms"].add(late)
        old, self.phase, self.deadline = self.phase, d["phase"], d["deadline"]
        if self.match_id is not None and self.phase == "write" and old != "write":
            self.ctx.tally.started.add(self.match_id)
            self._start_writing()
        if self.phase == "closed":
            if self.match_id is not None and not self.got_results:
                self.ctx.tally.closed.add(self.match_id)
            self.done = True

    def _start_writing(self) -> None:
        if any(t[2] == "edit" for t in self.timers):
            return
        if self.match_id is not None:
            self.ctx.tally.started.add(self.match_id)
        self._timer(self.rng.uniform(0.3, 1.5), "edit")
        if self.will_drop and self.deadline is not None:
            left = max(0.5, (self.deadline - now_ms()) / 1000)
            self._timer(self.rng.uniform(0.2, 0.7) * left, "drop")
            self.will_drop = False

    async def on_ack(self, d: dict[str, Any]) -> None:
        sent = self.pending_edits.pop(d["id"], None)
        if sent is not None:
            self.ctx.tally.hist["ack_ms"].add(time.monotonic() * 1000 - sent[0])
            if sent[2] and self.match_id is not None and self.player_id:
                self.ctx.tally.expected.add((self.match_id, self.player_id))
            if sent[1] == self.snapshot_for:
                self.snapshot_for = None
        self.pending_reviews.pop(d["id"], None)

    async def on_snapshot_needed(self, d: dict[str, Any]) -> None:
        self.pending_edits.pop(d["ref"], None)
        if self.snapshot_for is not None:
            return  # one snapshot is enough while it is unanswered
        self.seq += 1
        await self._send_snapshot()

    async def _send_snapshot(self) -> None:
        self.snapshot_for = self.seq
        self.ctx.tally.counts["snapshots"] += 1
        ref = await self.send("draft.edit", {"seq": self.seq, "snapshot": self.typist.text})
        self.pending_edits[ref] = (time.monotonic() * 1000, self.seq, bool(self.typist.text))

    async def on_error(self, d: dict[str, Any]) -> None:
        self.ctx.tally.errors[d["code"]] += 1
        ref = d.get("ref")
        if ref in self.pending_edits:
            _, seq, _ = self.pending_edits.pop(ref)
            if seq == self.seq:  # not applied: the server still holds seq - 1
                self.seq -= 1

    async def on_assignments(self, d: dict[str, Any]) -> None:
        for a in d["assignments"]:
            self._plan_review(a)

    def _plan_review(self, a: dict[str, Any]) -> None:
        aid = a["assignment_id"]
        if a.get("submitted") or aid in self.reviewed:
            return
        self.reviewed.add(aid)
        if self.rng.random() < self.ctx.scenario.review_share:
            self._timer(self.rng.uniform(0.5, 3.0), "review", aid)

    async def on_results(self, d: dict[str, Any]) -> None:
        self._results()

    def _results(self) -> None:
        if self.match_id is not None and not self.got_results:
            self.got_results = True
            self.ctx.tally.completed.add(self.match_id)

    async def on_saved(self, d: dict[str, Any]) -> None:
        if not d["saved"]:
            self.ctx.tally.errors["match_not_saved"] += 1
        self.done = True  # seats are free from the results on: queue again

    # --- timers -----------------------------------------------------------------------------

    async def do_edit(self, _: Any) -> None:
        if self.phase != "write" or self.deadline is None:
            return
        if now_ms() > self.deadline - 300:  # stop at the bell, as people do
            return
        delay, ops = self.typist.step()
        self.seq += 1
        d: dict[str, Any] = {"seq": self.seq, "ops": [op.wire() for op in ops]}
        ref = await self.send("draft.edit", d)
        self.pending_edits[ref] = (time.monotonic() * 1000, self.seq, bool(self.typist.text))
        self.ctx.tally.counts["edits"] += 1
        self._timer(delay, "edit")

    async def do_review(self, aid: Any) -> None:
        if self.phase != "feedback":
            return
        d = {
            "assignment_id": aid,
            "strength": self.rng.choice(REVIEW_STRENGTHS),
            "suggestion": self.rng.choice(REVIEW_SUGGESTIONS),
            "rating": self.rng.randint(2, 6),
        }
        self.pending_reviews[await self.send("review.submit", d)] = aid
        self.ctx.tally.counts["reviews"] += 1

    async def do_ping(self, _: Any) -> None:
        await self.send("ping", {"client_time": int(now_ms())})
        self._timer(self.heartbeat * self.rng.uniform(0.8, 1.0), "ping")

    async def do_drop(self, _: Any) -> None:
        """Lose the network (no close frame), then come back and resume the session."""
        assert self.ws is not None
        self.ws.transport.abort()
        with contextlib.suppress(Exception):
            await self.ws.wait_closed()
        self.ctx.live["connected"] -= 1
        self.ws = None
        self.ctx.tally.counts["drops"] += 1
        self.pending_edits.clear()  # their answers are lost; match.state says what arrived
        self._cancel_timers("ping", "edit")
        await asyncio.sleep(self.rng.uniform(0.2, 1.5))
        await self._connect()
        self.ctx.tally.counts["resumes"] += 1
        if self.phase == "write":
            self._timer(self.rng.uniform(0.3, 1.0), "edit")


Handler = Callable[[Player, dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {
    "queue.status": Player.on_queue_status,
    "match.state": Player.on_match_state,
    "match.phase": Player.on_match_phase,
    "ack": Player.on_ack,
    "draft.snapshot_needed": Player.on_snapshot_needed,
    "error": Player.on_error,
    "review.assignments": Player.on_assignments,
    "match.results": Player.on_results,
    "match.saved": Player.on_saved,
}
TIMERS: dict[str, Callable[[Player, Any], Any]] = {
    "edit": Player.do_edit,
    "review": Player.do_review,
    "ping": Player.do_ping,
    "drop": Player.do_drop,
}

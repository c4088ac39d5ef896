"""One simulated player: a guest account, one socket, match after match.

Everything happens on one coroutine per player (no reader task): :meth:`Player._loop`
waits for the next frame or the next timer (an edit, a review, a ping, a planned drop),
whichever comes first.  Frames are read as raw envelopes (``t``, ``ts``, ``d``) so every
event's ``ts`` gives a latency sample; replies are built as plain dicts.

A player's home node is ``base_urls[index % len(base_urls)]`` (its HTTP and its first
socket); when ``queue.status`` ``matched`` names another node it moves its socket there
for the match (reconnects go there too) and comes home after it.  Each seat's
acknowledgements go to a ledger (:func:`loadtest.stats.seat_record`) that the drills
compare with PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
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

from loadtest.scenario import Scenario
from loadtest.stats import Tally, seat_record, text_hash
from loadtest.typist import Typist
from loadtest.wsclient import ConnectionClosed, InvalidHandshake, Socket, connect

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
CONNECT_ATTEMPTS = 10  # backoff 0.25 s doubling up to 3 s: about 20 s in all (a node restart)
TRACE = 14  # messages kept per player for the error samples
REQUEUE_ATTEMPTS = 20  # a refused queue.join / match.quickplay is tried again this often


class PlayerError(Exception):
    """The player could not go on (no account, no socket)."""


@dataclass
class Context:
    """What every player of a worker shares."""

    base_urls: tuple[str, ...]  # http://127.0.0.1:PORT of each node
    scenario: Scenario
    tally: Tally
    http: aiohttp.ClientSession
    stop_at: float  # loop time: no new match after this
    hard_stop: float  # loop time: leave whatever is running
    live: dict[str, int] = field(default_factory=lambda: {"connected": 0, "in_match": 0})
    ledger: bool = False  # keep every seat's record in ``tally.ledger``


def now_ms() -> float:
    return time.time() * 1000.0


def http_base(node_url: str) -> str:
    """``ws://HOST:PORT/ws`` (a ``node_url``) as ``http://HOST:PORT``."""
    url = node_url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    return url.removesuffix("/").removesuffix("/ws")


class Player:
    def __init__(self, ctx: Context, index: int, rng: random.Random) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = rng
        self.msgpack = rng.random() < ctx.scenario.msgpack_share
        self.home = ctx.base_urls[index % len(ctx.base_urls)]
        self.url = self.home  # the node the socket goes to: home, or the match's host
        self.access = ""
        self.refresh = ""
        self.token_at = 0.0
        self.session = "new"
        self.player_id = ""
        self.heartbeat = 20.0
        self.ws: Socket | None = None
        self.next_id = 0
        self.timers: list[tuple[float, int, str, Any]] = []
        # (way, type, payload) of the last few messages; see _trace
        self.recent: collections.deque[tuple[str, str, Any]] = collections.deque(maxlen=TRACE)
        self._timer_n = 0
        self._tick = 0.0  # loop time: _loop looks up from the socket at least by then
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
        self.pending_reviews: dict[int, list[Any]] = {}  # id -> [strength, suggestion, rating]
        self.seat_token: str | None = None  # matched, not yet joined
        self.queue_ref: int | None = None
        self.requeues = 0
        self.dirty = False  # an edit was refused: the next one is a snapshot
        self.rec: dict[str, Any] | None = None
        self.reviewed: set[str] = set()
        self.snapshot_for: int | None = None
        self.queued_at = 0.0
        self.done = False
        self.got_results = False
        self.will_drop = self.rng.random() < self.ctx.scenario.drop_share
        self._cancel_timers("edit", "review", "drop", "requeue")

    # --- accounts and sockets ---------------------------------------------------------------

    async def _tokens(self) -> None:
        http, base = self.ctx.http, self.home
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
        """A socket to ``self.url`` with the session resumed, retried with backoff (a node
        that restarts refuses connections for a while)."""
        await self._tokens()
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                await self._open()
                return
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                self.ctx.tally.errors[f"connect_{type(exc).__name__}"] += 1
                if self.ws is not None:
                    self.ws.transport.abort()
                    self.ws = None
                await asyncio.sleep(min(3.0, 0.25 * 2**attempt) * self.rng.uniform(0.5, 1.0))
        raise PlayerError("no socket")

    async def _open(self) -> None:
        url = self.url.replace("http", "ws", 1) + "/ws?token=" + self.access
        proto = "quill.v1.msgpack" if self.msgpack else "quill.v1.json"
        self.ws = await connect(url, subprotocols=[proto], open_timeout=20)
        await self.send("session.resume", {"session_token": self.session})
        while True:
            env = await self._recv(20.0)
            if env is None:
                raise TimeoutError("no welcome")
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
        if self.match_id is not None and d.get("match_id") != self.match_id and not self.done:
            # Back in, but the session holds no seat here any more: the match is gone.
            self.ctx.tally.errors["match_gone_on_resume"] += 1
            if self.rec is not None and self.rec["closed_reason"] is None:
                self.rec["closed_reason"] = "gone_on_resume"
            self.done = True

    def _closed(self, code: int | None) -> None:
        self.ctx.live["connected"] -= 1
        self.ws = None
        self.ctx.tally.closes[str(code or 1006)] += 1
        self._cancel_timers("ping")
        self.pending_edits.clear()  # their answers are lost; match.state says what arrived
        self.pending_reviews.clear()
        self.snapshot_for = None

    async def _move(self, url: str) -> None:
        """Take the socket to another node (the match's host)."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close(1000, "moving to the match's node")
            self.ctx.live["connected"] -= 1
            self.ws = None
            self._cancel_timers("ping")
        self.url = url
        self.ctx.tally.counts["moves"] += 1
        await self._connect()

    def cut(self) -> bool:
        """Lose the network now (no close frame), from outside the player's coroutine: the
        player notices on its next read and reconnects.  False when it has no socket."""
        if self.ws is None or self.done or self.match_id is None:
            return False
        self.ws.transport.abort()
        self.ctx.tally.counts["cuts"] += 1
        return True

    def _cancel_timers(self, *kinds: str) -> None:
        self.timers = [t for t in self.timers if t[2] not in kinds]
        heapq.heapify(self.timers)

    async def send(self, t: str, d: dict[str, Any] | None = None) -> int:
        assert self.ws is not None
        self.next_id += 1
        env: dict[str, Any] = {"t": t, "id": self.next_id}
        if t != "draft.edit":
            self.recent.append((">", t, d))
        if d is not None:
            env["d"] = d
        if self.msgpack:
            self.ws.send(msgpack.packb(env), text=False)
        else:
            self.ws.send(orjson.dumps(env), text=True)
        return self.next_id

    async def _recv(self, wait: float) -> dict[str, Any] | None:
        """The next envelope, or ``None`` at the timeout."""
        return await self._recv_by(asyncio.get_running_loop().time() + wait)

    async def _recv_by(self, deadline: float) -> dict[str, Any] | None:
        """The next envelope, or ``None`` once the loop's clock passes ``deadline``."""
        assert self.ws is not None
        frame = await self.ws.recv_by(deadline)
        if frame is None:
            return None
        env: dict[str, Any] = msgpack.unpackb(frame) if self.msgpack else orjson.loads(frame)
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
        await self._queue()
        try:
            await self._loop()
        finally:
            if self.rec is not None and self.ctx.ledger:
                self.ctx.tally.ledger[f"{self.rec['match']} {self.rec['player']}"] = self.rec
        if self.match_id is not None:
            self.ctx.live["in_match"] -= 1
        if self.url != self.home:  # the match was elsewhere: home for the next one
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    await self.ws.close(1000, "back to the home node")
                self.ctx.live["connected"] -= 1
                self.ws = None
                self._cancel_timers("ping")
            self.url = self.home

    async def _queue(self) -> None:
        if self.ctx.scenario.queue == "quickplay":
            self.queue_ref = await self.send("match.quickplay")
        else:
            self.queue_ref = await self.send("queue.join", {"mode": "ranked"})

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.done:
            if loop.time() > self.ctx.hard_stop:
                self.ctx.tally.counts["unfinished"] += 1
                if self.rec is not None:
                    self.rec["unfinished"] = True
                return
            if self.ws is None:
                await self._connect()
                if self.match_id is not None:
                    self.ctx.tally.counts["reconnects"] += 1
                elif self.seat_token is not None:  # matched, not joined yet: join now
                    await self.send("match.join", {"seat_token": self.seat_token})
                continue
            now = loop.time()
            if now >= self._tick:  # at least once a second: hard stop, drops, done
                self._tick = now + 1.0
            deadline = min(self.timers[0][0], self._tick) if self.timers else self._tick
            try:
                env = await self._recv_by(deadline)
                if env is not None:
                    await self._dispatch(env)
                while self.timers and self.timers[0][0] <= loop.time() and self.ws is not None:
                    _, _, kind, payload = heapq.heappop(self.timers)
                    await TIMERS[kind](self, payload)
            except ConnectionClosed as exc:
                self._closed(exc.rcvd.code if exc.rcvd else None)
                if self.match_id is None and self.seat_token is None:
                    return  # the queue is gone with the socket: queue again

    def _trace(self) -> str:
        """The last few messages, shown with an error sample (what led to it); formatted
        only then, not for every message."""
        lines = []
        for way, t, d in self.recent:
            brief = ""
            if isinstance(d, dict):
                keys = ("status", "phase", "match_id", "code")
                brief = " ".join(f"{k}={str(d[k])[:12]}" for k in keys if k in d)
            lines.append(f"{way}{t} {brief}".rstrip())
        return " | ".join(lines)

    async def _dispatch(self, env: dict[str, Any]) -> None:
        self.recent.append(("<", env["t"], env.get("d")))
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
            self.seat_token = d["seat_token"]
            self.rec = seat_record(str(d["match_id"]), self.player_id)
            self.rec["matched_at"] = time.time()
            host = http_base(d["node_url"]) if d.get("node_url") else self.url
            self.rec["node"] = host
            if host != self.url:
                await self._move(host)  # its welcome comes first; then join there
            await self.send("match.join", {"seat_token": self.seat_token})
        elif status in ("expired", "left"):
            self.ctx.tally.errors[f"queue_{status}"] += 1
            self.done = True

    async def on_match_state(self, d: dict[str, Any]) -> None:
        if self.match_id is None:
            self.match_id = d["match_id"]
            self.seat_token = None
            if self.rec is None or self.rec["match"] != self.match_id:
                self.rec = seat_record(str(self.match_id), self.player_id)
                self.rec["node"] = self.url
            self.rec["alias"] = d.get("you") or ""
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
            if self.rec is not None and self.rec["closed_reason"] is None:
                self.rec["closed_reason"] = "closed"
            self.done = True

    async def on_match_phase(self, d: dict[str, Any]) -> None:
        if self.match_id is None:
            # The last match's closing, arriving after this player queued again (the
            # socket stays attached to it until it closes): not this round's end.
            return
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
            if self.rec is not None:
                self.rec["closed_reason"] = d.get("reason") or "closed"
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
            if self.rec is not None:
                held = d.get("seq")
                self.rec["acked_seq"] = max(self.rec["acked_seq"], int(held or sent[1]))
        review = self.pending_reviews.pop(d["id"], None)
        if review is not None and self.rec is not None:
            self.rec["reviews"].append(review)

    async def on_snapshot_needed(self, d: dict[str, Any]) -> None:
        self.pending_edits.pop(d["ref"], None)
        if self.snapshot_for is not None:
            return  # one snapshot is enough while it is unanswered
        self.seq += 1
        await self._send_snapshot()

    async def _send_snapshot(self) -> None:
        self.snapshot_for = self.seq
        self.ctx.tally.counts["snapshots"] += 1
        self._sent_text(self.seq)
        ref = await self.send("draft.edit", {"seq": self.seq, "snapshot": self.typist.text})
        self.pending_edits[ref] = (time.monotonic() * 1000, self.seq, bool(self.typist.text))

    def _sent_text(self, seq: int) -> None:
        if self.rec is not None:
            self.rec["seqs"][str(seq)] = text_hash(self.typist.text)

    async def on_error(self, d: dict[str, Any]) -> None:
        self.ctx.tally.errors[d["code"]] += 1
        trace = self._trace()
        self.ctx.tally.sample_error(d["code"], f"{str(d.get('message', ''))[:200]} [{trace}]")
        ref = d.get("ref")
        if ref in self.pending_edits:
            _, seq, _ = self.pending_edits.pop(ref)
            if seq == self.seq:  # not applied: the server still holds seq - 1
                self.seq -= 1
            if seq == self.snapshot_for:
                self.snapshot_for = None
            # The typist's text has the refused change and the server's has not: the
            # next edit is a whole snapshot, which repairs it.
            self.dirty = True
        if isinstance(ref, int):
            self.pending_reviews.pop(ref, None)
        if ref is not None and ref == self.queue_ref and self.match_id is None:
            self.requeues += 1  # e.g. unavailable while a dependency restarts: again
            if self.requeues > REQUEUE_ATTEMPTS:
                self.done = True
            else:
                after = (d.get("retry_after_ms") or 0) / 1000
                self._timer(max(after, self.rng.uniform(0.5, 1.5)), "requeue")

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
        if self.rec is None:
            return
        self.rec["results"] = True
        for row in d.get("ranking") or ():
            if row.get("alias") == self.rec["alias"] and row.get("rating"):
                self.rec["mu_after"] = float(row["rating"]["mu_after"])

    def _results(self) -> None:
        if self.match_id is not None and not self.got_results:
            self.got_results = True
            self.ctx.tally.completed.add(self.match_id)

    async def on_saved(self, d: dict[str, Any]) -> None:
        if self.match_id is None or d.get("match_id") != self.match_id:
            # The last match's, arriving after this player queued again (as its closing
            # can, see on_match_phase): taking it for this round's end queued it twice.
            return
        if not d["saved"]:
            self.ctx.tally.errors["match_not_saved"] += 1
        if self.rec is not None:
            self.rec["saved"] = bool(d["saved"])
        self.done = True  # seats are free from the results on: queue again

    # --- timers -----------------------------------------------------------------------------

    async def do_edit(self, _: Any) -> None:
        if self.phase != "write" or self.deadline is None:
            return
        if now_ms() > self.deadline - 300:  # stop at the bell, as people do
            return
        if self.dirty and self.snapshot_for is None:
            self.dirty = False
            self.seq += 1
            await self._send_snapshot()
            self._timer(self.rng.uniform(0.5, 1.5), "edit")
            return
        delay, ops = self.typist.step()
        self.seq += 1
        self._sent_text(self.seq)
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
        ref = await self.send("review.submit", d)
        self.pending_reviews[ref] = [d["strength"], d["suggestion"], d["rating"]]
        self.ctx.tally.counts["reviews"] += 1

    async def do_requeue(self, _: Any) -> None:
        if self.match_id is None and self.seat_token is None and not self.done:
            await self._queue()

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
        self.pending_reviews.clear()
        self.snapshot_for = None
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
    "requeue": Player.do_requeue,
}

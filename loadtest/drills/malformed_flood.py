"""``malformed-flood``: a few clients send a flood of malformed frames in the write phase.

Bad MessagePack and JSON, wrong types, unknown message types, huge strings (over
``frame_bytes`` and over four times it), control characters in texts, binary frames on a
JSON socket, malformed ``draft.edit`` inside a match.  Each flooder must get ``error``
events and, when it goes on, a documented close (1008, 1009), never 1011; the node stays
ready and counts no handler error; the simulated players (the shared checks) are
unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.request
from typing import Any

import aiohttp
import msgpack
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from loadtest.drills.base import Check, Drill, DrillRun
from loadtest.stats import Tally

FLOODERS = 3
DOCUMENTED_CLOSES = {1000, 1008, 1009}
FRAME_BYTES = 65536

BAD_JSON: list[str | bytes] = [
    "not json at all {",
    "[1, 2",
    "{}",
    "[]",
    "42",
    '{"t": 5}',
    '{"t": "no.such.type", "id": 1}',
    '{"t": "ping", "id": "seven"}',
    '{"t": "ping", "id": 2, "d": {"client_time": "soon"}}',
    '{"t": "draft.edit", "id": 3, "d": {"seq": "a", "ops": 5}}',
    '{"t": "draft.edit", "id": 4, "d": {"seq": 1, "ops": [{"pos": -1, "insert": "x"}]}}',
    '{"t": "draft.edit", "id": 5, "d": {"seq": 1, "snapshot": "bad \\u0000 nul"}}',
    '{"t": "draft.edit", "id": 6, "d": {"seq": 1, "ops": [{"pos": 0, "insert": "cr\\r"}]}}',
    '{"t": "review.submit", "id": 7, "d": {"assignment_id": 1, "strength": "", "rating": 99}}',
    '{"t": "queue.join", "id": 8, "d": {"mode": ["ranked"]}}',
    '{"t": "match.join", "id": 9, "d": {"seat_token": "\\u0007\\u0008"}}',
    "[" * 5000 + "]" * 5000,
    '{"t": "ping", "id": 10, "d": {"client_time": 1e999}}',
    '{"t": "ping", "id": 11, "d": {"x": "' + "ä" * 40000 + '"}}',  # over frame_bytes
    b"\x00\x01binary on a json socket",
]
BAD_MSGPACK: list[bytes] = [
    b"\xc1",  # never used in MessagePack
    b"\x92\x01",  # an array of 2 with 1 item
    bytes(msgpack.packb(12)),
    bytes(msgpack.packb(["t", "ping"])),
    bytes(msgpack.packb({"t": b"\xff\xfe", "id": 1})),
    bytes(msgpack.packb({"t": "draft.edit", "id": 2, "d": {"seq": 1.5, "ops": "x"}})),
    bytes(msgpack.packb({"t": "draft.edit", "id": 3, "d": {"seq": 1, "snapshot": "\x00\x1b"}})),
    bytes(msgpack.packb({"t": "review.submit", "id": 4, "d": {"rating": -3}})),
    bytes(msgpack.packb({"t": "ping", "id": 5, "d": {"client_time": 2**64 - 1}})),
    bytes(msgpack.packb({"t": "ping", "id": 6, "d": {"x": "z" * (FRAME_BYTES + 10)}})),
    b"\xdd\xff\xff\xff\xff",  # an array claiming 4 billion items
]


async def _guest(http: aiohttp.ClientSession, base: str) -> str:
    async with http.post(f"{base}/api/v1/auth/guest", json={}) as resp:
        data = await resp.json()
    return str(data["access_token"])


async def _events(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """What arrives within ``seconds`` (stops at the close)."""
    out: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError, ConnectionClosed):
        async with asyncio.timeout(seconds):
            while True:
                frame = await ws.recv()
                if isinstance(frame, bytes):
                    out.append(msgpack.unpackb(frame, raw=False))
                else:
                    out.append(orjson.loads(frame))
    return out


async def _flooder(base: str, n: int, in_match: bool) -> dict[str, Any]:
    proto = "quill.v1.msgpack" if n % 2 else "quill.v1.json"
    result: dict[str, Any] = {"flooder": n, "protocol": proto, "in_match": in_match}
    async with aiohttp.ClientSession() as http:
        token = await _guest(http, base)
    url = base.replace("http", "ws", 1) + "/ws?token=" + token

    def enc(env: dict[str, Any]) -> str | bytes:
        return (
            bytes(msgpack.packb(env)) if proto.endswith("msgpack") else orjson.dumps(env).decode()
        )

    ws = await connect(url, subprotocols=[Subprotocol(proto)], max_size=2**22, close_timeout=2)
    errors: list[str] = []
    try:
        await ws.send(enc({"t": "session.resume", "id": 1, "d": {"session_token": "new"}}))
        await _events(ws, 0.5)
        if in_match:  # a seat of a quick-play match, to send bad edits into a match
            await ws.send(enc({"t": "match.quickplay", "id": 2}))
            seat = next(
                (e["d"]["seat_token"] for e in await _events(ws, 2.0) if e["t"] == "queue.status"),
                None,
            )
            if seat is not None:
                await ws.send(enc({"t": "match.join", "id": 3, "d": {"seat_token": seat}}))
                await ws.send(enc({"t": "match.ready", "id": 4}))
                await _events(ws, 0.5)
        frames: list[str | bytes] = list(BAD_MSGPACK if proto.endswith("msgpack") else BAD_JSON)
        # …then the same again and again: more than 20 refused frames in a row.
        for frame in (frames * 3)[:60]:
            await ws.send(frame)
            await asyncio.sleep(0.005)
        got = await _events(ws, 3.0)
        errors = [str(e["d"].get("code")) for e in got if e.get("t") == "error"]
        if ws.close_code is None:  # still open: a frame far over 4 × frame_bytes
            with contextlib.suppress(ConnectionClosed):
                huge = "y" * (5 * FRAME_BYTES)
                await ws.send(huge if proto.endswith("json") else huge.encode())
            await _events(ws, 3.0)
    except ConnectionClosed:
        pass
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 3)
    result["errors"] = sorted(set(errors))
    result["error_count"] = len(errors)
    result["close_code"] = ws.close_code
    result["close_reason"] = ws.close_reason
    return result


async def _flood(base: str) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(_flooder(base, n, n == 0) for n in range(FLOODERS))))


def inject(run: DrillRun) -> None:
    run.facts["flooders"] = asyncio.run(_flood(run.stack.urls[0]))


def _handler_errors(url: str) -> float | None:
    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    found = re.findall(r"^quill_ws_handler_errors_total(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)
    return sum(float(x) for x in found)


def verify(run: DrillRun, tally: Tally) -> list[Check]:
    flooders = run.facts.get("flooders", [])
    answered = [f for f in flooders if f["error_count"] > 0]
    closes = {f["flooder"]: f["close_code"] for f in flooders}
    handler_errors = {url: _handler_errors(url) for url in run.stack.urls}
    return [
        Check(
            "flooders_got_errors",
            len(answered) == len(flooders) > 0,
            [{k: f[k] for k in ("flooder", "protocol", "errors")} for f in flooders],
        ),
        Check(
            "flooders_closed_with_documented_codes",
            all(c in DOCUMENTED_CLOSES for c in closes.values()),
            closes,
        ),
        Check("no_handler_errors", all(v == 0 for v in handler_errors.values()), handler_errors),
    ]


DRILL = Drill(
    name="malformed-flood",
    summary="a few clients flood malformed frames; errors and 1008/1009 for them only",
    inject=inject,
    verify=verify,
)

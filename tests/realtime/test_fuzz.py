"""Random and malformed frames on a real socket while a well-behaved player's match goes on.

Hypothesis runs in a worker thread; each example opens its own socket (its own event
loop) as a seated player, resumes the seat, sends the example's frames and then a
sentinel ``ping``.  Every example must end either with the sentinel's ``pong`` — every
frame the decoder refuses having been answered with an ``error`` of the expected code,
in order — or with the server closing the socket with a policy/size code and a reason.
Meanwhile, on the main loop, another player keeps writing and gets every edit
acknowledged, and the match runs to its results.  No handler may fail internally.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass
from typing import Any

import msgpack
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.config import LimitSettings, Settings
from server.http.state import REALTIME
from server.protocol import CLIENT_MESSAGES, Codec, ProtocolError, decode_frame
from server.realtime.tuning import Tuning
from tests.realtime.client import WAIT, Client, encode, ws_url
from tests.realtime.helpers import FAST, http_for, running_node
from tests.realtime.players import SENTENCES, Player

FRAME_BYTES = 4096
LIMITS = LimitSettings(frame_bytes=FRAME_BYTES, messages_per_second=50)
FLOOD = 300  # frames in a flood example: far over the bucket, and over flood_close refusals
CLOSE_CODES = {1008, 1009}
EXAMPLES = 80

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def values(binary: bool) -> st.SearchStrategy[Any]:
    leaves = st.one_of(scalars, st.binary(max_size=8)) if binary else scalars
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


ops = st.lists(
    st.fixed_dictionaries(
        {"pos": st.integers(0, 80), "insert": st.text(max_size=16)},
        optional={"delete": st.integers(0, 6)},
    ),
    min_size=1,
    max_size=4,
)
edits = st.one_of(
    st.fixed_dictionaries({"seq": st.integers(1, 40), "ops": ops}),  # in and out of order
    st.fixed_dictionaries({"seq": st.integers(1, 40), "snapshot": st.text(max_size=40)}),
    st.fixed_dictionaries(  # malformed: both, neither, bad seq
        {"seq": st.integers(-2, 40)},
        optional={"ops": ops, "snapshot": st.text(max_size=40), "paste": st.booleans()},
    ),
)


def envelopes(binary: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Envelopes near the real thing: real and unknown types, good and bad payloads."""
    kinds = st.one_of(st.sampled_from(sorted(CLIENT_MESSAGES)), st.text(max_size=10))
    ids = st.one_of(st.none(), st.integers(-5, 2**60), st.text(max_size=3))
    edit = st.fixed_dictionaries({"t": st.just("draft.edit"), "id": ids, "d": edits})
    loose = st.fixed_dictionaries({"t": kinds}, optional={"id": ids, "d": values(binary)})
    return st.one_of(edit, loose)


def frames(codec: Codec) -> st.SearchStrategy[str | bytes]:
    binary = codec is Codec.MSGPACK
    encode = (
        (lambda v: bytes(msgpack.packb(v, use_bin_type=True)))
        if binary
        else (lambda v: orjson.dumps(v).decode())
    )
    near = st.one_of(envelopes(binary), values(binary)).map(encode)
    garbage: st.SearchStrategy[str | bytes] = st.one_of(
        st.text(max_size=60), st.binary(max_size=60)
    )
    huge = st.integers(FRAME_BYTES + 1, 3 * FRAME_BYTES).map(
        lambda n: encode({"t": "ping", "d": {"pad": "x" * n}})
    )
    return st.one_of(near, near, garbage, huge)


@dataclass(frozen=True)
class Case:
    codec: Codec
    frames: tuple[str | bytes, ...]
    flood: bool


@st.composite
def cases(draw: st.DrawFn) -> Case:
    codec = draw(st.sampled_from(list(Codec)))
    if draw(st.integers(0, 15)) == 0:
        return Case(codec, (), flood=True)
    return Case(codec, tuple(draw(st.lists(frames(codec), max_size=8))), flood=False)


def expected_error(frame: str | bytes, codec: Codec) -> str | None:
    """The error code the decoder gives this frame, or None if it decodes."""
    try:
        decode_frame(frame, codec, LIMITS)
    except ProtocolError as exc:
        return exc.code.value
    return None


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(x == y for y in it) for x in needle)


async def one_case(url: str, token: str, session: str, case: Case, n: int) -> str:
    """Play one example; returns how it ended ("answered" or "closed")."""
    ws = await connect(
        ws_url(url, token),
        subprotocols=[case.codec.value],  # type: ignore[list-item]
        max_size=None,
        open_timeout=WAIT,
    )
    client = Client(ws, case.codec, name=f"fuzz-{n}")
    try:
        await client.send("session.resume", {"session_token": session})
        await client.wait("welcome")
        start = len(client.events)
        burst = [encode(case.codec, "ping")] * FLOOD if case.flood else list(case.frames)
        with contextlib.suppress(ConnectionClosed):
            for frame in [*burst, encode(case.codec, "ping", {"client_time": n})]:
                await ws.send(frame)
        await client.until(
            lambda: client.find("pong", lambda d: d["client_time"] == n, start) is not None
        )
    finally:
        if not client.closed:
            await client.close()
    if client.find("pong", lambda d: d["client_time"] == n, start) is not None:
        assert not case.flood, "a flood must not go unanswered"
        wanted = [c for f in case.frames if (c := expected_error(f, case.codec)) is not None]
        got = [e["d"]["code"] for e in client.events[start:] if e["t"] == "error"]
        assert is_subsequence(wanted, got), (wanted, got)
        return "answered"
    assert client.close_code in CLOSE_CODES and client.close_reason, (
        client.close_code,
        client.close_reason,
    )
    if case.flood:
        assert client.close_code == 1008 and "flooding" in client.close_reason
        # Refused (once, or more when a slow machine let the bucket refill between two
        # frames of the burst), then closed; never anything else.
        errors = [e["d"]["code"] for e in client.all("error")]
        assert errors and set(errors) == {"too_many_messages"}, errors
    return "closed"


def run_examples(url: str, token: str, session: str) -> dict[str, int]:
    """Hypothesis in this (worker) thread; each example on a fresh event loop."""
    outcomes: dict[str, int] = {"answered": 0, "closed": 0}
    counter = itertools.count(1)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(case=cases())
    def check(case: Case) -> None:
        outcome = asyncio.run(one_case(url, token, session, case, next(counter)))
        outcomes[outcome] += 1

    check()
    return outcomes


async def test_malformed_frames_never_hurt_the_node_or_a_match(
    settings: Settings, database: str, redis_url: str
) -> None:
    settings = settings.replace(
        match={**FAST, "write_seconds": 6.0, "feedback_seconds": 4.0},
        limits={"frame_bytes": FRAME_BYTES, "messages_per_second": 50},
    )
    async with running_node(settings, database, redis_url, Tuning(flood_close=100)) as node:
        http = http_for(node)
        admin = await http.admin(database)
        good_user, fuzz_user = await http.register(), await http.register()
        created = await http.create_match(admin, [good_user.id, fuzz_user.id])
        seats = {s["player_id"]: s["seat_token"] for s in created["seats"]}
        good = Player("good", good_user.id, good_user.token, node.url)
        victim = Player("victim", fuzz_user.id, fuzz_user.token, node.url, Codec.MSGPACK)
        for p in (good, victim):
            await p.connect()
            await p.join(seats[p.user_id])
            await p.ready()
        await good.c.wait("match.phase", lambda d: d["phase"] == "write")
        session = victim.session_token
        await victim.c.close()

        async def keep_writing() -> None:
            for i in itertools.count():
                if good.c.find("match.phase", lambda d: d["phase"] != "write"):
                    return
                await good.write(1, start=i % len(SENTENCES))
                await asyncio.sleep(0.05)  # pacing, like a debouncing editor

        writer = asyncio.create_task(keep_writing())
        fuzz = asyncio.create_task(
            asyncio.to_thread(run_examples, node.url, fuzz_user.token, session)
        )
        # The good player writes through the write phase while the fuzzing goes on,
        # then reviews and reads its results: its match never noticed.
        with contextlib.suppress(AssertionError):  # an edit may just miss the deadline
            await writer
        assert good.acked_seq >= 1
        await good.review_all()
        results, _ = await good.results()
        assert len(results["ranking"]) == 2
        assert {e["d"]["code"] for e in good.c.all("error")} <= {"deadline_passed"}
        async with asyncio.timeout(4 * WAIT):
            outcomes = await fuzz
        assert outcomes["answered"] > 0 and outcomes["closed"] > 0, outcomes

        # The node is up and no handler failed on anything it was sent.
        assert (await node.get("/health")).status == 200
        assert node.app[REALTIME].metrics.handler_errors.value() == 0
        await good.c.close()

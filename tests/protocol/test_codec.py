"""Decoding and encoding frames: every client message, every error code, both codecs."""

from __future__ import annotations

from typing import Any

import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode
from websockets.streams import StreamReader

from server.config import LimitSettings
from server.errors import InvalidTransition
from server.protocol import (
    CLIENT_MESSAGES,
    SERVER_EVENTS,
    SUBPROTOCOLS,
    Codec,
    ErrorCode,
    Outbound,
    ProtocolError,
    choose_subprotocol,
    decode_frame,
    encode_client,
    encode_event,
    error_event,
    parse_protocol_header,
)
from server.protocol import client as c
from server.protocol import events as ev
from server.protocol.codec import MAX_DEPTH, Frame, ws_frame

LIMITS = LimitSettings(frame_bytes=8192, draft_chars=200)

VALID: dict[str, dict[str, Any]] = {
    "session.resume": {"session_token": "s3cr3t"},
    "queue.join": {"mode": "practice"},
    "queue.leave": {},
    "match.quickplay": {},
    "match.join": {"seat_token": "seat-1"},
    "match.ready": {},
    "match.leave": {},
    "draft.edit": {"seq": 3, "ops": [{"pos": 0, "insert": "Hi"}, {"pos": 2, "delete": 1}]},
    "review.submit": {
        "assignment_id": "a1",
        "strength": "Vivid.",
        "suggestion": "Slow down.",
        "rating": 5,
    },
    "ping": {"client_time": 1_700_000_000_000},
    "teacher.pause": {},
    "teacher.resume": {},
    "teacher.extend": {"seconds": 60},
    "teacher.start": {},
    "lobby.join": {"code": "k7m qxp"},
    "lobby.leave": {},
    "lobby.watch": {"lobby_id": "5b0c6a1e-3f0d-4a52-9a7e-2f1d9c4b8e11"},
    "lobby.kick": {"player_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "ban": True},
    "lobby.lock": {"locked": False},
    "lobby.message": {"text": "Five minutes left!"},
    "spectate.join": {"match_id": "0d6f3f0e-5d0e-4c1f-9b0e-3f5f1d2c9a10"},
    "spectate.leave": {},
}


def frame(codec: Codec, envelope: Any) -> str | bytes:
    if codec is Codec.JSON:
        return orjson.dumps(envelope).decode()
    packed: bytes = msgpack.packb(envelope)
    return packed


def refused(
    raw: str | bytes, codec: Codec = Codec.JSON, limits: LimitSettings = LIMITS
) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, codec, limits)
    return info.value


def test_every_client_message_has_a_valid_example() -> None:
    assert set(VALID) == set(CLIENT_MESSAGES)


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_messages_decode_the_same_in_both_codecs(codec: Codec, kind: str) -> None:
    inbound = decode_frame(frame(codec, {"t": kind, "id": 7, "d": VALID[kind]}), codec, LIMITS)
    assert (inbound.type, inbound.id) == (kind, 7)
    assert isinstance(inbound.msg, CLIENT_MESSAGES[kind])
    again = decode_frame(encode_client(inbound.msg, codec, ref=7), codec, LIMITS)
    assert again == inbound


def test_defaults_and_optional_parts() -> None:
    assert decode_frame('{"t":"match.ready"}', Codec.JSON, LIMITS).msg == c.MatchReady()
    assert decode_frame('{"t":"queue.join","d":null}', Codec.JSON, LIMITS).msg == c.QueueJoin(
        mode="ranked"
    )
    msg = decode_frame(
        '{"t":"draft.edit","d":{"seq":1,"snapshot":"é😀","x":1}}', Codec.JSON, LIMITS
    ).msg
    assert msg == c.DraftEdit(seq=1, snapshot="é😀")  # unknown fields are ignored
    assert decode_frame('{"t":"ping"}', Codec.JSON, LIMITS).id is None


# frame, expected code, expected path (None: no field)
ERRORS = [
    ("nope", ErrorCode.BAD_JSON, None),
    ('{"t":"ping"', ErrorCode.BAD_JSON, None),
    ("[1,2]", ErrorCode.BAD_FRAME, None),
    ('"ping"', ErrorCode.BAD_FRAME, None),
    ("{}", ErrorCode.MISSING_FIELD, "t"),
    ('{"t":5}', ErrorCode.BAD_FIELD_TYPE, "t"),
    ('{"t":"ping","id":-1}', ErrorCode.OUT_OF_RANGE, "id"),
    ('{"t":"ping","id":9007199254740992}', ErrorCode.OUT_OF_RANGE, "id"),
    ('{"t":"ping","id":18446744073709551616}', ErrorCode.OUT_OF_RANGE, "id"),  # > 64 bits
    ('{"t":"ping","id":"1"}', ErrorCode.BAD_FIELD_TYPE, "id"),
    ('{"t":"ping","id":1.5}', ErrorCode.BAD_FIELD_TYPE, "id"),
    ('{"t":"ping","id":true}', ErrorCode.BAD_FIELD_TYPE, "id"),
    ('{"t":"chess.move"}', ErrorCode.UNKNOWN_TYPE, None),
    ('{"t":"ping","d":[]}', ErrorCode.BAD_FIELD_TYPE, "d"),
    ('{"t":"session.resume","d":{}}', ErrorCode.MISSING_FIELD, "d.session_token"),
    ('{"t":"session.resume","d":{"session_token":""}}', ErrorCode.OUT_OF_RANGE, "d.session_token"),
    ('{"t":"session.resume","d":{"session_token":7}}', ErrorCode.BAD_FIELD_TYPE, "d.session_token"),
    ('{"t":"queue.join","d":{"mode":"casual"}}', ErrorCode.BAD_VALUE, "d.mode"),
    ('{"t":"queue.join","d":{"mode":5}}', ErrorCode.BAD_FIELD_TYPE, "d.mode"),
    ('{"t":"queue.join","d":{"mode":["ranked"]}}', ErrorCode.BAD_FIELD_TYPE, "d.mode"),
    ('{"t":"queue.join","d":{"mode":"ranked\\u0000"}}', ErrorCode.BAD_VALUE, "d.mode"),
    (
        '{"t":"draft.edit","d":{"seq":99999999999999999999999,"snapshot":""}}',
        ErrorCode.OUT_OF_RANGE,
        "d.seq",
    ),
    ('{"t":"draft.edit","d":{"ops":[{"pos":0}]}}', ErrorCode.MISSING_FIELD, "d.seq"),
    ('{"t":"draft.edit","d":{"seq":0,"snapshot":""}}', ErrorCode.OUT_OF_RANGE, "d.seq"),
    ('{"t":"draft.edit","d":{"seq":1.5,"snapshot":""}}', ErrorCode.BAD_FIELD_TYPE, "d.seq"),
    ('{"t":"draft.edit","d":{"seq":true,"snapshot":""}}', ErrorCode.BAD_FIELD_TYPE, "d.seq"),
    ('{"t":"draft.edit","d":{"seq":1}}', ErrorCode.BAD_VALUE, "d"),
    ('{"t":"draft.edit","d":{"seq":1,"snapshot":"a","ops":[{"pos":0}]}}', ErrorCode.BAD_VALUE, "d"),
    ('{"t":"draft.edit","d":{"seq":1,"ops":[]}}', ErrorCode.OUT_OF_RANGE, "d.ops"),
    ('{"t":"draft.edit","d":{"seq":1,"ops":{"pos":0}}}', ErrorCode.BAD_FIELD_TYPE, "d.ops"),
    ('{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":-1}]}}', ErrorCode.OUT_OF_RANGE, "d.ops[0].pos"),
    (
        '{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":0},{"pos":"2"}]}}',
        ErrorCode.BAD_FIELD_TYPE,
        "d.ops[1].pos",
    ),
    (
        '{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":0,"delete":-2}]}}',
        ErrorCode.OUT_OF_RANGE,
        "d.ops[0].delete",
    ),
    ('{"t":"draft.edit","d":{"seq":1,"ops":[3]}}', ErrorCode.BAD_FIELD_TYPE, "d.ops[0]"),
    (
        '{"t":"draft.edit","d":{"seq":1,"snapshot":"' + "x" * 201 + '"}}',
        ErrorCode.DRAFT_TOO_LONG,
        "d.snapshot",
    ),
    (
        '{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":0,"insert":"' + "x" * 201 + '"}]}}',
        ErrorCode.DRAFT_TOO_LONG,
        "d.ops[0].insert",
    ),
    (
        '{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":0,"insert":"'
        + "x" * 150
        + '"},{"pos":0,"insert":"'
        + "y" * 60
        + '"}]}}',
        ErrorCode.DRAFT_TOO_LONG,
        "d",
    ),
    (
        '{"t":"draft.edit","d":{"seq":1,"snapshot":"a","paste":"yes"}}',
        ErrorCode.BAD_FIELD_TYPE,
        "d.paste",
    ),
    (
        '{"t":"review.submit","d":{"assignment_id":"a","strength":"x","suggestion":"y","rating":0}}',
        ErrorCode.OUT_OF_RANGE,
        "d.rating",
    ),
    (
        '{"t":"review.submit","d":{"assignment_id":"a","strength":"x","suggestion":"y","rating":7}}',
        ErrorCode.OUT_OF_RANGE,
        "d.rating",
    ),
    (
        '{"t":"review.submit","d":{"assignment_id":"a","strength":"  ","suggestion":"y","rating":3}}',
        ErrorCode.BAD_VALUE,
        "d.strength",
    ),
    (
        '{"t":"review.submit","d":{"assignment_id":"a","strength":"x","rating":3}}',
        ErrorCode.MISSING_FIELD,
        "d.suggestion",
    ),
    (
        '{"t":"review.submit","d":{"assignment_id":"a","strength":"'
        + "s" * 2001
        + '","suggestion":"y","rating":3}}',
        ErrorCode.OUT_OF_RANGE,
        "d.strength",
    ),
    ('{"t":"teacher.extend","d":{"seconds":0}}', ErrorCode.OUT_OF_RANGE, "d.seconds"),
    ('{"t":"teacher.extend","d":{"seconds":null}}', ErrorCode.BAD_FIELD_TYPE, "d.seconds"),
    ('{"t":"lobby.join","d":{}}', ErrorCode.MISSING_FIELD, "d.code"),
    ('{"t":"lobby.join","d":{"code":""}}', ErrorCode.OUT_OF_RANGE, "d.code"),
    ('{"t":"lobby.join","d":{"code":7}}', ErrorCode.BAD_FIELD_TYPE, "d.code"),
    (
        '{"t":"lobby.watch","d":{"lobby_id":"' + "x" * 65 + '"}}',
        ErrorCode.OUT_OF_RANGE,
        "d.lobby_id",
    ),
    ('{"t":"lobby.kick","d":{"player_id":"p","ban":"yes"}}', ErrorCode.BAD_FIELD_TYPE, "d.ban"),
    ('{"t":"lobby.lock","d":{"locked":1}}', ErrorCode.BAD_FIELD_TYPE, "d.locked"),
    ('{"t":"lobby.message","d":{"text":"  \\n "}}', ErrorCode.BAD_VALUE, "d.text"),
    ('{"t":"lobby.message","d":{"text":"' + "x" * 501 + '"}}', ErrorCode.OUT_OF_RANGE, "d.text"),
    ('{"t":"ping","d":{"client_time":1e400}}', ErrorCode.BAD_JSON, None),
]


@pytest.mark.parametrize(("raw", "code", "path"), ERRORS)
def test_bad_frames_get_precise_codes(raw: str, code: ErrorCode, path: str | None) -> None:
    err = refused(raw)
    assert err.code is code, err.message
    assert err.path == path
    if path is not None and path.startswith("d"):
        assert err.message.startswith(path.split("[")[0].split(".")[0])


def test_errors_carry_the_envelope_id_when_readable() -> None:
    assert refused('{"t":"review.submit","id":42,"d":{}}').ref == 42
    assert refused('{"t":"nope","id":43}').ref == 43
    assert refused("{").ref is None


@pytest.mark.parametrize(
    ("raw", "codec", "code"),
    [
        (b'{"t":"ping"}', Codec.JSON, ErrorCode.BAD_FRAME),  # binary frame on the JSON codec
        ('{"t":"ping"}', Codec.MSGPACK, ErrorCode.BAD_FRAME),  # text frame on msgpack
        (b"\xc1", Codec.MSGPACK, ErrorCode.BAD_MSGPACK),  # reserved byte
        (b"\x92\x01", Codec.MSGPACK, ErrorCode.BAD_MSGPACK),  # truncated
        (
            msgpack.packb({"t": "ping"}) + b"\x00",
            Codec.MSGPACK,
            ErrorCode.BAD_MSGPACK,
        ),  # extra data
        (b"\x81\x01\x02", Codec.MSGPACK, ErrorCode.BAD_MSGPACK),  # int map key
        (b"\xa2\xff\xfe", Codec.MSGPACK, ErrorCode.BAD_MSGPACK),  # invalid UTF-8
        (b"\x91" * 2000, Codec.MSGPACK, ErrorCode.BAD_FRAME),  # nested too deep
        (msgpack.packb([1]), Codec.MSGPACK, ErrorCode.BAD_FRAME),
        (
            msgpack.packb({"t": "session.resume", "d": {"session_token": b"bytes"}}),
            Codec.MSGPACK,
            ErrorCode.BAD_FIELD_TYPE,
        ),
        (
            msgpack.packb({"t": "ping", "d": {"client_time": msgpack.ExtType(1, b"x")}}),
            Codec.MSGPACK,
            ErrorCode.BAD_FIELD_TYPE,
        ),
        (
            msgpack.packb({"t": "queue.join", "d": {"mode": b"ranked"}}, use_bin_type=True),
            Codec.MSGPACK,
            ErrorCode.BAD_FIELD_TYPE,
        ),
        (msgpack.packb({"t": "ping", "id": -1}), Codec.MSGPACK, ErrorCode.OUT_OF_RANGE),
        (msgpack.packb({"t": "ping", "id": 2**53}), Codec.MSGPACK, ErrorCode.OUT_OF_RANGE),
        (msgpack.packb({"t": "ping", "id": 2**64 - 1}), Codec.MSGPACK, ErrorCode.OUT_OF_RANGE),
        (msgpack.packb({"t": "ping", "id": b"1"}), Codec.MSGPACK, ErrorCode.BAD_FIELD_TYPE),
        # a str whose bytes are a UTF-8-encoded surrogate (CESU style) is not UTF-8
        (
            b"\x82\xa1t\xaesession.resume\xa1d\x81\xadsession_token\xa3\xed\xa0\x80",
            Codec.MSGPACK,
            ErrorCode.BAD_MSGPACK,
        ),
    ],
)
def test_wrong_codec_and_bad_msgpack(raw: str | bytes, codec: Codec, code: ErrorCode) -> None:
    assert refused(raw, codec).code is code


def test_frame_size_limit_counts_utf8_bytes() -> None:
    limits = LimitSettings(frame_bytes=1024, draft_chars=2000)
    head = '{"t":"draft.edit","d":{"seq":1,"snapshot":"'
    tail = '"}}'
    fits = head + "x" * (1024 - len(head) - len(tail)) + tail
    assert len(fits.encode()) == 1024
    decode_frame(fits, Codec.JSON, limits)
    assert refused(fits.replace("x", "é", 1), Codec.JSON, limits).code is ErrorCode.FRAME_TOO_LARGE
    assert refused(b"\x00" * 1025, Codec.MSGPACK, limits).code is ErrorCode.FRAME_TOO_LARGE
    assert refused("x" * 10_000_000, Codec.JSON, limits).code is ErrorCode.FRAME_TOO_LARGE


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["quill.v1.json"], Codec.JSON),
        (["quill.v1.msgpack"], Codec.MSGPACK),
        (["quill.v1.msgpack", "quill.v1.json"], Codec.MSGPACK),  # the client's preference
        (["chat", "quill.v1.json"], Codec.JSON),
        (["quill.v2.json"], None),
        (["QUILL.V1.JSON"], None),
        ([], None),
    ],
)
def test_choose_subprotocol(offered: list[str], chosen: Codec | None) -> None:
    assert choose_subprotocol(offered) is chosen


def test_parse_protocol_header() -> None:
    assert parse_protocol_header("quill.v1.msgpack, quill.v1.json") == [
        "quill.v1.msgpack",
        "quill.v1.json",
    ]
    assert parse_protocol_header(None) == [] == parse_protocol_header(" , ")
    assert SUBPROTOCOLS == ("quill.v1.json", "quill.v1.msgpack")
    assert not Codec.JSON.binary and Codec.MSGPACK.binary


SAMPLE = ev.MatchPhase(phase="write", deadline=1_700_000_240_000, remaining_ms=240_000)


def test_encode_event_gives_text_for_json_and_bytes_for_msgpack() -> None:
    text = encode_event(SAMPLE, Codec.JSON, 123)
    packed = encode_event(SAMPLE, Codec.MSGPACK, 123)
    assert isinstance(text, str) and isinstance(packed, bytes)
    expected = {
        "t": "match.phase",
        "ts": 123,
        "d": {
            "phase": "write",
            "deadline": 1_700_000_240_000,
            "remaining_ms": 240_000,
            "paused": False,
            "reason": None,
        },
    }
    assert orjson.loads(text) == expected == msgpack.unpackb(packed)


def test_outbound_encodes_once_per_codec() -> None:
    out = Outbound(SAMPLE, 5)
    first = out.frame(Codec.JSON)
    assert out.frame(Codec.JSON) is first
    assert out.frame(Codec.MSGPACK) is out.frame(Codec.MSGPACK)
    assert orjson.loads(first)["ts"] == 5


def test_nested_events_encode_to_plain_data() -> None:
    results = ev.MatchResults(
        match_id="m",
        focus="voice",
        ranked=True,
        provisional=False,
        ranking=(
            ev.ResultRow(
                alias="Amber Otter",
                rank=1,
                score=4.2,
                writing=4.0,
                review=5.0,
                traits={"voice": 5},
                words=120,
                empty=False,
                left=False,
                provisional=False,
                rating=ev.RatingView(
                    mu_before=25,
                    sigma_before=8,
                    mu_after=27,
                    sigma_after=7,
                    display_before=1,
                    display_after=6,
                ),
            ),
        ),
    )
    plain = msgpack.unpackb(encode_event(results, Codec.MSGPACK, 0))
    assert plain["d"]["ranking"][0]["rating"]["mu_after"] == 27
    assert orjson.loads(encode_event(results, Codec.JSON, 0)) == plain


def test_error_event_from_protocol_errors_and_refusals() -> None:
    err = refused(
        '{"t":"review.submit","id":4,"d":{"assignment_id":"a","strength":"x","suggestion":"y","rating":9}}'
    )
    event = error_event(err)
    assert (event.code, event.ref, event.path) == ("out_of_range", 4, "d.rating")
    refusal = error_event(InvalidTransition("wrong_phase", "not now"), ref=8)
    assert refusal == ev.ErrorEvent(code="wrong_phase", message="not now", ref=8)
    assert set(SERVER_EVENTS) >= {"welcome", "error", "ack", "pong", "match.state", "match.results"}


# --- nesting depth: a deliberate limit, the same code on both codecs ---------------------


def nested(levels: int, codec: Codec) -> str | bytes:
    """A ping (id 9) nesting ``levels`` deep: envelope 1, ``d`` 2, then arrays in ``d.x``."""
    arrays = levels - 2
    if codec is Codec.JSON:
        return '{"t":"ping","id":9,"d":{"x":' + "[" * arrays + "]" * arrays + "}}"
    return b"\x83\xa1t\xa4ping\xa2id\x09\xa1d\x81\xa1x" + b"\x91" * (arrays - 1) + b"\x90"


@pytest.mark.parametrize("codec", list(Codec))
def test_nesting_up_to_the_limit_is_accepted(codec: Codec) -> None:
    assert MAX_DEPTH == 32
    inbound = decode_frame(nested(MAX_DEPTH, codec), codec, LIMITS)
    assert inbound == decode_frame(frame(codec, {"t": "ping", "id": 9}), codec, LIMITS)


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 600, 1100])
def test_deeper_nesting_is_bad_frame(codec: Codec, levels: int) -> None:
    err = refused(nested(levels, codec), codec)
    assert err.code is ErrorCode.BAD_FRAME, err.message
    assert "deeper than 32 levels" in err.message
    assert err.ref == (9 if levels < 1000 else None)  # the parser stops before the id


# --- error messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            '{"t":"draft.edit","d":{"seq":2147483648,"snapshot":""}}',
            "d.seq: 2147483648 is outside 1..2147483647",
        ),
        (
            '{"t":"draft.edit","d":{"seq":1,"ops":[{"pos":10000001}]}}',
            "d.ops[0].pos: 10000001 is outside 0..10000000",
        ),
        (
            '{"t":"ping","d":{"client_time":-5}}',
            "d.client_time: -5 is outside 0..9007199254740991",
        ),
        ('{"t":"teacher.extend","d":{"seconds":3601}}', "d.seconds: 3601 is outside 1..3600"),
        ('{"t":"ping","id":-1}', "id: -1 is outside 0..9007199254740991"),
    ],
)
def test_bounds_are_printed_as_integers(raw: str, message: str) -> None:
    assert refused(raw).message == message


def _parse_ws(data: bytes) -> tuple[Any, bytes]:
    """Parse one server frame with the ``websockets`` library's own parser."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = WsFrame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:  # pragma: no cover - the whole frame was fed
        raise AssertionError("the frame is incomplete")
    return frame.opcode, bytes(frame.data)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize("binary", [False, True])
def test_ws_frame_is_what_a_websocket_client_reads(size: int, binary: bool) -> None:
    payload: Frame = b"\xff" * size if binary else "é" * (size // 2) + "x" * (size % 2)
    opcode, data = _parse_ws(ws_frame(payload))
    assert opcode is (Opcode.BINARY if binary else Opcode.TEXT)
    assert data == (payload if isinstance(payload, bytes) else payload.encode())


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.binary(max_size=70_000)))
def test_ws_frame_round_trips_any_payload(payload: Frame) -> None:
    opcode, data = _parse_ws(ws_frame(payload))
    expected = payload.encode() if isinstance(payload, str) else payload
    assert (opcode, data) == (Opcode.TEXT if isinstance(payload, str) else Opcode.BINARY, expected)


def test_outbound_frames_once_per_codec() -> None:
    out = Outbound(SAMPLE, 5)
    wire = out.wire(Codec.MSGPACK)
    assert out.wire(Codec.MSGPACK) is wire
    assert _parse_ws(wire) == (Opcode.BINARY, out.frame(Codec.MSGPACK))
    assert _parse_ws(out.wire(Codec.JSON))[1] == str(out.frame(Codec.JSON)).encode()

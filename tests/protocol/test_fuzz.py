"""Property tests: whatever a client sends, the decoder answers with a message or a ProtocolError."""

from __future__ import annotations

from typing import Any

import msgpack
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import LimitSettings
from server.protocol import (
    CLIENT_MESSAGES,
    Codec,
    ErrorCode,
    ProtocolError,
    decode_frame,
    encode_client,
)
from server.protocol.schema import MAX_SAFE_INT
from tests.protocol.test_codec import VALID

LIMITS = LimitSettings(frame_bytes=4096, draft_chars=300)
FIELD_CODES = {
    ErrorCode.MISSING_FIELD,
    ErrorCode.BAD_FIELD_TYPE,
    ErrorCode.OUT_OF_RANGE,
    ErrorCode.BAD_VALUE,
    ErrorCode.DRAFT_TOO_LONG,
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
msgpack_values = st.recursive(
    st.one_of(scalars, st.binary(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def decode_or_error(raw: str | bytes, codec: Codec) -> ProtocolError | None:
    """Decode; a success must re-encode cleanly.  Any exception but ProtocolError fails."""
    try:
        inbound = decode_frame(raw, codec, LIMITS)
    except ProtocolError as exc:
        assert isinstance(exc.code, ErrorCode) and exc.message
        return exc
    for other in Codec:
        assert decode_frame(encode_client(inbound.msg, other, inbound.id), other, LIMITS) == inbound
    return None


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_random_text_frames(raw: str) -> None:
    decode_or_error(raw, Codec.JSON)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_binary_frames(raw: bytes) -> None:
    decode_or_error(raw, Codec.MSGPACK)
    assert decode_or_error(raw, Codec.JSON) is not None  # binary on the JSON codec: refused


@settings(max_examples=300)
@given(json_values)
def test_random_json_values(value: Any) -> None:
    try:
        raw = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return  # integers outside 64 bits cannot be written as JSON by orjson
    decode_or_error(raw, Codec.JSON)


@settings(max_examples=300)
@given(msgpack_values)
def test_random_msgpack_values(value: Any) -> None:
    decode_or_error(msgpack.packb(value), Codec.MSGPACK)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(VALID)),
    st.one_of(st.none(), st.integers(-5, 2**60)),
    st.data(),
)
def test_valid_messages_with_one_field_broken(
    kind: str, ref: int | None, data: st.DataObject
) -> None:
    payload = dict(VALID[kind])
    action = data.draw(st.sampled_from(["replace", "drop", "add"]))
    keys = sorted(payload)
    if action == "replace" and keys:
        payload[data.draw(st.sampled_from(keys))] = data.draw(json_values)
    elif action == "drop" and keys:
        del payload[data.draw(st.sampled_from(keys))]
    else:
        payload[data.draw(st.text(max_size=8))] = data.draw(json_values)
    envelope = {"t": kind, "d": payload} if ref is None else {"t": kind, "id": ref, "d": payload}
    for codec in Codec:
        try:
            raw = (
                orjson.dumps(envelope).decode() if codec is Codec.JSON else msgpack.packb(envelope)
            )
        except (orjson.JSONEncodeError, OverflowError):
            continue
        err = decode_or_error(raw, codec)
        if err is not None and err.path == "id":
            assert ref is not None and not 0 <= ref <= MAX_SAFE_INT
        elif err is not None and err.code is not ErrorCode.FRAME_TOO_LARGE:
            assert err.code in FIELD_CODES, err
            assert err.path is not None and err.path.startswith("d")
            assert err.ref == ref


@settings(max_examples=50)
@given(st.sampled_from(sorted(VALID)), st.integers(1, 20))
def test_huge_frames_are_refused_before_parsing(kind: str, factor: int) -> None:
    padding = "x" * (LIMITS.frame_bytes * factor)
    envelope = {"t": kind, "d": dict(VALID[kind], pad=padding)}
    for codec, raw in (
        (Codec.JSON, orjson.dumps(envelope).decode()),
        (Codec.MSGPACK, msgpack.packb(envelope)),
    ):
        err = decode_or_error(raw, codec)
        assert err is not None and err.code is ErrorCode.FRAME_TOO_LARGE


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=40))
def test_unknown_types(kind: str) -> None:
    err = decode_or_error(orjson.dumps({"t": kind}).decode(), Codec.JSON)
    if kind in CLIENT_MESSAGES:
        return
    assert err is not None and err.code is ErrorCode.UNKNOWN_TYPE

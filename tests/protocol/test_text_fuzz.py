"""Property tests for the text rule: any Unicode, any bytes, in every string field of every
client message, on both codecs.  The decoder either returns a message every string of
which follows the rule (and the field holds exactly what was sent), or raises a
:class:`ProtocolError` with a documented code — never anything else."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgpack
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from server.config import LimitSettings
from server.protocol import Codec, ErrorCode, ProtocolError, decode_frame, to_plain
from server.text import is_acceptable, text_problem
from tests.protocol.fields import (
    LITERAL_FIELDS,
    STRING_FIELDS,
    payload_with,
    strings_in,
    wire_path,
)

LIMITS = LimitSettings(frame_bytes=4096, draft_chars=300)
DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text("utf-8")
DOCUMENTED = {
    ErrorCode(c)
    for c in re.findall(r"^\| `([a-z_]+)` \|", DOC, re.M)
    if c in {e.value for e in ErrorCode}
}
FIELDS = STRING_FIELDS + LITERAL_FIELDS
LITERAL_PATHS = {wire_path(p) for _, p in LITERAL_FIELDS}

ODD = [
    "\x00", "\t", "\n", "\r", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\xa0", "\u0301",
    "\u200b", "\u200d", "\u202e", "\u2028", "\ufeff", "\ufdd0", "\ufffd", "\ufffe", "\uffff",
    "\ue000", "\U0001f600", "\U0010fffd", "\U0010ffff", "\ud800", "\udbff", "\udc00", "\udfff",
]  # fmt: skip
chars = st.one_of(
    st.characters(),  # every category but surrogates
    st.characters(codec=None, categories=["Cs"]),  # lone surrogates
    st.characters(max_codepoint=0x9F),  # ASCII and the C0/C1 controls
    st.sampled_from(ODD),
)


def strings(
    alphabet: st.SearchStrategy[str], min_size: int = 0, max_size: int | None = None
) -> st.SearchStrategy[str]:
    """Strings of ``alphabet``: ``st.text()`` would drop most of the surrogates."""
    return st.lists(alphabet, min_size=min_size, max_size=max_size).map("".join)


texts = st.one_of(
    strings(chars, max_size=40),
    st.text(max_size=40),
    st.builds(lambda c, n: c * n, strings(chars, min_size=1, max_size=3), st.integers(1, 1500)),
)


def json_frames(envelope: dict[str, Any]) -> list[str]:
    """The envelope as JSON text, lone surrogates included: escaped (``\\ud800``, what a
    JavaScript client's ``JSON.stringify`` can write) and raw in the str."""
    return [json.dumps(envelope, ensure_ascii=True), json.dumps(envelope, ensure_ascii=False)]


def msgpack_frames(
    envelope: dict[str, Any], path: tuple[str | int, ...], value: str
) -> list[bytes]:
    """The envelope as msgpack; a string msgpack cannot encode (a lone surrogate) is sent
    as its surrogate-passing UTF-8 bytes under a *str* header, as a sloppy encoder would."""
    try:
        return [msgpack.packb(envelope, use_bin_type=True)]
    except UnicodeEncodeError:
        pass
    raw = value.encode("utf-8", "surrogatepass")
    payload = payload_with(envelope["t"], path, raw)
    return [msgpack.packb({**envelope, "d": payload}, use_bin_type=False)]


def pairs_joined(text: str) -> str:
    """``text`` with each high+low surrogate pair read as the one character it encodes,
    as JSON does with ``"\\ud83d\\ude00"``; lone surrogates stay (and must be refused)."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def check(raw: str | bytes, codec: Codec, path: str | None = None, sent: Any = None) -> None:
    try:
        inbound = decode_frame(raw, codec, LIMITS)
    except ProtocolError as exc:
        event(f"{codec.value}: {exc.code.value}")  # see --hypothesis-show-statistics
        assert exc.code in DOCUMENTED, exc
        free_text = path is not None and path not in LITERAL_PATHS
        if exc.code is ErrorCode.BAD_VALUE and isinstance(sent, str) and exc.path == path:
            problem = text_problem(pairs_joined(sent))  # what the server decoded
            assert problem is None or not free_text or exc.message == f"{path}: {problem}"
        return
    except Exception as exc:  # pragma: no cover - what the test looks for
        raise AssertionError(f"{type(exc).__name__} escaped the decoder: {exc}") from exc
    event(f"{codec.value}: decoded")
    plain = to_plain(inbound.msg)
    assert all(is_acceptable(s) for s in strings_in(plain))
    if isinstance(sent, str) and path is not None:  # the field holds exactly what was sent
        node = plain
        for part in re.findall(r"\w+", path.removeprefix("d")):
            node = node[int(part)] if part.isdigit() else node[part]
        assert node == pairs_joined(sent)


def test_every_code_the_decoder_raises_is_documented() -> None:
    assert {ErrorCode.BAD_VALUE, ErrorCode.BAD_JSON, ErrorCode.BAD_MSGPACK} <= DOCUMENTED


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), texts)
def test_any_text_in_any_string_field(field: tuple[str, tuple[str | int, ...]], value: str) -> None:
    kind, path = field
    envelope = {"t": kind, "id": 1, "d": payload_with(kind, path, value)}
    for raw in json_frames(envelope):
        check(raw, Codec.JSON, wire_path(path), value)
    for packed in msgpack_frames(envelope, path, value):
        check(packed, Codec.MSGPACK, wire_path(path), value)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), st.binary(max_size=60), st.booleans())
def test_any_bytes_in_any_string_field(
    field: tuple[str, tuple[str | int, ...]], value: bytes, as_str: bool
) -> None:
    """Bytes under a bin header (a wrong type) or a str header (maybe not UTF-8); on the
    JSON codec, the same bytes read with ``surrogateescape`` (lone surrogates in a str)."""
    kind, path = field
    packed = msgpack.packb(
        {"t": kind, "d": payload_with(kind, path, value)}, use_bin_type=not as_str
    )
    check(packed, Codec.MSGPACK, wire_path(path))
    text = value.decode("utf-8", "surrogateescape")
    check(
        json.dumps({"t": kind, "d": payload_with(kind, path, text)}),
        Codec.JSON,
        wire_path(path),
        text,
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIELDS),
    st.dictionaries(texts, texts, max_size=4),
    texts,
)
def test_any_text_in_keys_types_and_unknown_fields(
    field: tuple[str, tuple[str | int, ...]], extra: dict[str, str], kind_noise: str
) -> None:
    kind, _ = field
    payload = {**payload_with(kind, field[1], "ok"), **extra}
    for envelope in ({"t": kind, "d": payload, **extra}, {"t": kind + kind_noise, "d": payload}):
        for raw in json_frames(envelope):
            check(raw, Codec.JSON)
        try:
            packed = msgpack.packb(envelope, use_bin_type=True)
        except UnicodeEncodeError:
            continue
        check(packed, Codec.MSGPACK)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_random_msgpack_bytes(raw: bytes) -> None:
    check(raw, Codec.MSGPACK)


@settings(max_examples=200)
@given(strings(chars, max_size=400))
def test_random_json_text(raw: str) -> None:
    check(raw, Codec.JSON)
    snapshot = json.dumps({"t": "draft.edit", "d": {"seq": 1, "snapshot": raw}})
    check(snapshot, Codec.JSON, "d.snapshot", raw)

"""The text rule at the protocol boundary: every string field of every client message,
both codecs.  Refused characters get ``bad_value``, the field's path and a message naming
the character; accepted oddities arrive exactly as sent."""

from __future__ import annotations

from typing import Any

import msgpack
import orjson
import pytest

from server.config import LimitSettings
from server.protocol import Codec, ErrorCode, ProtocolError, decode_frame, to_plain
from server.text import is_acceptable
from tests.protocol.fields import (
    LITERAL_FIELDS,
    STRING_FIELDS,
    payload_with,
    strings_in,
    wire_path,
)

LIMITS = LimitSettings(frame_bytes=65536, draft_chars=20000)

REFUSED = [
    "\x00",  # PostgreSQL text cannot hold it
    "\x01",
    "\x08",
    "\x0b",  # vertical tab
    "\x0c",  # form feed
    "\r",  # clients send \n line ends
    "\x1b",  # escape
    "\x1f",
    "\x7f",  # delete
    "\x80",
    "\x85",  # next line (C1)
    "\x9f",
    "\ufdd0",  # non-characters
    "\ufdef",
    "\ufffe",
    "\uffff",
    "\U0001fffe",
    "\U0010ffff",
]
ACCEPTED = [
    "\t",
    "\n",
    "\u00a0",  # no-break space
    "e\u0301",  # combining acute accent
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # bidi isolates
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width characters
    "👩\u200d👩\u200d👧",  # a ZWJ family
    "🏳️\u200d🌈",
    "\ue000\U000f0000\U0010fffd",  # private use
    "\ufffd",
    "𝒜𝔅",  # astral
    "مرحبا שלום",
    "\u2028\u2029",
]

FIELDS = [(kind, path) for kind, path in STRING_FIELDS]


def test_the_tables_cover_every_string_field() -> None:
    shown = {(k, wire_path(p)) for k, p in STRING_FIELDS}
    assert shown == {
        ("session.resume", "d.session_token"),
        ("match.join", "d.seat_token"),
        ("draft.edit", "d.snapshot"),
        ("draft.edit", "d.ops[0].insert"),
        ("review.submit", "d.assignment_id"),
        ("review.submit", "d.strength"),
        ("review.submit", "d.suggestion"),
        ("lobby.join", "d.code"),
        ("lobby.watch", "d.lobby_id"),
        ("lobby.kick", "d.player_id"),
        ("lobby.message", "d.text"),
        ("spectate.join", "d.match_id"),
    }
    assert {(k, wire_path(p)) for k, p in LITERAL_FIELDS} == {("queue.join", "d.mode")}


def frame(codec: Codec, kind: str, payload: dict[str, Any]) -> str | bytes:
    envelope = {"t": kind, "id": 5, "d": payload}
    if codec is Codec.JSON:
        return orjson.dumps(envelope).decode()
    packed: bytes = msgpack.packb(envelope, use_bin_type=True)
    return packed


def value_at(msg: Any, path: tuple[str | int, ...]) -> Any:
    node = to_plain(msg)
    for part in path:
        node = node[part]
    return node


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize(("kind", "path"), FIELDS, ids=[f"{k}:{wire_path(p)}" for k, p in FIELDS])
@pytest.mark.parametrize("ch", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_refused_characters_are_bad_value(
    codec: Codec, kind: str, path: tuple[str | int, ...], ch: str
) -> None:
    raw = frame(codec, kind, payload_with(kind, path, "ab" + ch + "cd"))
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, codec, LIMITS)
    err = info.value
    where = wire_path(path)
    assert (err.code, err.path, err.ref) == (ErrorCode.BAD_VALUE, where, 5), err.message
    assert err.message.startswith(f"{where}: contains U+{ord(ch):04X} ")
    assert "at position 2" in err.message


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize(("kind", "path"), FIELDS, ids=[f"{k}:{wire_path(p)}" for k, p in FIELDS])
@pytest.mark.parametrize("text", ACCEPTED, ids=[f"U+{ord(t[0]):04X}" for t in ACCEPTED])
def test_accepted_oddities_arrive_as_sent(
    codec: Codec, kind: str, path: tuple[str | int, ...], text: str
) -> None:
    value = "x" + text + "y"  # never blank, so reviews pass their own rule
    inbound = decode_frame(frame(codec, kind, payload_with(kind, path, value)), codec, LIMITS)
    assert value_at(inbound.msg, path) == value  # not normalised, not trimmed
    assert all(is_acceptable(s) for s in strings_in(to_plain(inbound.msg)))


@pytest.mark.parametrize("codec", list(Codec))
def test_a_literal_field_with_a_control_character_is_bad_value(codec: Codec) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(frame(codec, "queue.join", {"mode": "ranked\x00"}), codec, LIMITS)
    assert (info.value.code, info.value.path) == (ErrorCode.BAD_VALUE, "d.mode")


@pytest.mark.parametrize(
    "raw",
    [
        '{"t":"session.resume","d":{"session_token":"\\ud800"}}',  # lone high surrogate
        '{"t":"session.resume","d":{"session_token":"a\\udfffb"}}',  # lone low surrogate
        '{"t":"session.resume","d":{"\\ud800":1,"session_token":"t"}}',  # in a key
        '{"t":"session.resume\\ud800"}',
    ],
)
def test_json_lone_surrogates_never_get_through(raw: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, Codec.JSON, LIMITS)
    assert info.value.code is ErrorCode.BAD_JSON
    # the same, as a str frame that holds the surrogate itself (not UTF-8 at all)
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw.encode().decode("unicode_escape"), Codec.JSON, LIMITS)
    assert info.value.code is ErrorCode.BAD_JSON


@pytest.mark.parametrize("where", ["value", "key"])
def test_msgpack_surrogates_as_utf8_bytes_never_get_through(where: str) -> None:
    bad = "\ud800".encode("utf-8", "surrogatepass")  # b"\xed\xa0\x80": not UTF-8
    payload: dict[Any, Any] = (
        {"session_token": bad} if where == "value" else {bad: 1, "session_token": "t"}
    )
    # use_bin_type=False packs bytes with the *str* header, as a careless client would
    raw = msgpack.packb({"t": "session.resume", "d": payload}, use_bin_type=False)
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, Codec.MSGPACK, LIMITS)
    assert info.value.code is ErrorCode.BAD_MSGPACK


@pytest.mark.parametrize("codec", list(Codec))
def test_unknown_keys_with_controls_are_ignored_not_kept(codec: Codec) -> None:
    payload = {"session_token": "tok", "x\x00": "\x00", "\r": ["\x7f"]}
    inbound = decode_frame(frame(codec, "session.resume", payload), codec, LIMITS)
    assert to_plain(inbound.msg) == {"session_token": "tok"}


@pytest.mark.parametrize("codec", list(Codec))
def test_a_control_character_in_the_type_is_unknown_type(codec: Codec) -> None:
    raw = frame(codec, "ping\x00", {})
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, codec, LIMITS)
    assert info.value.code is ErrorCode.UNKNOWN_TYPE
    assert "\x00" not in info.value.message  # shown escaped


def test_too_long_is_refused_before_the_content_is_looked_at() -> None:
    raw = frame(Codec.JSON, "draft.edit", {"seq": 1, "snapshot": "\x00" * 20001})
    with pytest.raises(ProtocolError) as info:
        decode_frame(raw, Codec.JSON, LimitSettings(frame_bytes=1 << 20, draft_chars=20000))
    assert info.value.code is ErrorCode.DRAFT_TOO_LONG

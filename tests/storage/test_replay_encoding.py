"""A replay encoded from the log's packed records is the one encoded from the records."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from server.game.draft import EditRecord
from server.protocol.client import EditOp
from server.protocol.schema import to_plain
from server.realtime.store import pack
from server.storage.matches import (
    decode_replay,
    encode_edits,
    encode_packed_replay,
    encode_replay,
)

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
records = st.lists(
    st.fixed_dictionaries({"at": st.floats(0, 2e9), "k": st.text(max_size=12), "d": values}),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(records)
def test_packed_and_plain_encodings_agree(log: list[dict[str, Any]]) -> None:
    packed = encode_packed_replay([pack(r) for r in log])
    assert packed == encode_replay(log)
    assert decode_replay(packed) == log


edit_ops = st.builds(
    EditOp, pos=st.integers(0, 10_000), insert=st.text(max_size=8), delete=st.integers(0, 50)
)
edit_records = st.lists(
    st.builds(
        EditRecord,
        at=st.floats(0, 2e9),
        seq=st.integers(1, 10_000),
        ops=st.none() | st.tuples(edit_ops) | st.tuples(edit_ops, edit_ops),
        snapshot=st.none() | st.text(max_size=20),
        paste=st.booleans(),
    ),
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(edit_records)
def test_edit_logs_encode_as_their_plain_form(edits: list[EditRecord]) -> None:
    assert encode_edits(edits) == bytes(msgpack.packb([to_plain(asdict(e)) for e in edits]))

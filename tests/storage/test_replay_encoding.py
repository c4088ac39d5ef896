"""A replay encoded from the log's packed records is the one encoded from the records."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.realtime.store import pack
from server.storage.matches import decode_replay, encode_packed_replay, encode_replay

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

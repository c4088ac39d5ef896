"""Draft edits: sequence numbers, gaps, pastes, length cap, unicode, replay of the edit log."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import InvalidTransition
from server.game.draft import (
    Draft,
    EditOutcome,
    EditRecord,
    apply_edit,
    apply_ops,
    is_empty,
    replay_edits,
    word_count,
)
from server.protocol.client import EditOp
from server.text import is_acceptable

PASTE = 10
MAX = 50


def op(pos: int, insert: str = "", delete: int = 0) -> EditOp:
    return EditOp(pos=pos, insert=insert, delete=delete)


@dataclass(slots=True)
class Logged(Draft):
    """A draft that keeps its edit log beside it (the engine keeps it in the match log)."""

    edits: list[EditRecord] = field(default_factory=list)


def edit(
    draft: Logged,
    seq: int,
    *ops: EditOp,
    snapshot: str | None = None,
    paste: bool = False,
    at: float = 0.0,
) -> EditOutcome:
    return apply_edit(
        draft,
        seq=seq,
        ops=ops if snapshot is None else None,
        snapshot=snapshot,
        paste=paste,
        at=at,
        paste_chars=PASTE,
        max_chars=MAX,
        edits=draft.edits,
    )


@pytest.mark.parametrize(
    ("text", "ops", "expected"),
    [
        ("", [op(0, "abc")], "abc"),
        ("abc", [op(3, "d")], "abcd"),
        ("abc", [op(1, "X", 1)], "aXc"),
        ("abc", [op(0, "", 3)], ""),
        ("abc", [op(1, "12"), op(0, "", 1)], "12bc"),
        ("héllo", [op(1, "", 1)], "hllo"),  # one code point, two UTF-8 bytes
        ("a😀b", [op(2, "", 1)], "a😀"),  # an astral character is one position
        ("a😀b", [op(1, "🌊")], "a🌊😀b"),
        ("abc", [op(4, "x")], None),  # past the end
        ("abc", [op(2, "", 2)], None),  # deletes past the end
        ("", [op(0, "", 0)], ""),
    ],
)
def test_apply_ops(text: str, ops: list[EditOp], expected: str | None) -> None:
    assert apply_ops(text, ops) == expected


# (seq sent, ops or snapshot, expected outcome, text after, seq after)
SEQUENCE_TABLE = [
    pytest.param([(1, [op(0, "ab")], None)], [EditOutcome.APPLIED], "ab", 1, id="first edit"),
    pytest.param(
        [(1, [op(0, "ab")], None), (1, [op(0, "ab")], None)],
        [EditOutcome.APPLIED, EditOutcome.DUPLICATE],
        "ab",
        1,
        id="duplicate ignored",
    ),
    pytest.param(
        [(1, [op(0, "a")], None), (2, [op(1, "b")], None), (1, [op(0, "zzz")], None)],
        [EditOutcome.APPLIED, EditOutcome.APPLIED, EditOutcome.DUPLICATE],
        "ab",
        2,
        id="stale ignored",
    ),
    pytest.param(
        [(1, [op(0, "a")], None), (3, [op(1, "c")], None)],
        [EditOutcome.APPLIED, EditOutcome.GAP],
        "a",
        1,
        id="gap asks for snapshot",
    ),
    pytest.param(
        [(1, [op(0, "a")], None), (3, [op(1, "c")], None), (4, [op(2, "d")], None)],
        [EditOutcome.APPLIED, EditOutcome.GAP, EditOutcome.AWAITING_SNAPSHOT],
        "a",
        1,
        id="asked once per divergence",
    ),
    pytest.param(
        [
            (1, [op(0, "a")], None),
            (3, [op(1, "c")], None),
            (4, None, "abcd"),
            (5, [op(4, "e")], None),
        ],
        [EditOutcome.APPLIED, EditOutcome.GAP, EditOutcome.APPLIED, EditOutcome.APPLIED],
        "abcde",
        5,
        id="snapshot heals a gap",
    ),
    pytest.param(
        [(1, [op(5, "a")], None)],
        [EditOutcome.BAD_RANGE],
        "",
        0,
        id="out of range asks for snapshot",
    ),
    pytest.param(
        [(1, [op(0, "a")], None), (2, [op(9, "a")], None), (2, None, "snap")],
        [EditOutcome.APPLIED, EditOutcome.BAD_RANGE, EditOutcome.APPLIED],
        "snap",
        2,
        id="snapshot after bad range",
    ),
    pytest.param(
        [(7, None, "jump")],
        [EditOutcome.APPLIED],
        "jump",
        7,
        id="snapshot applies across a gap",
    ),
    pytest.param(
        [(2, None, "new"), (2, None, "old")],
        [EditOutcome.APPLIED, EditOutcome.DUPLICATE],
        "new",
        2,
        id="duplicate snapshot",
    ),
]


@pytest.mark.parametrize(("edits", "outcomes", "text", "seq"), SEQUENCE_TABLE)
def test_sequence_rules(
    edits: list[tuple[int, list[EditOp] | None, str | None]],
    outcomes: list[EditOutcome],
    text: str,
    seq: int,
) -> None:
    draft = Logged()
    got = [edit(draft, s, *(ops or ()), snapshot=snap) for s, ops, snap in edits]
    assert got == outcomes
    assert (draft.text, draft.seq) == (text, seq)
    assert replay_edits(draft.edits) == draft.text


@pytest.mark.parametrize(
    ("before", "ops", "snapshot", "flag", "pasted"),
    [
        ("", [op(0, "x" * (PASTE - 1))], None, False, False),
        ("", [op(0, "x" * PASTE)], None, False, True),  # at the threshold
        ("", [op(0, "short")], None, True, True),  # the client says it pasted
        ("", [op(0, "x" * 5), op(5, "y" * 5)], None, False, False),  # small inserts add up
        ("abc", None, "abc" + "z" * PASTE, False, True),  # a snapshot that grows a lot
        ("abc" + "z" * 20, None, "abc", False, False),  # a snapshot that shrinks
    ],
)
def test_paste_flags(
    before: str, ops: list[EditOp] | None, snapshot: str | None, flag: bool, pasted: bool
) -> None:
    draft = Logged(text=before)
    assert edit(draft, 1, *(ops or ()), snapshot=snapshot, paste=flag) is EditOutcome.APPLIED
    assert draft.edits[-1].paste is pasted
    assert draft.paste_count == int(pasted)
    if pasted and ops:
        assert draft.pasted_chars == sum(len(o.insert) for o in ops)


@pytest.mark.parametrize(
    ("ops", "snapshot"),
    [
        ([op(0, "x" * (MAX + 1))], None),
        ([op(0, "x" * MAX), op(0, "y")], None),
        (None, "😀" * (MAX + 1)),
    ],
)
def test_over_long_is_refused_and_changes_nothing(
    ops: list[EditOp] | None, snapshot: str | None
) -> None:
    draft = Logged()
    edit(draft, 1, op(0, "keep"))
    with pytest.raises(InvalidTransition) as info:
        edit(draft, 2, *(ops or ()), snapshot=snapshot)
    assert info.value.code == "draft_too_long"
    assert (draft.text, draft.seq, len(draft.edits), draft.awaiting_snapshot) == (
        "keep",
        1,
        1,
        False,
    )


def test_exactly_max_is_accepted() -> None:
    draft = Logged()
    assert edit(draft, 1, snapshot="é" * MAX) is EditOutcome.APPLIED


def test_edit_log_keeps_times_and_replays_up_to_a_moment() -> None:
    draft = Logged()
    edit(draft, 1, op(0, "The "), at=1.0)
    edit(draft, 2, op(4, "sea"), at=2.5)
    edit(draft, 3, op(0, "", 4), at=4.0)
    assert [e.at for e in draft.edits] == [1.0, 2.5, 4.0]
    assert replay_edits(draft.edits, upto=0.5) == ""
    assert replay_edits(draft.edits, upto=3.0) == "The sea"
    assert replay_edits(draft.edits) == "sea"


@pytest.mark.parametrize(
    ("text", "words", "empty"),
    [
        ("", 0, True),
        ("   \n\t", 0, True),
        ("one", 1, False),
        (" two  words\n", 2, False),
        ("tab\tand\nnewline", 3, False),
        ("no\u00a0break", 2, False),  # U+00A0 is white space
        ("em\u2003space\u3000ideographic", 3, False),  # U+2000–U+200A, U+3000
        ("line\u2028para\u2029graph", 3, False),
        ("narrow\u202fno-break\u205fmath", 3, False),
        ("\u1680ogham", 1, False),
        ("\u00a0\u2003\u3000", 0, True),  # only white space: empty
        ("zero\u200bwidth", 1, False),  # U+200B, U+200D, U+2060, U+FEFF join
        ("joined\u200d\u2060\ufeffword", 1, False),
        ("\u200b", 1, False),  # not white space, so a word, and not empty
        ("👩\u200d👩\u200d👧 family", 2, False),
        ("e\u0301te\u0301", 1, False),  # combining marks are inside a word
        ("\u202eright-to-left\u202c text", 2, False),
        ("中文没有空格", 1, False),  # no spaces, one word (as counted here)
        ("\ue000 \U0010fffd", 2, False),
    ],
)
def test_word_count_and_empty(text: str, words: int, empty: bool) -> None:
    assert word_count(text) == words
    assert is_empty(text) is empty


def test_words_split_on_exactly_the_documented_white_space() -> None:
    """docs/protocol.md lists the separators; for accepted text they are all there are."""
    documented = {0x09, 0x0A, 0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029}
    documented |= {0x202F, 0x205F, 0x3000}
    splitting = {
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF and is_acceptable(chr(cp)) and word_count(f"a{chr(cp)}b") == 2
    }
    assert splitting == documented


def test_a_divergence_keeps_its_reason_while_awaiting() -> None:
    draft = Logged()
    edit(draft, 1, op(0, "ab"))
    assert edit(draft, 2, op(9, "x")) is EditOutcome.BAD_RANGE
    assert edit(draft, 5, op(0, "y")) is EditOutcome.AWAITING_SNAPSHOT
    assert (draft.awaiting_snapshot, draft.awaiting_reason, draft.seq) == (True, "bad_range", 1)
    assert edit(draft, 6, snapshot="abc") is EditOutcome.APPLIED
    assert not draft.awaiting_snapshot
    assert edit(draft, 8, op(0, "z")) is EditOutcome.GAP
    assert draft.awaiting_reason == "gap"


# --- property: any edit sequence, replayed from the log, gives the same text ----------

ALPHABET = st.sampled_from(["a", "b", " ", "\n", "é", "😀", "中"])


@st.composite
def edit_sequences(draw: st.DrawFn) -> list[tuple[int, list[EditOp] | None, str | None]]:
    """Edits as a client would send them, plus duplicates, stale resends, gaps and snapshots."""
    text, seq = "", 0
    out: list[tuple[int, list[EditOp] | None, str | None]] = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["ops", "ops", "ops", "snapshot", "dup", "gap", "wild"]))
        if kind == "snapshot":
            seq += 1
            text = draw(st.text(ALPHABET, max_size=30))
            out.append((seq, None, text))
        elif kind == "dup" and out:
            out.append(draw(st.sampled_from(out)))
        elif kind == "gap":
            out.append((seq + draw(st.integers(2, 4)), [op(0, "g")], None))
        elif kind == "wild":  # possibly out of range
            out.append(
                (seq + 1, [op(draw(st.integers(0, 40)), "w", draw(st.integers(0, 5)))], None)
            )
        else:
            ops = []
            for _ in range(draw(st.integers(1, 3))):
                pos = draw(st.integers(0, len(text)))
                delete = draw(st.integers(0, len(text) - pos))
                insert = draw(st.text(ALPHABET, max_size=12))
                ops.append(op(pos, insert, delete))
                text = text[:pos] + insert + text[pos + delete :]
            seq += 1
            out.append((seq, ops, None))
    return out


@settings(max_examples=200, deadline=None)
@given(edit_sequences())
def test_random_edit_sequences_replay_to_the_same_text(
    edits: list[tuple[int, list[EditOp] | None, str | None]],
) -> None:
    draft = Logged()
    for i, (seq, ops, snapshot) in enumerate(edits):
        with contextlib.suppress(InvalidTransition):
            edit(draft, seq, *(ops or ()), snapshot=snapshot, at=float(i))
        assert len(draft.text) <= MAX
    assert replay_edits(draft.edits) == draft.text
    assert [e.seq for e in draft.edits] == sorted({e.seq for e in draft.edits})


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_in_order_edits_reproduce_the_clients_text(data: st.DataObject) -> None:
    client, draft = "", Logged()
    for seq in range(1, data.draw(st.integers(1, 20)) + 1):
        pos = data.draw(st.integers(0, len(client)))
        delete = data.draw(st.integers(0, len(client) - pos))
        insert = data.draw(st.text(ALPHABET, max_size=3))
        if len(client) - delete + len(insert) > MAX:
            break
        client = client[:pos] + insert + client[pos + delete :]
        assert edit(draft, seq, op(pos, insert, delete)) is EditOutcome.APPLIED
    assert draft.text == client == replay_edits(draft.edits)

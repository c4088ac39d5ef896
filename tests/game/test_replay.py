"""The match log, replay, snapshots and restore after a node restart."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import InvalidTransition
from server.game import (
    Attach,
    Checkpoint,
    Detach,
    EditDraft,
    Leave,
    Match,
    Moderate,
    Persist,
    Phase,
    ScorePiece,
    drafts_at,
    replay,
    replay_edits,
    seat_edits,
)
from server.protocol.client import EditOp
from server.realtime.store import pack, unpack_edits
from tests.game.helpers import T0, Driver, config, players

P = players(5)


def roundtrip(value: object) -> object:
    return msgpack.unpackb(msgpack.packb(value), raw=False, strict_map_key=False)


def played(auto_ai: bool = True) -> Driver:
    d = Driver.start(config(5), auto_ai=auto_ai)
    d.lobby()
    for i, p in enumerate(P):
        d.now += 0.7
        d.write(p, f"Seat {i} saw the light turn. ")
        d.now += 0.7
        d.write(p, "Then the storm came in. " * (i + 1), paste=i == 4)
    d.handle(Detach(P[2]))
    d.handle(EditDraft(P[1], 9, ops=(EditOp(pos=0, insert="gap"),)))  # asks for a snapshot
    d.handle(EditDraft(P[1], 10, snapshot="Rewritten after a gap."))
    d.handle(Leave(P[3]))
    d.advance(243)
    d.release()
    d.review_all()
    d.release()
    d.advance(40)
    return d


def test_log_and_snapshots_are_msgpack_plain_data() -> None:
    d = played()
    assert roundtrip(d.match.log) == d.match.log
    snap = d.match.to_snapshot()
    assert roundtrip(snap) == snap
    assert [e.record for e in d.effects if isinstance(e, Persist)] == d.match.log


def test_replay_reproduces_every_effect_and_the_final_state() -> None:
    d = played()
    assert d.match.phase is Phase.CLOSED
    match, effects = replay(roundtrip(d.match.log))  # type: ignore[arg-type]
    assert effects == d.effects
    assert match.state == d.match.state
    assert match.log == d.match.log


def test_replay_with_the_scoring_fallback_needs_no_fallback() -> None:
    d = Driver.start(config(4), auto_ai=False)
    d.lobby()
    d.write(P[0], "Only one piece.")
    d.write(P[1], "And another piece.")
    d.advance(243)
    for eff in list(d.held):
        if isinstance(eff, Moderate):
            d.answer(eff)
    d.review_all()
    d.advance(61)  # the fallback scores everything
    assert d.match.phase is Phase.RESULTS
    match, effects = replay(d.match.log)
    assert match.state == d.match.state and effects == d.effects


def test_restore_from_every_checkpoint_continues_identically() -> None:
    d = played()
    checkpoints = [e.snapshot for e in d.effects if isinstance(e, Checkpoint)]
    assert len(checkpoints) >= 5
    for snap in checkpoints:
        restored = Match.from_snapshot(roundtrip(snap), roundtrip(d.match.log))  # type: ignore[arg-type]
        assert restored.state == d.match.state
        assert restored.log == d.match.log


@pytest.mark.parametrize("cut_fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_restore_mid_phase_from_checkpoint_plus_log_tail(cut_fraction: float) -> None:
    d = played()
    log = d.match.log
    cut = int(len(log) * cut_fraction)
    snaps = [
        e.snapshot for e in d.effects if isinstance(e, Checkpoint) and e.snapshot["log_len"] <= cut
    ]
    restored = Match.from_snapshot(snaps[-1], log[:cut])
    expected, _ = replay(log[:cut])
    assert restored.state == expected.state
    # and it carries on exactly like the live match did
    for rec in log[cut:]:
        restored.apply_record(rec)
    assert restored.state == d.match.state


def test_pending_requests_after_restore() -> None:
    d = Driver.start(config(4), auto_ai=False)
    d.lobby()
    d.write(P[0], "A piece waiting for the AI.")
    d.write(P[1], "Another one.")
    d.advance(243)
    snap = next(e.snapshot for e in reversed(d.effects) if isinstance(e, Checkpoint))
    restored = Match.from_snapshot(snap, d.match.log)
    pending = restored.pending_requests()
    assert sorted(type(e).__name__ for e in pending) == [
        "Moderate",
        "Moderate",
        "ScorePiece",
        "ScorePiece",
    ]
    assert {e.key for e in pending if isinstance(e, Moderate)} == {
        e.key for e in d.held if isinstance(e, Moderate)
    }
    assert {e.piece_id for e in pending if isinstance(e, ScorePiece)} == {"p0", "p1"}


def test_restore_refuses_unknown_versions() -> None:
    d = played()
    snap = dict(d.match.to_snapshot(), v=99)
    with pytest.raises(ValueError):
        Match.from_snapshot(snap, d.match.log)


def test_seat_edits_and_seeking() -> None:
    d = played()
    edits = seat_edits(d.match.log)
    for seat in d.match.state.seats:
        seqs = [e.seq for e in edits[seat.player]]
        assert seqs == sorted(set(seqs))
        assert seqs[-1] == seat.draft.seq
        assert replay_edits(edits[seat.player]) == seat.draft.text
    assert edits[P[4]][-1].paste
    start = d.match.state.write_started_at
    assert start is not None
    assert drafts_at(d.match.log, start) == {p: "" for p in P}
    assert drafts_at(d.match.log, start + 0.8)[P[0]] == "Seat 0 saw the light turn. "
    final = drafts_at(d.match.log, T0 + 10_000)
    assert final == {s.player: s.draft.text for s in d.match.state.seats}
    assert final[P[1]] == "Rewritten after a gap."


# --- property: any sequence of inputs replays to the same match ----------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["type", "snap", "dup", "gap", "leave", "detach", "attach", "wait", "review"]
        ),
        st.integers(0, 3),
        st.floats(0, 90),
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None)
@given(ACTIONS, st.booleans())
def test_any_input_sequence_replays_identically(
    actions: list[tuple[str, int, float]], ai: bool
) -> None:
    d = Driver.start(config(4), auto_ai=ai)
    d.lobby()
    for kind, who, wait in actions:
        p = P[who]
        seat = d.match.seats[p]
        try:
            if kind == "type":
                d.write(p, "word ")
            elif kind == "snap":
                d.handle(EditDraft(p, seat.draft.seq + 1, snapshot=f"snapshot {wait:.0f}"))
            elif kind == "dup":
                d.handle(EditDraft(p, max(1, seat.draft.seq), snapshot="dup"))
            elif kind == "gap":
                d.handle(EditDraft(p, seat.draft.seq + 3, ops=(EditOp(pos=0, insert="g"),)))
            elif kind == "leave":
                d.handle(Leave(p))
            elif kind == "detach":
                d.handle(Detach(p))
            elif kind == "attach":
                d.handle(Attach(p))
            elif kind == "review":
                d.review_all()
            else:
                d.advance(wait)
        except InvalidTransition:
            pass
        if kind == "wait" and not ai:
            d.release()
    d.advance(500)
    d.release()
    d.advance(500)
    assert d.match.phase is Phase.CLOSED
    match, effects = replay(d.match.log)
    assert effects == d.effects
    assert match.state == d.match.state
    # The edit log rebuilt from the edit records alone ends at every seat's draft.
    edits = seat_edits(d.match.log)
    assert {p: replay_edits(e) for p, e in edits.items()} == {
        s.player: s.draft.text for s in d.match.state.seats
    }


def test_forgotten_records_still_count() -> None:
    d = played()
    full, n = list(d.match.log), d.match.log_len
    d.match.forget_log(n - 3)
    assert (d.match.log, d.match.log_len) == (full[-3:], n)
    assert d.match.to_snapshot()["log_len"] == n
    d.match.forget_log(2)  # already gone: nothing changes
    assert (len(d.match.log), d.match.log_len) == (3, n)
    restored = Match.from_snapshot(d.match.to_snapshot(), full)
    assert restored.state == d.match.state and restored.log_len == n


def test_seat_edits_from_the_packed_log_need_only_the_edit_records() -> None:
    d = played()
    packed = [pack(r) for r in d.match.log]
    some = unpack_edits(packed)
    assert len(some) < len(packed)
    assert {r["k"] for r in some} <= {"create", "edit"} | {r["k"] for r in d.match.log}
    assert seat_edits(some) == seat_edits(d.match.log)

"""The match engine driven on a fake clock: phases, drafts, reviews, moderation, scoring."""

from __future__ import annotations

from typing import Any

import pytest

from server.ai.types import ModerationResult, Verdict
from server.errors import InvalidTransition
from server.game import (
    Attach,
    Broadcast,
    Checkpoint,
    Detach,
    EditDraft,
    FlagTeacher,
    Leave,
    Match,
    MatchClosed,
    MatchFinished,
    Moderate,
    Moderated,
    Persist,
    Phase,
    PieceScored,
    Ready,
    ReviewScored,
    ScorePiece,
    ScoreReview,
    SendTo,
    SetTimer,
    SubmitReview,
    seat_edits,
)
from server.protocol import events as ev
from server.protocol.client import EditOp
from server.protocol.schema import to_plain
from server.types import PlayerId
from tests.game.helpers import T0, Driver, config, piece_score, players, review_score

P = players(6)
TEXTS = [
    "The keeper climbed the stairs one last time and counted every step aloud.",
    "Waves hit the glass. The lamp turned. Nobody was coming, and that was fine.",
    "Storm storm storm.",
    "",
]


def written_match(n: int = 4, **kw: object) -> Driver:
    """A match whose seats wrote TEXTS and whose write phase is over."""
    d = Driver.start(config(n, **kw))  # type: ignore[arg-type]
    d.lobby()
    for p, text in zip(P, TEXTS, strict=False):
        if text:
            d.write(p, text)
    d.advance(243)
    return d


def refused(d: Driver, event: object, code: str) -> None:
    before = d.match.to_snapshot()
    with pytest.raises(InvalidTransition) as info:
        d.match.handle(event, d.now)  # type: ignore[arg-type]
    assert info.value.code == code
    assert d.match.to_snapshot() == before  # a refusal changes nothing, not even the log


# --- a whole match -------------------------------------------------------------------


def test_full_match_from_lobby_to_closed() -> None:
    d = Driver.start()
    assert d.match.phase is Phase.LOBBY
    assert d.timers() == [T0 + 10]
    assert isinstance(d.effects[0], Persist) and d.effects[0].record["k"] == "create"
    d.lobby()
    assert d.match.phase is Phase.WRITE
    (prompt,) = d.broadcast(ev.MatchPrompt)
    assert prompt.prompt.focus == "voice"
    write = next(e for e in d.broadcast(ev.MatchPhase) if e.phase == "write")
    assert write.deadline == round((T0 + 240) * 1000)
    assert write.remaining_ms == 240_000
    for p, text in zip(P, TEXTS, strict=False):
        if text:
            d.write(p, text)
    d.advance(243)
    assert d.match.phase is Phase.FEEDBACK
    for p in P[:4]:
        (assigned,) = d.sent(p, ev.ReviewAssignments)
        assert all(a.text for a in assigned.assignments)
    d.review_all()
    assert d.match.phase is Phase.RESULTS  # feedback ended early, AI answered at once
    assert d.phases() == ["write", "feedback", "scoring", "results"]
    (results,) = d.broadcast(ev.MatchResults)
    assert [r.rank for r in results.ranking] == [1, 2, 3, 4]
    assert results.ranking[-1].empty
    assert all(r.rating is not None for r in results.ranking)
    for p in P[:4]:
        assert len(d.sent(p, ev.MatchReport)) == 1
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    assert len(finished.outcome.ratings) == 4
    d.advance(30)
    assert d.match.phase is Phase.CLOSED
    assert [e.reason for e in d.effects if isinstance(e, MatchClosed)] == ["finished"]
    assert d.match.wake_at is None
    kinds = {r["k"] for r in d.match.log if r.get("out")}
    assert kinds == {"phase", "submissions", "assignments", "results", "closed"}


def test_every_phase_change_is_checkpointed() -> None:
    d = written_match()
    d.review_all()
    d.advance(31)
    checkpoints = [e.snapshot for e in d.effects if isinstance(e, Checkpoint)]
    phases = [c["state"]["phase"] for c in checkpoints]
    assert phases == ["lobby", "write", "feedback", "results", "closed"] or phases == [
        "lobby",
        "write",
        "feedback",
        "scoring",
        "results",
        "closed",
    ]


def test_players_are_never_named_in_what_they_receive() -> None:
    d = written_match()
    d.review_all()
    for eff in d.effects:
        if isinstance(eff, Broadcast | SendTo):
            assert "user-" not in repr(to_plain(eff.event))


# --- lobby ---------------------------------------------------------------------------


def test_lobby_waits_for_everyone_ready() -> None:
    d = Driver.start()
    for p in P[:4]:
        d.handle(Attach(p))
    for p in P[:3]:
        d.handle(Ready(p))
    assert d.match.phase is Phase.LOBBY
    d.handle(Ready(P[3]))
    assert d.match.phase is Phase.WRITE


def test_lobby_deadline_drops_no_shows() -> None:
    d = Driver.start()
    d.lobby(P[:3])
    assert d.match.phase is Phase.LOBBY
    d.advance(10)
    assert d.match.phase is Phase.WRITE
    assert d.match.seats[P[3]].dropped == "no_show"
    refused(d, Attach(P[3]), "not_seated")
    d.advance(243)
    d.review_all()
    (results,) = d.broadcast(ev.MatchResults)
    assert len(results.ranking) == 3


def test_lobby_aborts_with_fewer_than_two() -> None:
    d = Driver.start()
    d.lobby(P[:1])
    d.advance(10)
    assert d.match.phase is Phase.CLOSED
    assert [e.reason for e in d.effects if isinstance(e, MatchClosed)] == ["not_enough_players"]
    assert not any(isinstance(e, MatchFinished) for e in d.effects)


def test_leaving_the_lobby_drops_the_seat() -> None:
    d = Driver.start()
    d.lobby(P[:3])
    d.handle(Attach(P[3]))
    d.handle(Leave(P[3]))
    assert d.match.phase is Phase.WRITE  # everyone left is ready
    assert d.match.seats[P[3]].dropped == "left_lobby"


def test_teacher_start() -> None:
    d = Driver.start()
    d.handle(Attach(P[0]))
    d.handle(Attach(P[1]))
    d.run(d.match.start(d.now))
    assert d.match.phase is Phase.WRITE
    refused(d, Ready(P[0]), "wrong_phase")


# --- write ---------------------------------------------------------------------------


def test_edits_are_acked_with_the_held_seq() -> None:
    d = Driver.start()
    d.lobby()
    effects = d.handle(EditDraft(P[0], 1, ops=(EditOp(pos=0, insert="Hi"),), ref=11))
    assert isinstance(effects[0], Persist)  # logged before anything is sent
    assert d.sent(P[0], ev.Ack, effects) == [ev.Ack(id=11, seq=1)]
    effects = d.handle(EditDraft(P[0], 1, ops=(EditOp(pos=0, insert="Hi"),), ref=12))
    assert d.sent(P[0], ev.Ack, effects) == [ev.Ack(id=12, seq=1)]  # duplicate: acked
    assert d.match.seats[P[0]].draft.text == "Hi"


def test_gap_asks_for_a_snapshot_and_every_later_op_edit_asks_again() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], "one ")
    first = d.handle(EditDraft(P[0], 3, ops=(EditOp(pos=4, insert="three"),), ref=30))
    assert d.sent(P[0], ev.DraftSnapshotNeeded, first) == [
        ev.DraftSnapshotNeeded(have_seq=1, reason="gap", ref=30)
    ]
    second = d.handle(EditDraft(P[0], 4, ops=(EditOp(pos=4, insert="four"),), ref=31))
    assert d.sent(P[0], ev.DraftSnapshotNeeded, second) == [
        ev.DraftSnapshotNeeded(have_seq=1, reason="gap", ref=31)
    ]
    d.handle(EditDraft(P[0], 5, snapshot="one two three four"))
    assert d.match.seats[P[0]].draft.text == "one two three four"
    d.write(P[0], "!")
    assert d.match.seats[P[0]].draft.seq == 6


def _edit(
    seq: int, text: str | None = None, pos: int = 0, snapshot: str | None = None
) -> dict[str, Any]:
    ops = None if text is None else (EditOp(pos=pos, insert=text),)
    return {"seq": seq, "ops": ops, "snapshot": snapshot}


# Each row: the edit (seq, ops or snapshot) and its one answer, with the server holding
# "Hi" at seq 1 when the table starts.  ("ack", n): ack {seq: n}; ("need", n, reason):
# draft.snapshot_needed {have_seq: n, reason}; ("refused", code): error, nothing changes.
ANSWERS = [
    pytest.param(
        [
            (_edit(3, "x", 2), ("need", 1, "gap")),
            (_edit(4, "y", 3), ("need", 1, "gap")),
            (_edit(2, "z", 2), ("need", 1, "gap")),  # even the missing seq, once asked
            (_edit(1, "Hi"), ("ack", 1)),  # a duplicate is still acked
            (_edit(5, snapshot="Hi there"), ("ack", 5)),
            (_edit(6, "!", 8), ("ack", 6)),
        ],
        "Hi there!",
        id="gap, then ops while awaiting, then the snapshot",
    ),
    pytest.param(
        [
            (_edit(2, "x", 9), ("need", 1, "bad_range")),
            (_edit(3, "y", 0), ("need", 1, "bad_range")),  # the reason of the divergence
            (_edit(4, snapshot="Hey"), ("ack", 4)),
        ],
        "Hey",
        id="bad range keeps its reason",
    ),
    pytest.param(
        [
            (_edit(2, "x" * 2000, 2), ("refused", "draft_too_long")),
            (_edit(2, " you", 2), ("ack", 2)),  # the refused edit did not use up seq 2
        ],
        "Hi you",
        id="a refused edit uses up no seq",
    ),
    pytest.param(
        [
            (_edit(2, "x" * 2000, 2), ("refused", "draft_too_long")),
            (_edit(3, " you", 2), ("need", 1, "gap")),  # skipping it is a gap
            (_edit(4, snapshot="Hi you"), ("ack", 4)),
        ],
        "Hi you",
        id="a client that counted the refused seq repairs with a snapshot",
    ),
    pytest.param(
        [
            (_edit(3, "x", 2), ("need", 1, "gap")),
            (_edit(4, snapshot="x" * 2001), ("refused", "draft_too_long")),
            (_edit(5, "y", 2), ("need", 1, "gap")),  # still awaiting a snapshot
            (_edit(5, snapshot="Hi!"), ("ack", 5)),
        ],
        "Hi!",
        id="a refused snapshot leaves the request open",
    ),
]


@pytest.mark.parametrize(("rows", "text"), ANSWERS)
def test_every_draft_edit_gets_exactly_one_answer(
    rows: list[tuple[dict[str, Any], tuple[Any, ...]]], text: str
) -> None:
    d = Driver.start()
    d.lobby()
    d.handle(EditDraft(P[0], 1, ops=(EditOp(pos=0, insert="Hi"),)))
    for ref, (fields, answer) in enumerate(rows, start=100):
        event = EditDraft(P[0], ref=ref, **fields)
        if answer[0] == "refused":
            refused(d, event, answer[1])
            continue
        effects = d.handle(event)
        answers = [
            e.event
            for e in effects
            if isinstance(e, SendTo) and isinstance(e.event, ev.Ack | ev.DraftSnapshotNeeded)
        ]
        if answer[0] == "ack":
            assert answers == [ev.Ack(id=ref, seq=answer[1])], fields
        else:
            assert answers == [
                ev.DraftSnapshotNeeded(have_seq=answer[1], reason=answer[2], ref=ref)
            ], fields
    assert d.match.seats[P[0]].draft.text == text


def test_over_long_draft_is_refused() -> None:
    d = Driver.start(config(draft_chars=100))
    d.lobby()
    d.write(P[0], "x" * 90)
    refused(d, EditDraft(P[0], 2, ops=(EditOp(pos=0, insert="y" * 11),)), "draft_too_long")


def test_pastes_are_flagged() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], "a" * 59)
    d.write(P[0], "b" * 60)
    d.write(P[0], "c", paste=True)
    draft = d.match.seats[P[0]].draft
    assert [e.paste for e in seat_edits(d.match.log)[P[0]]] == [False, True, True]
    assert (draft.paste_count, draft.pasted_chars) == (2, 61)
    d.advance(243)
    d.review_all()
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    seat = next(s for s in finished.outcome.seats if s.player == P[0])
    assert (seat.paste_count, seat.pasted_chars) == (2, 61)


def test_edits_in_the_wrong_phase_are_refused() -> None:
    d = Driver.start()
    d.handle(Attach(P[0]))
    refused(d, EditDraft(P[0], 1, snapshot="early"), "wrong_phase")
    refused(d, EditDraft(PlayerId("stranger"), 1, snapshot="x"), "not_seated")


def test_grace_accepts_in_flight_drafts_then_the_deadline_closes() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], "before")
    d.now = T0 + 241.5  # after the deadline, inside the 2 s grace
    d.write(P[0], " in flight")
    d.now = T0 + 242.5  # grace over, the runner has not stepped yet
    refused(d, EditDraft(P[0], 3, snapshot="too late"), "deadline_passed")
    d.step()
    assert d.match.phase is Phase.FEEDBACK
    refused(d, EditDraft(P[0], 3, snapshot="too late"), "deadline_passed")
    piece = next(p for p in d.match.state.pieces if p.writer == P[0])
    assert piece.text == "before in flight"  # the latest draft is the submission


def test_progress_is_batched_once_a_second() -> None:
    d = Driver.start()
    d.lobby()
    d.effects.clear()
    for word in ["one ", "two ", "three "]:
        d.write(P[0], word)
        d.now += 0.1
    assert d.broadcast(ev.MatchProgress) == []
    assert d.timers()[-1] == pytest.approx(T0 + 1.0)
    d.advance(1.0)
    (progress,) = d.broadcast(ev.MatchProgress)
    assert sorted(progress.words.values()) == [0, 0, 0, 3]
    d.advance(5.0)
    assert len(d.broadcast(ev.MatchProgress)) == 1  # nothing new, nothing sent


def _progress_then_feedback(d: Driver) -> list[ev.MatchProgress]:
    """The ``match.progress`` broadcasts of the step that ended writing, checked to come
    right before its ``match.phase`` ``feedback``."""
    end = d.advance(T0 + 242.5 - d.now)  # writing started at T0 and ends at T0 + 240 + 2
    kinds = [type(e.event).__name__ for e in end if isinstance(e, Broadcast)]
    assert kinds[:2] == ["MatchProgress", "MatchPhase"], kinds
    return d.broadcast(ev.MatchProgress, end)


def test_a_final_progress_comes_when_writing_ends_even_if_nothing_changed_lately() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], "one two")
    d.advance(1.0)
    assert len(d.broadcast(ev.MatchProgress)) == 1  # the batched one
    d.effects.clear()
    d.advance(200)
    assert d.broadcast(ev.MatchProgress) == []  # nothing changed: nothing sent while writing
    (final,) = _progress_then_feedback(d)
    assert sorted(final.words.values()) == [0, 0, 0, 2]


def test_a_final_progress_comes_when_nobody_wrote() -> None:
    d = Driver.start()
    d.lobby()
    (final,) = _progress_then_feedback(d)
    assert set(final.words.values()) == {0} and len(final.words) == 4


def test_a_pending_progress_is_not_sent_twice_at_the_end() -> None:
    d = Driver.start()
    d.lobby()
    d.now = T0 + 241.5
    d.write(P[1], "late")
    d.step()  # its batch goes out at once
    d.now = T0 + 241.8
    d.write(P[1], " words")  # dirty; its batch would be due at 242.5, after writing ends
    (final,) = _progress_then_feedback(d)
    assert sorted(final.words.values()) == [0, 0, 0, 2]
    d.effects.clear()
    d.advance(5)
    assert d.broadcast(ev.MatchProgress) == []


def test_leaver_is_scored_on_what_they_wrote_and_does_not_review() -> None:
    d = Driver.start()
    d.lobby()
    for p, text in zip(P, TEXTS[:3], strict=False):
        d.write(p, text)
    d.write(P[3], "A short one that will stay.")
    d.handle(Leave(P[3]))
    refused(d, EditDraft(P[3], 2, snapshot="changed my mind"), "left_match")
    d.advance(243)
    plan = d.match.state.assignments
    assert all(a.reviewer != P[3] for a in plan)
    assert sum(1 for a in plan if a.piece_id == "p3") == 2  # the leaver's piece is reviewed
    d.review_all()
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    leaver = next(s for s in finished.outcome.seats if s.player == P[3])
    assert leaver.left and leaver.rank is not None and leaver.text == "A short one that will stay."
    assert leaver.written == 0


def test_a_seat_that_never_returns_keeps_its_submission() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], TEXTS[0])
    d.handle(Detach(P[0]))
    for p, text in zip(P[1:4], TEXTS[1:3], strict=False):
        d.write(p, text)
    d.advance(243)
    d.review_all(skip=[P[0]])
    d.advance(121)
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    gone = next(s for s in finished.outcome.seats if s.player == P[0])
    assert gone.text == TEXTS[0] and gone.written == 0 and gone.review == 1.0


# --- feedback ------------------------------------------------------------------------


def test_pieces_are_shown_only_after_moderation_and_masked() -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    for p, text in zip(P, TEXTS[:3], strict=False):
        d.write(p, text)
    d.write(P[3], "Call me at 555-0100 tonight.")
    d.advance(243)
    assert d.match.phase is Phase.FEEDBACK
    assert d.broadcast(ev.ReviewAssignments) == [] and d.sent(P[0], ev.ReviewAssignments) == []
    refused(d, SubmitReview(P[0], "a1", "Good.", "More.", 3), "pieces_not_ready")
    mods = [e for e in d.held if isinstance(e, Moderate)]
    assert len(mods) == 4 and len([e for e in d.held if isinstance(e, ScorePiece)]) == 4
    for m in mods:
        text = m.text.replace("555-0100", "[phone]")
        d.handle(Moderated(m.key, _result("mask" if text != m.text else "allow", text)))
    shown = [
        a.text for p in P[:4] for sent in d.sent(p, ev.ReviewAssignments) for a in sent.assignments
    ]
    assert "Call me at [phone] tonight." in shown
    assert not any("555-0100" in t for t in shown)


def _result(verdict: Verdict, text: str, flag: bool = False) -> ModerationResult:
    return ModerationResult(verdict, text, (), flag, "offline")


def test_blocked_piece_is_withheld_and_teacher_flagged() -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    for p, text in zip(P, TEXTS[:3], strict=False):
        d.write(p, text)
    d.write(P[3], "something hurtful")
    d.advance(243)
    for m in [e for e in d.held if isinstance(e, Moderate)]:
        if m.text == "something hurtful":
            d.run(d.match.handle(Moderated(m.key, _result("block", "", flag=True)), d.now))
        else:
            d.handle(Moderated(m.key, _result("allow", m.text)))
    assert [e.player for e in d.effects if isinstance(e, FlagTeacher)] == [P[3]]
    assert all(a.piece_id != "p3" for a in d.match.state.assignments)
    assert any(a.reviewer == P[3] for a in d.match.state.assignments)  # still reviews


def test_moderation_timeout_withholds_and_opens_feedback() -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    for p, text in zip(P, TEXTS[:3], strict=False):
        d.write(p, text)
    d.advance(243)
    first = next(e for e in d.held if isinstance(e, Moderate))
    d.handle(Moderated(first.key, _result("allow", first.text)))
    assert not d.match.state.pieces_ready
    d.advance(20)
    s = d.match.state
    assert s.pieces_ready
    assert [p.withheld for p in s.pieces] == [False, True, True, True]
    assert s.deadline == pytest.approx(d.now + 120)


def test_feedback_deadline_starts_when_pieces_are_ready() -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    d.write(P[0], TEXTS[0])
    d.write(P[1], TEXTS[1])
    d.advance(243)
    d.now += 5
    for m in [e for e in d.held if isinstance(e, Moderate)]:
        d.handle(Moderated(m.key, _result("allow", m.text)))
    ready = [e for e in d.broadcast(ev.MatchPhase) if e.reason == "pieces_ready"]
    assert ready[0].remaining_ms == 120_000


def test_review_refusals() -> None:
    d = written_match()
    mine = next(a for a in d.match.state.assignments if a.reviewer == P[0])
    other = next(a for a in d.match.state.assignments if a.reviewer != P[0])
    refused(d, SubmitReview(P[0], "a999", "x", "y", 3), "unknown_assignment")
    refused(d, SubmitReview(P[0], other.assignment_id, "x", "y", 3), "unknown_assignment")
    effects = d.handle(
        SubmitReview(P[0], mine.assignment_id, "Strong verbs.", "Cut line 2.", 5, ref=9)
    )
    assert ev.Ack(id=9) in d.sent(P[0], ev.Ack, effects)
    refused(d, SubmitReview(P[0], mine.assignment_id, "x", "y", 3), "already_reviewed")
    d.now += 121
    pending = next(a for a in d.match.state.assignments if not a.submitted)
    refused(
        d, SubmitReview(pending.reviewer, pending.assignment_id, "x", "y", 3), "deadline_passed"
    )


def test_each_review_is_moderated_and_judged() -> None:
    d = written_match()
    a = d.match.state.assignments[0]
    effects = d.handle(
        SubmitReview(a.reviewer, a.assignment_id, "Nice rhythm.", "Name the keeper.", 4)
    )
    keys = sorted(e.key for e in effects if isinstance(e, Moderate))
    assert keys == [f"review:{a.assignment_id}:strength", f"review:{a.assignment_id}:suggestion"]
    (judge,) = [e for e in effects if isinstance(e, ScoreReview)]
    assert judge.request.strength == "Nice rhythm." and judge.request.rating == 4


def test_blocked_review_is_not_shown_and_counts_as_unhelpful() -> None:
    d = written_match()
    d.blocked.add("You are stupid.")
    a = next(a for a in d.match.state.assignments if a.reviewer == P[1])
    d.helpfulness[P[1]] = 6
    d.handle(SubmitReview(P[1], a.assignment_id, "You are stupid.", "Quit.", 1))
    d.review_all()
    writer = next(p.writer for p in d.match.state.pieces if p.piece_id == a.piece_id)
    (report,) = d.sent(writer, ev.MatchReport)
    assert all("stupid" not in r.strength for r in report.reviews_received)
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    blocked = next(r for r in finished.outcome.reviews if r.review_id == a.assignment_id)
    assert blocked.withheld and blocked.helpfulness == 1


# --- scoring -------------------------------------------------------------------------


def test_scoring_deadline_falls_back_and_marks_provisional() -> None:
    d = written_match()
    d.auto_ai = False
    d.review_all()
    assert d.match.phase is Phase.SCORING
    d.advance(60)
    assert d.match.phase is Phase.RESULTS
    (results,) = d.broadcast(ev.MatchResults)
    assert any(r.provisional for r in results.ranking)
    # a late answer is ignored, not an error
    late = next(e for e in d.held if isinstance(e, ScoreReview))
    assert d.match.handle(ReviewScored(late.review_id, review_score(6)), d.now) != []  # logged
    assert d.match.state.outcome is not None and d.match.phase is Phase.RESULTS


def test_scoring_waits_for_every_answer() -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    d.write(P[0], TEXTS[0])
    d.write(P[1], TEXTS[1])
    d.advance(243)
    d.release()
    d.review_all()
    assert d.match.phase is Phase.SCORING
    d.release()
    assert d.match.phase is Phase.RESULTS


@pytest.mark.parametrize(
    ("overall", "helpfulness", "ranks"),
    [
        ([5.0, 4.0, 3.0, 2.0], [4, 4, 4, 4], [1, 2, 3, 4]),
        ([4.0, 4.0, 3.0, 2.0], [4, 4, 4, 4], [1, 1, 3, 4]),  # a tie shares a rank
        ([4.0, 4.0, 4.0, 4.0], [6, 1, 4, 4], [1, 4, 2, 2]),  # reviews break the tie
        ([3.0, 3.0, 3.0, 3.0], [3, 3, 3, 3], [1, 1, 1, 1]),
    ],
)
def test_ranking_with_ties(overall: list[float], helpfulness: list[int], ranks: list[int]) -> None:
    d = Driver.start(auto_ai=False)
    d.lobby()
    for p in P[:4]:
        d.write(p, "Some words for the piece.")
    d.advance(243)
    for eff in list(d.held):
        if isinstance(eff, Moderate):
            d.handle(Moderated(eff.key, _result("allow", eff.text)))
        elif isinstance(eff, ScorePiece):
            i = P.index(eff.writer)
            d.handle(PieceScored(eff.piece_id, piece_score(overall[i], focus=round(overall[i]))))
    d.held.clear()
    d.review_all()
    for eff in list(d.held):
        if isinstance(eff, Moderate):
            d.handle(Moderated(eff.key, _result("allow", eff.text)))
        elif isinstance(eff, ScoreReview):
            d.handle(ReviewScored(eff.review_id, review_score(helpfulness[P.index(eff.reviewer)])))
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    by_player = {s.player: s.rank for s in finished.outcome.seats}
    assert [by_player[p] for p in P[:4]] == ranks


def test_practice_matches_do_not_rate_and_bots_are_flagged() -> None:
    practice = written_match(ranked=False)
    practice.review_all()
    (results,) = practice.broadcast(ev.MatchResults)
    assert not results.ranked and all(r.rating is None for r in results.ranking)
    ranked = written_match(bots=(1, 2))
    ranked.review_all()
    (finished,) = [e for e in ranked.effects if isinstance(e, MatchFinished)]
    assert [c.is_bot for c in finished.outcome.ratings] == [False, True, True, False]


def test_all_pieces_empty_skips_to_results() -> None:
    d = Driver.start()
    d.lobby()
    d.advance(243)
    assert d.match.phase is Phase.RESULTS
    (results,) = d.broadcast(ev.MatchResults)
    assert [r.rank for r in results.ranking] == [1, 1, 1, 1]
    assert not any(isinstance(e, ScorePiece | Moderate) for e in d.effects)


# --- resume, teacher controls, abort -------------------------------------------------


def test_attach_resumes_with_a_full_snapshot() -> None:
    d = Driver.start()
    d.lobby()
    d.write(P[0], "half a thought")
    d.handle(Detach(P[0]))
    assert not d.match.seats[P[0]].connected
    effects = d.handle(Attach(P[0]))
    (state,) = d.sent(P[0], ev.MatchState, effects)
    assert state.phase == "write" and state.prompt is not None
    assert state.draft == ev.DraftView(seq=1, text="half a thought", locked=False)
    assert [s.you for s in state.seats] == [True, False, False, False]
    d.advance(243)
    reviewer = d.match.state.assignments[0].reviewer
    (state,) = d.sent(reviewer, ev.MatchState, d.handle(Attach(reviewer)))
    assert state.phase == "feedback" and state.draft is not None and state.draft.locked
    (assignment,) = state.assignments  # only P[0] wrote something
    assert assignment.text == "half a thought" and not assignment.submitted
    d.review_all()
    (state,) = d.sent(P[0], ev.MatchState, d.handle(Attach(P[0])))
    assert state.results is not None and state.report is not None


def test_pause_resume_extend() -> None:
    d = Driver.start()
    d.lobby()
    d.now += 100
    d.run(d.match.pause(d.now))
    (paused,) = [e for e in d.broadcast(ev.MatchPhase) if e.reason == "paused"]
    assert paused.paused and paused.deadline is None and paused.remaining_ms == 140_000
    with pytest.raises(InvalidTransition) as info:
        d.match.pause(d.now)
    assert info.value.code == "paused"
    d.advance(500)  # the clock is stopped
    assert d.match.phase is Phase.WRITE
    d.write(P[0], "still typing")  # drafts are accepted while paused
    d.run(d.match.resume(d.now))
    assert d.match.state.deadline == pytest.approx(T0 + 740)
    d.run(d.match.extend(60, d.now))
    assert d.match.state.deadline == pytest.approx(T0 + 800)
    d.advance(199)
    assert d.match.phase is Phase.WRITE
    d.advance(3)
    assert d.match.phase is Phase.FEEDBACK
    with pytest.raises(InvalidTransition) as info:
        d.match.resume(d.now)
    assert info.value.code == "not_paused"


def test_controls_are_refused_after_feedback() -> None:
    d = written_match()
    d.auto_ai = False
    d.review_all()
    assert d.match.phase is Phase.SCORING
    for call in (d.match.pause, d.match.resume):
        with pytest.raises(InvalidTransition) as info:
            call(d.now)
        assert info.value.code == "wrong_phase"


def test_abort_closes_without_results() -> None:
    d = Driver.start()
    d.lobby()
    d.run(d.match.abort(d.now, "teacher_ended"))
    assert d.match.phase is Phase.CLOSED
    assert [e.reason for e in d.effects if isinstance(e, MatchClosed)] == ["teacher_ended"]
    refused(d, EditDraft(P[0], 1, snapshot="x"), "match_closed")
    with pytest.raises(InvalidTransition):
        d.match.abort(d.now)


def test_timers_follow_the_phases() -> None:
    d = written_match()
    timers = d.timers()
    assert T0 + 10 in timers and T0 + 242 in timers
    assert all(isinstance(t, float) for t in timers)
    assert d.match.wake_at == pytest.approx(d.match.state.deadline)


def test_create_validates_seats() -> None:
    from dataclasses import replace

    cfg = config(4)
    with pytest.raises(ValueError):
        Match.create(replace(cfg, seats=cfg.seats[:1]), T0)
    with pytest.raises(ValueError):
        Match.create(replace(cfg, seats=cfg.seats + cfg.seats[:1]), T0)


def test_idle_step_does_nothing() -> None:
    d = Driver.start()
    d.lobby()
    log_len = len(d.match.log)
    assert d.match.step(d.now + 1) == []
    assert len(d.match.log) == log_len
    assert not any(isinstance(e, SetTimer) for e in d.match.step(d.now + 2))

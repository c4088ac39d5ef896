"""Phase flow of a match: starting, submissions, moderation, reviews, scoring, closing.

Functions over a :class:`server.game.match.Match` (which owns the state and the effect
list); only the match calls them.

- write → feedback: every seat's latest draft is its submission.  Empty pieces get
  :func:`empty_piece_score` at once and are never shown; the others go to moderation
  (``Moderate``) and to the scorer (``ScorePiece``) right away, so scoring overlaps the
  feedback phase.
- feedback opens its clock when every piece is moderated (or ``timings.moderation_wait``
  passed: unmoderated pieces are then withheld, never shown raw).  Pieces blocked by
  moderation are withheld too.  The visible pieces are assigned with
  :func:`assign_reviews` to the seats still playing; each reviewer gets
  ``review.assignments``.  Feedback ends at its deadline or when every assignment of the
  seats still playing is done.
- each review is moderated (strength and suggestion apart) and judged (``ScoreReview``)
  as soon as it is submitted; the writer sees it only in the results, as moderated.
- scoring ends when every score and review moderation is in, or at its deadline: the
  fallback scores what is missing (logged as ordinary ``PieceScored``/``ReviewScored``
  inputs), unmoderated reviews are withheld.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.ai.types import PieceRequest, ReviewRequest
from server.errors import InvalidTransition
from server.game.assign import assign_reviews
from server.game.draft import is_empty, word_count
from server.game.effects import (
    Broadcast,
    Effect,
    FlagTeacher,
    MatchClosed,
    MatchFinished,
    Moderate,
    ScorePiece,
    ScoreReview,
    SendTo,
)
from server.game.inputs import Moderated, PieceScored, ReviewScored, SubmitReview
from server.game.phases import Phase
from server.game.plain import dump
from server.game.results import compute_outcome
from server.game.scoring import empty_piece_score
from server.game.state import AssignmentState, PieceState, ReviewState
from server.game.views import (
    assignment_views,
    phase_event,
    progress_event,
    prompt_view,
    report_event,
    results_event,
)
from server.protocol import events as ev
from server.protocol.errors import RefusalCode
from server.types import PlayerId

if TYPE_CHECKING:
    from server.game.match import Match

MIN_SEATS_TO_START = 2


# --- lobby → write -------------------------------------------------------------------


def start_if_all_ready(m: Match, now: float) -> None:
    playing = [s for s in m.state.seats if s.dropped is None]
    if playing and all(s.attached and s.ready for s in playing):
        start_write(m, now, "all_ready")


def start_write(m: Match, now: float, reason: str) -> None:
    """Leave the lobby: seats that never attached are dropped as no-shows."""
    for seat in m.state.seats:
        if seat.dropped is None and not seat.attached:
            seat.dropped = "no_show"
            seat.draft.locked = True
    if sum(1 for s in m.state.seats if s.active) < MIN_SEATS_TO_START:
        close(m, now, "not_enough_players")
        return
    m.state.write_started_at = now
    m.state.progress_sent_at = now
    m.enter(Phase.WRITE, now, now + m.config.settings.write_seconds, reason)
    m.emit(Broadcast(ev.MatchPrompt(prompt=prompt_view(m.config))))


# --- write → feedback ----------------------------------------------------------------


def end_write(m: Match, now: float) -> None:
    s, cfg = m.state, m.config
    flush_progress(m, now, final=True)  # always, even if no count changed lately
    for seat in s.seats:
        if seat.dropped is not None:
            continue
        seat.draft.locked = True
        text = seat.draft.text
        s.pieces.append(
            PieceState(
                piece_id=f"p{seat.index}",
                writer=seat.player,
                text=text,
                words=word_count(text),
                empty=is_empty(text),
            )
        )
    m.record(
        now,
        "submissions",
        {"pieces": [dump(p) for p in s.pieces]},
        out=True,
    )
    for piece in s.pieces:
        if piece.empty:
            piece.withheld = True
            piece.score = empty_piece_score()
            continue
        m.emit(Moderate(f"piece:{piece.piece_id}", piece.text, piece.writer))
        m.emit(ScorePiece(piece.piece_id, piece.writer, _piece_request(m, piece)))
    s.moderation_due = now + cfg.timings.moderation_wait
    m.enter(Phase.FEEDBACK, now, now + cfg.settings.feedback_seconds, "deadline")
    if all(p.empty for p in s.pieces):
        prepare_reviews(m, now)


def _piece_request(m: Match, piece: PieceState) -> PieceRequest:
    cfg = m.config
    return PieceRequest(
        prompt=cfg.prompt,
        text=piece.text,
        focus=cfg.trait,
        level=cfg.level,
        seconds_allowed=cfg.settings.write_seconds,
    )


def prepare_reviews(m: Match, now: float) -> None:
    """Assign the visible pieces and open the feedback clock."""
    s, cfg = m.state, m.config
    for piece in s.pieces:
        if piece.moderation is None or piece.moderation.verdict == "block":
            piece.withheld = True
    visible = [p for p in s.pieces if not p.withheld]
    reviewers = [seat.player for seat in s.seats if seat.active]
    plan = assign_reviews(
        [p.writer for p in visible], cfg.settings.reviews_per_piece, cfg.seed, reviewers=reviewers
    )
    piece_of = {p.writer: p.piece_id for p in visible}
    for seat in s.seats:
        for writer in plan.by_reviewer.get(seat.player, ()):
            n = len(s.assignments) + 1
            s.assignments.append(AssignmentState(f"a{n}", seat.player, piece_of[writer]))
    s.pieces_ready = True
    start = now if s.paused_at is None else s.paused_at
    s.deadline = start + cfg.settings.feedback_seconds
    m.record(now, "assignments", {"k": plan.k, "assignments": dump(s.assignments)}, out=True)
    m.emit(Broadcast(phase_event(s, now, "pieces_ready")))
    for player in reviewers:
        m.emit(
            SendTo(
                player,
                ev.ReviewAssignments(
                    focus=cfg.trait.value, assignments=assignment_views(s, player)
                ),
            )
        )
    if not s.assignments:
        end_feedback(m, now, "nothing_to_review")


# --- feedback ------------------------------------------------------------------------


def submit_review(m: Match, e: SubmitReview, now: float) -> None:
    s = m.state
    m.seat(e.player)
    if s.phase is Phase.LOBBY or s.phase is Phase.WRITE:
        raise InvalidTransition(RefusalCode.WRONG_PHASE, "reviews open in the feedback phase")
    if s.phase is not Phase.FEEDBACK:
        raise InvalidTransition(RefusalCode.DEADLINE_PASSED, "the feedback phase is over")
    if not s.pieces_ready:
        raise InvalidTransition(RefusalCode.PIECES_NOT_READY, "the pieces are not ready yet")
    if m.running() and s.deadline is not None and now > s.deadline:
        raise InvalidTransition(RefusalCode.DEADLINE_PASSED, "the feedback phase is over")
    a = next(
        (a for a in s.assignments if a.assignment_id == e.assignment_id and a.reviewer == e.player),
        None,
    )
    if a is None:
        raise InvalidTransition(RefusalCode.UNKNOWN_ASSIGNMENT, "no such assignment for you")
    if a.submitted:
        raise InvalidTransition(RefusalCode.ALREADY_REVIEWED, "this piece is already reviewed")
    a.submitted = True
    review = ReviewState(
        a.assignment_id, e.player, a.piece_id, e.strength, e.suggestion, e.rating, now
    )
    s.reviews.append(review)
    piece = next(p for p in s.pieces if p.piece_id == a.piece_id)
    m.emit(Moderate(f"review:{review.review_id}:strength", e.strength, e.player))
    m.emit(Moderate(f"review:{review.review_id}:suggestion", e.suggestion, e.player))
    m.emit(ScoreReview(review.review_id, e.player, _review_request(m, piece, review)))
    m.emit(SendTo(e.player, ev.Ack(id=e.ref)))
    end_feedback_if_done(m, now)


def _review_request(m: Match, piece: PieceState, r: ReviewState) -> ReviewRequest:
    return ReviewRequest(
        prompt=m.config.prompt,
        piece_text=piece.text,
        strength=r.strength,
        suggestion=r.suggestion,
        rating=r.rating,
        focus=m.config.trait,
    )


def end_feedback_if_done(m: Match, now: float) -> None:
    s = m.state
    if s.phase is not Phase.FEEDBACK or not s.pieces_ready:
        return
    if all(a.submitted or not m.seats[a.reviewer].active for a in s.assignments):
        end_feedback(m, now, "all_reviewed")


def end_feedback(m: Match, now: float, reason: str) -> None:
    m.enter(Phase.SCORING, now, now + m.config.timings.scoring, reason)
    maybe_finish_scoring(m, now)


# --- AI answers ----------------------------------------------------------------------


def on_moderated(m: Match, e: Moderated, now: float) -> None:
    s = m.state
    kind, _, rest = e.key.partition(":")
    if kind == "piece":
        piece = next((p for p in s.pieces if p.piece_id == rest), None)
        if piece is None or piece.moderation is not None:
            return
        piece.moderation = e.result
        _flag(m, piece.writer, e)
        ready = all(p.empty or p.moderation is not None for p in s.pieces)
        if s.phase is Phase.FEEDBACK and not s.pieces_ready and ready:
            prepare_reviews(m, now)
    elif kind == "review":
        review_id, _, part = rest.partition(":")
        review = next((r for r in s.reviews if r.review_id == review_id), None)
        if review is None or part not in ("strength", "suggestion"):
            return
        if getattr(review, f"{part}_mod") is not None:
            return
        setattr(review, f"{part}_mod", e.result)
        _flag(m, review.reviewer, e)
        maybe_finish_scoring(m, now)


def _flag(m: Match, player: PlayerId, e: Moderated) -> None:
    if e.result.flag_teacher:
        m.emit(FlagTeacher(player, e.key, e.result.reasons))


def on_piece_scored(m: Match, e: PieceScored, now: float) -> None:
    piece = next((p for p in m.state.pieces if p.piece_id == e.piece_id), None)
    if piece is None or piece.score is not None or m.state.outcome is not None:
        return  # unknown, duplicate or late: ignored
    piece.score = e.score
    maybe_finish_scoring(m, now)


def on_review_scored(m: Match, e: ReviewScored, now: float) -> None:
    review = next((r for r in m.state.reviews if r.review_id == e.review_id), None)
    if review is None or review.score is not None or m.state.outcome is not None:
        return
    review.score = e.score
    maybe_finish_scoring(m, now)


def maybe_finish_scoring(m: Match, now: float) -> None:
    s = m.state
    if s.phase is not Phase.SCORING:
        return
    if all(p.score is not None for p in s.pieces) and all(
        r.score is not None and r.moderated for r in s.reviews
    ):
        finish_scoring(m, now)


def fill_missing_scores(m: Match, now: float) -> None:
    """At the scoring deadline, score what the AI has not answered with the fallback."""
    s = m.state
    if m.replaying or s.phase is not Phase.SCORING or s.deadline is None or now < s.deadline:
        return
    for piece in s.pieces:
        if piece.score is None and m.state.phase is Phase.SCORING:
            score = m.fallback.score_piece(_piece_request(m, piece))
            m.apply(PieceScored(piece.piece_id, score), now)
    for review in s.reviews:
        if review.score is None and m.state.phase is Phase.SCORING:
            piece = next(p for p in s.pieces if p.piece_id == review.piece_id)
            judged = m.fallback.judge_review(_review_request(m, piece, review))
            m.apply(ReviewScored(review.review_id, judged), now)


def finish_scoring(m: Match, now: float) -> None:
    s = m.state
    outcome = compute_outcome(m.config, s, now)
    s.outcome = outcome
    m.record(now, "results", dump(outcome), out=True)
    m.enter(Phase.RESULTS, now, now + m.config.settings.results_seconds, "scored")
    m.emit(Broadcast(results_event(outcome)))
    for seat in s.seats:
        report = report_event(outcome, seat.player)
        if report is not None and not seat.left:
            m.emit(SendTo(seat.player, report))
    m.emit(MatchFinished(outcome))


# --- closing, progress, recovery -----------------------------------------------------


def close(m: Match, now: float, reason: str) -> None:
    if m.state.phase is Phase.CLOSED:
        raise InvalidTransition(RefusalCode.MATCH_CLOSED, "the match is over")
    m.state.close_reason = reason
    m.state.progress_dirty = False
    m.enter(Phase.CLOSED, now, None, reason)
    m.record(now, "closed", {"reason": reason}, out=True)
    m.emit(MatchClosed(reason))


def flush_progress(m: Match, now: float, final: bool = False) -> None:
    """Broadcast ``match.progress`` when a count changed and the last one is a
    ``timings.progress`` old; ``final`` (writing ends) sends it whatever changed."""
    s = m.state
    if final or (s.progress_dirty and now >= s.progress_sent_at + m.config.timings.progress):
        s.progress_dirty = False
        s.progress_sent_at = now
        m.emit(Broadcast(progress_event(s)))


def pending_requests(m: Match) -> list[Effect]:
    s = m.state
    out: list[Effect] = []
    if s.outcome is not None or s.phase is Phase.CLOSED:
        return out
    for piece in s.pieces:
        if piece.empty:
            continue
        if piece.moderation is None and not s.pieces_ready:
            out.append(Moderate(f"piece:{piece.piece_id}", piece.text, piece.writer))
        if piece.score is None:
            out.append(ScorePiece(piece.piece_id, piece.writer, _piece_request(m, piece)))
    for r in s.reviews:
        if r.strength_mod is None:
            out.append(Moderate(f"review:{r.review_id}:strength", r.strength, r.reviewer))
        if r.suggestion_mod is None:
            out.append(Moderate(f"review:{r.review_id}:suggestion", r.suggestion, r.reviewer))
        if r.score is None:
            piece = next(p for p in s.pieces if p.piece_id == r.piece_id)
            out.append(ScoreReview(r.review_id, r.reviewer, _review_request(m, piece, r)))
    return out

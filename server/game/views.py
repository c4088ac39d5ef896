"""Protocol events built from engine state: what each audience may see, nothing more.

Players appear by alias only.  Piece and review texts are shown only as moderated
(``ModerationResult.text``); withheld ones are left out.
"""

from __future__ import annotations

from server.game.draft import word_count
from server.game.phases import Phase
from server.game.results import MatchOutcome, SeatOutcome
from server.game.scoring import trait_dict
from server.game.state import GameState, MatchConfig, SeatState
from server.protocol import events as ev
from server.types import PlayerId


def ms(seconds: float) -> int:
    """Server seconds (epoch) as wire milliseconds."""
    return round(seconds * 1000)


def seat_view(seat: SeatState, you: bool = False) -> ev.SeatView:
    return ev.SeatView(
        alias=seat.alias,
        you=you,
        connected=seat.connected,
        ready=seat.ready,
        left=seat.left or seat.dropped is not None,
        words=word_count(seat.draft.text),
    )


def prompt_view(config: MatchConfig) -> ev.PromptView:
    p = config.prompt
    return ev.PromptView(
        id=p.id,
        title=p.title,
        text=p.text,
        image=p.image,
        image_description=p.image_description,
        focus=config.trait.value,
        tags=p.tags,
    )


def phase_event(state: GameState, now: float, reason: str | None = None) -> ev.MatchPhase:
    deadline, remaining = clock(state, now)
    return ev.MatchPhase(
        phase=state.phase.value,
        deadline=deadline,
        remaining_ms=remaining,
        paused=state.paused_at is not None,
        reason=reason,
    )


def clock(state: GameState, now: float) -> tuple[int | None, int | None]:
    """(deadline in epoch ms, remaining ms); a paused clock has no deadline."""
    if state.deadline is None:
        return None, None
    if state.paused_at is not None:
        return None, max(0, ms(state.deadline - state.paused_at))
    return ms(state.deadline), max(0, ms(state.deadline - now))


def progress_event(state: GameState) -> ev.MatchProgress:
    return ev.MatchProgress(
        words={s.alias: word_count(s.draft.text) for s in state.seats if s.dropped is None}
    )


def assignment_views(state: GameState, player: PlayerId) -> tuple[ev.AssignmentView, ...]:
    pieces = {p.piece_id: p for p in state.pieces}
    alias = {s.player: s.alias for s in state.seats}
    out = []
    for a in state.assignments:
        if a.reviewer != player:
            continue
        piece = pieces[a.piece_id]
        text = piece.moderation.text if piece.moderation is not None else ""
        out.append(
            ev.AssignmentView(
                assignment_id=a.assignment_id,
                alias=alias[piece.writer],
                text=text,
                submitted=a.submitted,
            )
        )
    return tuple(out)


def _rating_view(outcome: MatchOutcome, seat: SeatOutcome) -> ev.RatingView | None:
    for r in outcome.ratings:
        if r.player == seat.player:
            return ev.RatingView(
                mu_before=r.mu_before,
                sigma_before=r.sigma_before,
                mu_after=r.mu_after,
                sigma_after=r.sigma_after,
                display_before=r.display_before,
                display_after=r.display_after,
            )
    return None


def results_event(outcome: MatchOutcome) -> ev.MatchResults:
    rows = []
    for s in sorted(
        (s for s in outcome.seats if s.rank is not None), key=lambda s: (s.rank, s.alias)
    ):
        assert s.rank is not None
        provisional = (s.piece_score is not None and s.piece_score.provisional) or any(
            r.score is not None and r.score.provisional
            for r in outcome.reviews
            if r.reviewer == s.player
        )
        rows.append(
            ev.ResultRow(
                alias=s.alias,
                rank=s.rank,
                score=round(s.score, 4),
                writing=round(s.writing, 4),
                review=round(s.review, 4),
                traits=dict(trait_dict(s.piece_score)) if s.piece_score else {},
                words=s.words,
                empty=s.empty,
                left=s.left,
                provisional=provisional,
                rating=_rating_view(outcome, s),
            )
        )
    return ev.MatchResults(
        match_id=outcome.match_id,
        focus=outcome.focus.value,
        ranked=outcome.ranked,
        provisional=outcome.provisional,
        ranking=tuple(rows),
    )


def report_event(outcome: MatchOutcome, player: PlayerId) -> ev.MatchReport | None:
    seat = next((s for s in outcome.seats if s.player == player), None)
    if seat is None or seat.rank is None:
        return None
    alias = {s.player: s.alias for s in outcome.seats}
    score = seat.piece_score
    received = tuple(
        ev.ReviewView(strength=r.shown_strength, suggestion=r.shown_suggestion, rating=r.rating)
        for r in outcome.reviews
        if r.writer == player and not r.withheld
    )
    written = tuple(
        ev.WrittenReviewView(
            alias=alias[r.writer],
            helpfulness=r.helpfulness,
            reasons=r.score.reasons if r.score else (),
        )
        for r in outcome.reviews
        if r.reviewer == player
    )
    return ev.MatchReport(
        alias=seat.alias,
        traits=dict(trait_dict(score)) if score else {},
        overall=score.overall if score else 1.0,
        rationale=score.rationale if score else "",
        suggestions=tuple(
            ev.SuggestionView(sentence=s.sentence, advice=s.advice)
            for s in (score.suggestions if score else ())
        ),
        reviews_received=received,
        reviews_written=written,
        flags=tuple(sorted(score.flags)) if score else (),
    )


def state_event(
    config: MatchConfig, state: GameState, player: PlayerId, now: float
) -> ev.MatchState:
    """The full snapshot one seat gets on attach or resume."""
    deadline, remaining = clock(state, now)
    me = next(s for s in state.seats if s.player == player)
    show_prompt = state.phase is not Phase.LOBBY and state.write_started_at is not None
    return ev.MatchState(
        match_id=config.match_id,
        phase=state.phase.value,
        deadline=deadline,
        remaining_ms=remaining,
        paused=state.paused_at is not None,
        you=me.alias,
        ranked=config.ranked,
        seats=tuple(seat_view(s, s.player == player) for s in state.seats),
        prompt=prompt_view(config) if show_prompt else None,
        draft=ev.DraftView(seq=me.draft.seq, text=me.draft.text, locked=me.draft.locked)
        if show_prompt
        else None,
        assignments=assignment_views(state, player)
        if state.phase is Phase.FEEDBACK and state.pieces_ready
        else (),
        results=results_event(state.outcome) if state.outcome else None,
        report=report_event(state.outcome, player) if state.outcome else None,
    )

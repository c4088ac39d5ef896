"""The sans-I/O match engine: state in, effects out, the time passed in.

Nothing here reads a clock, touches a socket or starts a loop.  A runner owns one
:class:`Match` per match and does three things with it:

1. feed it inputs — ``match.handle(input, now)`` — built from client messages
   (:data:`MESSAGE_INPUTS`), socket life (:class:`Attach`, :class:`Detach`) and AI
   answers (:class:`Moderated`, :class:`PieceScored`, :class:`ReviewScored`);
2. call ``match.step(now)`` when the last :class:`SetTimer` comes due;
3. carry out the returned effects in order (see ``effects``).

A refused input raises :class:`server.errors.InvalidTransition`; the gateway answers
with an ``error`` event (``server.protocol.error_event(exc, ref)``).

Modules: ``match`` (the state machine), ``flow`` (phase flow), ``phases``, ``inputs``,
``effects``, ``state`` (config and state dataclasses), ``draft`` (edits), ``assign``
(review assignment and aliases), ``scoring`` (match score and ranking), ``rating``
(TrueSkill update and match quality), ``results`` (the outcome), ``views`` (protocol
events from state), ``plain`` (snapshot encoding), ``replay``.
"""

from server.game.assign import ReviewPlan, assign_reviews, make_aliases
from server.game.draft import Draft, EditOutcome, EditRecord, apply_edit, apply_ops, replay_edits
from server.game.effects import (
    Broadcast,
    Checkpoint,
    Effect,
    FlagTeacher,
    MatchClosed,
    MatchFinished,
    Moderate,
    Persist,
    ScorePiece,
    ScoreReview,
    SendTo,
    SetTimer,
)
from server.game.inputs import (
    INPUTS,
    MESSAGE_INPUTS,
    Abort,
    Attach,
    Detach,
    EditDraft,
    Extend,
    Input,
    Leave,
    Moderated,
    Pause,
    PieceScored,
    Ready,
    Resume,
    ReviewScored,
    Start,
    SubmitReview,
)
from server.game.match import Match
from server.game.phases import Phase
from server.game.rating import RatingChange, RatingEntry, RatingModel, ffa_quality, rate_ffa
from server.game.replay import drafts_at, replay, seat_edits
from server.game.results import MatchOutcome, ReviewOutcome, SeatOutcome
from server.game.scoring import Fallback, NeutralFallback, rank_with_ties
from server.game.state import MatchConfig, SeatSpec, Timings

__all__ = [
    "INPUTS",
    "MESSAGE_INPUTS",
    "Abort",
    "Attach",
    "Broadcast",
    "Checkpoint",
    "Detach",
    "Draft",
    "EditDraft",
    "EditOutcome",
    "EditRecord",
    "Effect",
    "Extend",
    "Fallback",
    "FlagTeacher",
    "Input",
    "Leave",
    "Match",
    "MatchClosed",
    "MatchConfig",
    "MatchFinished",
    "MatchOutcome",
    "Moderate",
    "Moderated",
    "NeutralFallback",
    "Pause",
    "Persist",
    "Phase",
    "PieceScored",
    "RatingChange",
    "RatingEntry",
    "RatingModel",
    "Ready",
    "Resume",
    "ReviewOutcome",
    "ReviewPlan",
    "ReviewScored",
    "ScorePiece",
    "ScoreReview",
    "SeatOutcome",
    "SeatSpec",
    "SendTo",
    "SetTimer",
    "Start",
    "SubmitReview",
    "Timings",
    "apply_edit",
    "apply_ops",
    "assign_reviews",
    "drafts_at",
    "ffa_quality",
    "make_aliases",
    "rank_with_ties",
    "rate_ffa",
    "replay",
    "replay_edits",
    "seat_edits",
]

"""The match's configuration (fixed at creation) and its mutable state, as dataclasses.

Both are plain enough for ``server.game.plain`` to dump and load, so a snapshot is just
``dump(config)`` and ``dump(state)``.  Only ``server.game.match.Match`` mutates a state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.ai.types import Level, ModerationResult, PieceScore, Prompt, ReviewScore, Trait
from server.config import LimitSettings, MatchSettings
from server.game.draft import Draft
from server.game.phases import Phase
from server.game.rating import DEFAULT_MU, DEFAULT_SIGMA, RatingModel
from server.game.results import MatchOutcome
from server.types import MatchId, PlayerId


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """A seat as the matchmaker or lobby hands it out."""

    player: PlayerId
    is_bot: bool = False
    mu: float = DEFAULT_MU
    sigma: float = DEFAULT_SIGMA


@dataclass(frozen=True, slots=True)
class Timings:
    """Engine timings that are not in ``MatchSettings`` (seconds)."""

    moderation_wait: float = (
        20.0  # after the write phase, pieces not moderated by then are withheld
    )
    scoring: float = 60.0  # the scoring phase's deadline; the fallback fills what is missing
    progress: float = 1.0  # at most one ``match.progress`` per this interval


@dataclass(frozen=True, slots=True)
class MatchConfig:
    match_id: MatchId
    prompt: Prompt
    seats: tuple[SeatSpec, ...]
    seed: int
    focus: Trait | None = None  # None: the prompt's focus
    ranked: bool = True
    level: Level = "middle"
    settings: MatchSettings = field(default_factory=MatchSettings)
    draft_chars: int = LimitSettings().draft_chars
    timings: Timings = field(default_factory=Timings)
    rating: RatingModel = field(default_factory=RatingModel)
    names: tuple[str, ...] = ()
    """What the seats are called in the match, by seat (a lobby without anonymity shows
    names); empty, or an empty string for a seat, keeps the seed's alias."""

    @property
    def trait(self) -> Trait:
        return self.focus if self.focus is not None else self.prompt.focus


@dataclass(slots=True)
class SeatState:
    player: PlayerId
    alias: str
    index: int
    is_bot: bool
    mu: float
    sigma: float
    attached: bool = False  # attached at least once
    connected: bool = False
    ready: bool = False
    left: bool = False
    dropped: str | None = None  # "no_show" or "left_lobby": out of the match, not rated
    draft: Draft = field(default_factory=Draft)

    @property
    def active(self) -> bool:
        """Still playing: neither dropped nor left."""
        return self.dropped is None and not self.left


@dataclass(slots=True)
class PieceState:
    piece_id: str
    writer: PlayerId
    text: str
    words: int
    empty: bool
    moderation: ModerationResult | None = None
    withheld: bool = False  # not shown to reviewers (empty, blocked, or moderation timed out)
    score: PieceScore | None = None


@dataclass(slots=True)
class AssignmentState:
    assignment_id: str  # also the id of the review written for it
    reviewer: PlayerId
    piece_id: str
    submitted: bool = False


@dataclass(slots=True)
class ReviewState:
    review_id: str
    reviewer: PlayerId
    piece_id: str
    strength: str
    suggestion: str
    rating: int
    at: float
    strength_mod: ModerationResult | None = None
    suggestion_mod: ModerationResult | None = None
    score: ReviewScore | None = None

    @property
    def moderated(self) -> bool:
        return self.strength_mod is not None and self.suggestion_mod is not None

    @property
    def blocked(self) -> bool:
        return any(
            m is not None and m.verdict == "block" for m in (self.strength_mod, self.suggestion_mod)
        )


@dataclass(slots=True)
class GameState:
    phase: Phase
    phase_started_at: float
    deadline: float | None
    seats: list[SeatState]
    paused_at: float | None = None
    write_started_at: float | None = None
    pieces: list[PieceState] = field(default_factory=list)
    pieces_ready: bool = False
    moderation_due: float | None = None
    assignments: list[AssignmentState] = field(default_factory=list)
    reviews: list[ReviewState] = field(default_factory=list)
    progress_sent_at: float = 0.0
    progress_dirty: bool = False
    timer_sent: float | None = None
    outcome: MatchOutcome | None = None
    close_reason: str | None = None

"""The AI vocabulary: requests, results and one interface per task.

Every engine (offline or Claude) implements these protocols.  Results are validated
values: trait scores are integers 1–6, labels come from fixed sets.  ``engine`` names the
engine that produced a result (``"offline"`` or ``"claude"``) and ``provisional`` is true
when a fallback produced it in place of the configured engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol


class Trait(StrEnum):
    """The 6+1 traits of writing, scored 1 (beginning) … 6 (exceptional)."""

    IDEAS = "ideas"
    ORGANIZATION = "organization"
    VOICE = "voice"
    WORD_CHOICE = "word_choice"
    SENTENCE_FLUENCY = "sentence_fluency"
    CONVENTIONS = "conventions"
    PRESENTATION = "presentation"


TRAITS: tuple[Trait, ...] = tuple(Trait)
EngineName = Literal["offline", "claude"]
Level = Literal["elementary", "middle", "high", "adult"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """A writing prompt: one of the pack in ``content/prompts/`` (with tags and an image
    description) or a teacher's own (title and text, maybe an image's ``alt_text``, no tags).
    The offline scorer judges relevance from whichever of these are there."""

    id: str
    title: str
    text: str
    tags: tuple[str, ...] = ()
    image_description: str = ""
    focus: Trait = Trait.IDEAS
    level: Level = "middle"
    image: str = ""  # file name of the image inside content/prompts/
    alt_text: str = ""  # a teacher's short description of their own image, if any


@dataclass(frozen=True, slots=True)
class PieceRequest:
    prompt: Prompt
    text: str
    focus: Trait = Trait.IDEAS
    level: Level = "middle"
    seconds_allowed: float = 240.0


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A concrete suggestion tied to one sentence of the piece (quoted verbatim)."""

    sentence: str
    advice: str


@dataclass(frozen=True, slots=True)
class PieceScore:
    traits: Mapping[Trait, int]  # every trait, 1..6
    overall: float  # 1.0..6.0
    rationale: str
    suggestions: tuple[Suggestion, ...]  # 2–3 of them for any non-empty piece
    engine: EngineName
    provisional: bool = False
    flags: frozenset[str] = frozenset()  # e.g. "gibberish", "empty", "off_topic", "padding"


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    """A peer review of one piece: what was good, what to change, a 1–6 rating of the focus."""

    prompt: Prompt
    piece_text: str
    strength: str
    suggestion: str
    rating: int
    focus: Trait = Trait.IDEAS


@dataclass(frozen=True, slots=True)
class ReviewScore:
    helpfulness: int  # 1..6
    specificity: int
    actionability: int
    justification: int
    tone: int
    reasons: tuple[str, ...]
    engine: EngineName
    provisional: bool = False


Verdict = Literal["allow", "mask", "block"]


@dataclass(frozen=True, slots=True)
class ModerationRequest:
    text: str
    known_names: tuple[str, ...] = ()  # full names of classmates, masked if they appear


@dataclass(frozen=True, slots=True)
class ModerationResult:
    verdict: Verdict
    text: str  # the text safe to show: the original, the masked text, or "" when blocked
    reasons: tuple[str, ...]  # e.g. "profanity", "harassment", "self_harm", "email", "phone"
    flag_teacher: bool  # self-harm signals and harassment reach the teacher
    engine: EngineName
    provisional: bool = False


Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True, slots=True)
class TutorRequest:
    question: str
    recent_writing: tuple[str, ...] = ()
    focus: Trait | None = None
    history: tuple[tuple[str, str], ...] = ()  # (question, answer) pairs, oldest first


@dataclass(frozen=True, slots=True)
class TutorAnswer:
    answer: str
    confidence: Confidence
    factors: Mapping[str, float]  # each 0..1: support, relevance, clarity, completeness
    escalate: bool  # suggest asking the teacher
    declined: bool  # off-topic or unsafe question, politely declined
    sources: tuple[str, ...]
    engine: EngineName
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class BotPieceRequest:
    prompt: Prompt
    skill: float  # 0..1
    seconds_allowed: float = 240.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TypingEvent:
    """One edit of a bot's typing timeline, ``at`` seconds after the write phase opened."""

    at: float
    pos: int
    insert: str = ""
    delete: int = 0


@dataclass(frozen=True, slots=True)
class BotPiece:
    text: str  # the final text; replaying ``timeline`` on "" yields exactly this
    timeline: tuple[TypingEvent, ...]
    engine: EngineName
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class BotReviewRequest:
    prompt: Prompt
    piece_text: str
    skill: float
    focus: Trait = Trait.IDEAS
    seed: int = 0


@dataclass(frozen=True, slots=True)
class BotReview:
    strength: str
    suggestion: str
    rating: int  # 1..6
    engine: EngineName
    provisional: bool = False


class PieceScorer(Protocol):
    async def score_piece(self, req: PieceRequest) -> PieceScore: ...


class ReviewJudge(Protocol):
    async def judge_review(self, req: ReviewRequest) -> ReviewScore: ...


class Moderator(Protocol):
    async def moderate(self, req: ModerationRequest) -> ModerationResult: ...


class Tutor(Protocol):
    async def answer(self, req: TutorRequest) -> TutorAnswer: ...


class BotWriter(Protocol):
    async def write_piece(self, req: BotPieceRequest) -> BotPiece: ...


class BotReviewer(Protocol):
    async def write_review(self, req: BotReviewRequest) -> BotReview: ...


@dataclass(frozen=True, slots=True)
class Engines:
    """The bundle the rest of the server uses; built by ``server.ai.build_engines``."""

    scorer: PieceScorer
    judge: ReviewJudge
    moderator: Moderator
    tutor: Tutor
    writer: BotWriter
    reviewer: BotReviewer
    names: Mapping[str, str] = field(default_factory=dict)

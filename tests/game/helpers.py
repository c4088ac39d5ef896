"""Test helpers for the engine: a prompt, configs, and a recording driver with a fake clock.

``Driver`` plays the runner's part with no I/O: it keeps the time (``now`` is just a
number it moves forward), records every effect, and answers AI requests with
deterministic fake results unless told to hold them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from server.ai.types import TRAITS, ModerationResult, PieceScore, Prompt, ReviewScore, Trait
from server.config import MatchSettings
from server.game import (
    Attach,
    Broadcast,
    EditDraft,
    Effect,
    Input,
    Match,
    MatchConfig,
    Moderate,
    Moderated,
    PieceScored,
    Ready,
    ReviewScored,
    ScorePiece,
    ScoreReview,
    SeatSpec,
    SendTo,
    SetTimer,
    SubmitReview,
)
from server.protocol import events as ev
from server.protocol.client import EditOp
from server.protocol.schema import Message
from server.types import MatchId, PlayerId

T0 = 1_700_000_000.0
E = TypeVar("E", bound=Message)

PROMPT = Prompt(
    id="lighthouse",
    title="The Lighthouse",
    text="Describe what the keeper sees on the last night.",
    tags=("sea", "night"),
    image_description="A lighthouse on a cliff in a storm.",
    focus=Trait.VOICE,
    image="lighthouse.jpg",
)


def players(n: int) -> list[PlayerId]:
    return [PlayerId(f"user-{i}") for i in range(n)]


def config(n: int = 4, *, bots: Iterable[int] = (), **settings: Any) -> MatchConfig:
    bot_set = set(bots)
    seats = tuple(SeatSpec(p, is_bot=i in bot_set) for i, p in enumerate(players(n)))
    ranked = settings.pop("ranked", True)
    seed = settings.pop("seed", 7)
    draft_chars = settings.pop("draft_chars", 2000)
    return MatchConfig(
        match_id=MatchId("m-1"),
        prompt=PROMPT,
        seats=seats,
        seed=seed,
        ranked=ranked,
        settings=MatchSettings(**settings),
        draft_chars=draft_chars,
    )


def piece_score(overall: float, focus: int | None = None, provisional: bool = False) -> PieceScore:
    base = max(1, min(6, round(overall)))
    traits = {t: base for t in TRAITS}
    if focus is not None:
        traits[Trait.VOICE] = focus
    return PieceScore(
        traits=traits,
        overall=overall,
        rationale=f"overall {overall}",
        suggestions=(),
        engine="offline",
        provisional=provisional,
    )


def review_score(helpfulness: int) -> ReviewScore:
    return ReviewScore(
        helpfulness=helpfulness,
        specificity=helpfulness,
        actionability=helpfulness,
        justification=helpfulness,
        tone=helpfulness,
        reasons=("fake",),
        engine="offline",
    )


def allow(text: str) -> ModerationResult:
    return ModerationResult("allow", text, (), False, "offline")


def block() -> ModerationResult:
    return ModerationResult("block", "", ("harassment",), True, "offline")


def fake_piece_score(text: str) -> PieceScore:
    """Longer pieces score higher: 1 + words/10, capped at 6."""
    return piece_score(min(6.0, 1.0 + len(text.split()) / 10))


@dataclass
class Driver:
    """Drives one match like a runner would, on a fake clock, answering the AI at once."""

    match: Match
    now: float = T0
    effects: list[Effect] = field(default_factory=list)
    auto_ai: bool = True
    held: list[Effect] = field(default_factory=list)
    helpfulness: dict[PlayerId, int] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # texts moderation blocks

    @classmethod
    def start(cls, cfg: MatchConfig | None = None, **kw: Any) -> Driver:
        match, effects = Match.create(cfg or config(), T0)
        d = cls(match, **kw)
        d.effects.extend(effects)
        return d

    def run(self, effects: list[Effect]) -> list[Effect]:
        self.effects.extend(effects)
        for eff in effects:
            if isinstance(eff, Moderate | ScorePiece | ScoreReview):
                if self.auto_ai:
                    self.answer(eff)
                else:
                    self.held.append(eff)
        return effects

    def answer(self, eff: Effect) -> None:
        if isinstance(eff, Moderate):
            result = block() if eff.text in self.blocked else allow(eff.text)
            self.handle(Moderated(eff.key, result))
        elif isinstance(eff, ScorePiece):
            self.handle(PieceScored(eff.piece_id, fake_piece_score(eff.request.text)))
        elif isinstance(eff, ScoreReview):
            self.handle(
                ReviewScored(eff.review_id, review_score(self.helpfulness.get(eff.reviewer, 4)))
            )

    def release(self) -> None:
        held, self.held = self.held, []
        for eff in held:
            self.answer(eff)

    def handle(self, event: Input) -> list[Effect]:
        return self.run(self.match.handle(event, self.now))

    def step(self) -> list[Effect]:
        return self.run(self.match.step(self.now))

    def advance(self, seconds: float) -> list[Effect]:
        """Move the clock, firing every timer that comes due on the way."""
        end = self.now + seconds
        out: list[Effect] = []
        while True:
            wake = self.match.wake_at
            if wake is None or wake > end:
                break
            self.now = max(self.now, wake)
            out.extend(self.step())
        self.now = end
        out.extend(self.step())
        return out

    def lobby(self, who: Iterable[PlayerId] | None = None) -> None:
        who = list(who) if who is not None else [s.player for s in self.match.config.seats]
        for p in who:
            self.handle(Attach(p))
        for p in who:
            self.handle(Ready(p))

    def write(self, player: PlayerId, text: str, paste: bool = False) -> list[Effect]:
        draft = self.match.seats[player].draft
        op = EditOp(pos=len(draft.text), insert=text)
        return self.handle(EditDraft(player, draft.seq + 1, ops=(op,), paste=paste))

    def review_all(self, rating: int = 4, skip: Iterable[PlayerId] = ()) -> None:
        skip_set = set(skip)
        for a in list(self.match.state.assignments):
            if a.reviewer in skip_set or a.submitted:
                continue
            if not self.match.seats[a.reviewer].active:
                continue
            self.handle(
                SubmitReview(
                    a.reviewer, a.assignment_id, "Vivid opening line.", "Add a sound.", rating
                )
            )

    # --- reading effects -------------------------------------------------------------

    def sent(
        self, player: PlayerId, kind: type[E], effects: Iterable[Effect] | None = None
    ) -> list[E]:
        return [
            e.event
            for e in (self.effects if effects is None else effects)
            if isinstance(e, SendTo) and e.player == player and isinstance(e.event, kind)
        ]

    def broadcast(self, kind: type[E], effects: Iterable[Effect] | None = None) -> list[E]:
        return [
            e.event
            for e in (self.effects if effects is None else effects)
            if isinstance(e, Broadcast) and isinstance(e.event, kind)
        ]

    def phases(self) -> list[str]:
        return [
            e.phase
            for e in self.broadcast(ev.MatchPhase)
            if e.reason not in ("paused", "resumed", "extended", "pieces_ready")
        ]

    def timers(self) -> list[float]:
        return [e.at for e in self.effects if isinstance(e, SetTimer)]


def with_settings(cfg: MatchConfig, **kw: Any) -> MatchConfig:
    return replace(cfg, settings=replace(cfg.settings, **kw))

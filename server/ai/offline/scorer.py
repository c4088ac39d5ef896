"""The offline piece scorer: features → continuous trait values → a :class:`PieceScore`.

Each trait is a weighted blend of features (see :func:`trait_values`), mapped onto the 1–6
scale by a smooth, strictly increasing function, so a change in any feature moves the
continuous value even where the rounded score would not change.  :func:`score_piece_detailed`
exposes those continuous values (the evaluation compares them); :func:`score_piece_sync`
rounds them into the public result.  Same input, same output: nothing here is random or
reads the clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from server.ai.offline.features import Analysis, PieceFeatures, analyse
from server.ai.offline.feedback import rationale, suggestions
from server.ai.types import TRAITS, PieceRequest, PieceScore, Trait

FOCUS_WEIGHT = 1.5
"""Weight of the round's focus trait in the overall score (the others weigh 1)."""

OFF_TOPIC = 0.3
"""Relevance below which a piece (of 25+ words) is flagged off-topic and its ideas held low."""

PADDING_PENALTY = 4.0
"""Points taken from every trait per unit of padding share: padding must never pay."""

_STRICTNESS: dict[str, float] = {"elementary": 0.8, "middle": 1.0, "high": 1.15, "adult": 1.25}

CALIBRATION: dict[Trait, tuple[float, float]] = {
    Trait.IDEAS: (0.38, 0.88),
    Trait.ORGANIZATION: (0.42, 0.69),
    Trait.VOICE: (0.13, 0.58),
    Trait.WORD_CHOICE: (0.12, 0.99),
    Trait.SENTENCE_FLUENCY: (0.56, 0.89),
    Trait.CONVENTIONS: (0.0, 1.05),
    Trait.PRESENTATION: (0.40, 0.98),
}
"""Blend values that map to 1.0 and 6.0 for each trait (a straight line between, soft beyond).
Set once, in round numbers, so that the weakest pieces of content/eval/ land near 1.5 and the
strongest between 5 and 6; they are a scale, not a fit to individual pieces."""


@dataclass(frozen=True, slots=True)
class DetailedScore:
    """Continuous trait values (1.0–6.0, not rounded), the overall, flags and the analysis."""

    traits: Mapping[Trait, float]
    overall: float
    flags: frozenset[str]
    analysis: Analysis


def _grow(x: float, scale: float) -> float:
    """0 at x=0, rising smoothly toward 1; ``scale`` is where it reaches 63 %."""
    return 1.0 - math.exp(-max(0.0, x) / scale)


def _ramp(x: float, lo: float, hi: float) -> float:
    """Linear from 0 at ``lo`` to 1 at ``hi``, continued gently beyond both ends."""
    t = (x - lo) / (hi - lo)
    if t < 0:
        return t * 0.1
    if t > 1:
        return 1 + (t - 1) * 0.1
    return t


def _to_scale(s: float) -> float:
    """Map a 0..1 blend onto 1..6 with soft, strictly increasing ends."""
    x = 1.0 + 5.0 * s
    t = 0.3
    return 1.0 + t * math.log1p(math.exp((x - 1.0) / t)) - t * math.log1p(math.exp((x - 6.0) / t))


def trait_values(f: PieceFeatures, level: str) -> dict[Trait, float]:
    """The seven traits as 0..1 blends of features (before the 1–6 mapping)."""
    strict = _STRICTNESS.get(level, 1.0)
    dev = f.development
    ideas = 0.45 * dev + 0.25 * f.relevance + 0.22 * f.detail + 0.08 * _grow(f.idea_units, 80)
    organization = (
        0.25 * f.paragraphing + 0.20 * f.transitions + 0.45 * f.order + 0.10 * f.ending
    ) * (0.5 + 0.5 * dev)
    voice = (
        0.22 * _grow(f.sensory_rate, 0.08)
        + 0.14 * _grow(f.emotion_rate, 0.03)
        + 0.20 * _grow(f.figurative, 0.6)
        + 0.10 * f.dialogue
        + 0.08 * f.expressive
        + 0.16 * f.detail
        + 0.10 * math.exp(-f.bland_rate / 0.04)
        - 2.0 * f.txt_speak
    ) * (0.55 + 0.45 * dev)
    word_choice = (
        0.25 * _ramp(f.mattr, 0.55, 0.85)
        + 0.25 * _ramp(f.mean_zipf, 5.7, 4.4)
        + 0.25 * _grow(f.rich_share, 0.12 * strict)
        + 0.25 * math.exp(-f.bland_rate / 0.035)
        - 2.0 * f.overuse
        - 1.5 * f.misspelling_rate
    )
    fluency = (
        0.25 * _grow(f.length_cv, 0.35)
        + 0.25 * f.opener_variety
        + 0.20 * (1.0 - f.run_on_share)
        + 0.15 * f.complexity
        + 0.15 * math.exp(-(((f.mean_length - 14.0) / 9.0) ** 2))
    )
    conventions = math.exp(
        -strict
        * (
            15.0 * f.misspelling_rate
            + 0.6 * f.capital_errors
            + 6.0 * f.apostrophe_errors
            + 0.5 * f.punctuation_errors
            + 1.0 * f.fused_rate
            + 0.3 * f.run_on_share
        )
    )
    presentation = (
        (
            0.40 * f.paragraphing
            + 0.20 * (1.0 - f.wall_of_text)
            + 0.20 * math.exp(-5.0 * f.shouting)
            + 0.20 * math.exp(-20.0 * f.txt_speak)
        )
        * (0.6 + 0.4 * dev)
        * (0.75 + 0.25 * conventions)
    )
    return {
        Trait.IDEAS: ideas,
        Trait.ORGANIZATION: organization,
        Trait.VOICE: voice,
        Trait.WORD_CHOICE: word_choice,
        Trait.SENTENCE_FLUENCY: fluency,
        Trait.CONVENTIONS: conventions,
        Trait.PRESENTATION: presentation,
    }


def _is_gibberish(f: PieceFeatures) -> bool:
    return (
        f.gibberish_share >= 0.45
        or (f.words >= 10 and f.distinct_words <= 3)
        or (f.letter_share < 0.5 and f.words < 20)
        or (f.words >= 25 and f.function_share < 0.08)
    )


def score_piece_detailed(req: PieceRequest) -> DetailedScore:
    """Score a piece with continuous trait values (see the module docstring)."""
    analysis = analyse(req)
    f = analysis.features
    flags: set[str] = set()
    if f.words == 0:
        return _floor(analysis, {"empty"})
    if _is_gibberish(f):
        return _floor(analysis, {"gibberish"})
    if f.injection:
        flags.add("injection")
    if f.padding_share >= 0.1:
        flags.add("padding")
    if analysis.doc.truncated:
        flags.add("truncated")
    blends = trait_values(f, req.level)
    penalty = PADDING_PENALTY * f.padding_share
    off_topic = f.relevance < OFF_TOPIC and f.kept_words >= 25
    if off_topic:
        flags.add("off_topic")
    traits: dict[Trait, float] = {}
    for trait, s in blends.items():
        lo, hi = CALIBRATION[trait]
        value = 1.0 + 5.0 * (s - lo) / (hi - lo) - penalty
        if off_topic and trait is Trait.IDEAS:  # keep 30 % of what is above 1, and a bit less
            value -= 0.7 * max(0.0, value - 1.0) + 0.5
        traits[trait] = _to_scale((value - 1.0) / 5.0)
    weights = {t: (FOCUS_WEIGHT if t is req.focus else 1.0) for t in TRAITS}
    overall = sum(traits[t] * weights[t] for t in TRAITS) / sum(weights.values())
    return DetailedScore(traits=traits, overall=overall, flags=frozenset(flags), analysis=analysis)


def _floor(analysis: Analysis, flags: set[str]) -> DetailedScore:
    return DetailedScore(
        traits={t: 1.0 for t in TRAITS},
        overall=1.0,
        flags=frozenset(flags),
        analysis=analysis,
    )


def round_trait(value: float) -> int:
    """Round half up into 1..6."""
    return max(1, min(6, math.floor(value + 0.5)))


def score_piece_sync(req: PieceRequest) -> PieceScore:
    """Score a piece on the 6+1 traits: the pure, synchronous core of :class:`OfflineScorer`."""
    detailed = score_piece_detailed(req)
    traits = {t: round_trait(v) for t, v in detailed.traits.items()}
    overall = max(1.0, min(6.0, round(detailed.overall, 1)))
    return PieceScore(
        traits=traits,
        overall=overall,
        rationale=rationale(req, detailed.analysis, traits, detailed.flags),
        suggestions=suggestions(req, detailed.analysis, detailed.traits, detailed.flags),
        engine="offline",
        flags=detailed.flags,
    )


class OfflineScorer:
    """:class:`server.ai.types.PieceScorer` without a network: deterministic and fast."""

    async def score_piece(self, req: PieceRequest) -> PieceScore:
        return score_piece_sync(req)

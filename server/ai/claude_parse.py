"""Validate the model's tool input before anything uses it.

Every parser takes the raw ``tool_use`` input (a JSON object) and returns a typed value or
raises :class:`InvalidOutput`: a missing field, a wrong type (``true`` is not an integer,
``"5"`` is not a number), a number out of range, a label outside its set, or a quote that
is not in the text it claims to quote.  The client treats that as a failed attempt (retry,
then fall back to the offline engine); a bad value never reaches a player.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.ai.claude_client import InvalidOutput
from server.ai.claude_prompts import CITATION_SOURCES, MODERATION_REASONS, SCORE_FLAGS
from server.ai.types import TRAITS, Suggestion, Trait

MAX_OVERALL_DRIFT = 1.5  # overall may differ from the plain trait mean by at most this


def _field(data: Mapping[str, Any], key: str) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidOutput("tool input is not an object")
    if key not in data:
        raise InvalidOutput(f"missing field {key!r}")
    return data[key]


def int_in(data: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = _field(data, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidOutput(f"{key} must be an integer, got {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise InvalidOutput(f"{key} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidOutput(f"{key} = {value} is outside {lo}..{hi}")
    return int(value)


def num_in(data: Mapping[str, Any], key: str, lo: float, hi: float) -> float:
    value = _field(data, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidOutput(f"{key} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidOutput(f"{key} = {value} is outside {lo}..{hi}")
    return float(value)


def text(data: Mapping[str, Any], key: str, max_len: int, *, allow_empty: bool = False) -> str:
    value = _field(data, key)
    if not isinstance(value, str):
        raise InvalidOutput(f"{key} must be a string, got {type(value).__name__}")
    value = value.strip()
    if not value and not allow_empty:
        raise InvalidOutput(f"{key} is empty")
    if len(value) > max_len:
        raise InvalidOutput(f"{key} is longer than {max_len} characters")
    return value


def boolean(data: Mapping[str, Any], key: str) -> bool:
    value = _field(data, key)
    if not isinstance(value, bool):
        raise InvalidOutput(f"{key} must be true or false, got {value!r}")
    return value


def array(data: Mapping[str, Any], key: str, max_items: int, min_items: int = 0) -> list[Any]:
    value = _field(data, key)
    if not isinstance(value, list):
        raise InvalidOutput(f"{key} must be an array")
    if not min_items <= len(value) <= max_items:
        raise InvalidOutput(f"{key} must have {min_items}..{max_items} items, has {len(value)}")
    return value


def labels(data: Mapping[str, Any], key: str, allowed: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for item in array(data, key, max_items=32):
        if not isinstance(item, str) or item not in allowed:
            raise InvalidOutput(f"{key} holds an unknown label {item!r}")
        if item not in out:
            out.append(item)
    return tuple(out)


def find_quote(quote: str, source: str) -> str | None:
    """The span of ``source`` that ``quote`` copies, ignoring case and runs of whitespace."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, source, flags=re.IGNORECASE)
    return source[match.start() : match.end()] if match else None


# -- per task -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedScore:
    traits: dict[Trait, int]
    overall: float
    rationale: str
    suggestions: tuple[Suggestion, ...]
    flags: frozenset[str]


def parse_score(data: Mapping[str, Any], piece: str) -> ParsedScore:
    raw_traits = _field(data, "traits")
    if not isinstance(raw_traits, Mapping):
        raise InvalidOutput("traits must be an object")
    traits = {t: int_in(raw_traits, t.value, 1, 6) for t in TRAITS}
    overall = num_in(data, "overall", 1.0, 6.0)
    mean = sum(traits.values()) / len(traits)
    if abs(overall - mean) > MAX_OVERALL_DRIFT:
        raise InvalidOutput(f"overall {overall} is far from the trait mean {mean:.2f}")
    rationale = text(data, "rationale", 1200)
    suggestions: list[Suggestion] = []
    for item in array(data, "suggestions", max_items=3):
        if not isinstance(item, Mapping):
            raise InvalidOutput("a suggestion must be an object")
        quote = text(item, "sentence", 600)
        advice = text(item, "advice", 400)
        span = find_quote(quote, piece)
        if span is not None:  # a misquoted sentence is dropped, not shown
            suggestions.append(Suggestion(sentence=span, advice=advice))
    if piece.strip() and len(suggestions) < 2:
        raise InvalidOutput("fewer than two suggestions quote the piece")
    flags = frozenset(labels(data, "flags", SCORE_FLAGS))
    return ParsedScore(traits, round(overall, 2), rationale, tuple(suggestions), flags)


@dataclass(frozen=True, slots=True)
class ParsedJudgement:
    helpfulness: int
    specificity: int
    actionability: int
    justification: int
    tone: int
    reasons: tuple[str, ...]


def parse_judgement(data: Mapping[str, Any]) -> ParsedJudgement:
    reasons = array(data, "reasons", max_items=4, min_items=1)
    checked = tuple(text({"reason": r}, "reason", 300) for r in reasons)
    return ParsedJudgement(
        helpfulness=int_in(data, "helpfulness", 1, 6),
        specificity=int_in(data, "specificity", 1, 6),
        actionability=int_in(data, "actionability", 1, 6),
        justification=int_in(data, "justification", 1, 6),
        tone=int_in(data, "tone", 1, 6),
        reasons=checked,
    )


@dataclass(frozen=True, slots=True)
class ParsedModeration:
    verdict: str
    reasons: tuple[str, ...]
    mask_spans: tuple[str, ...]
    flag_teacher: bool


def parse_moderation(data: Mapping[str, Any], source: str) -> ParsedModeration:
    verdict = _field(data, "verdict")
    if verdict not in ("allow", "mask", "block"):
        raise InvalidOutput(f"verdict {verdict!r} is not allow, mask or block")
    reasons = labels(data, "reasons", MODERATION_REASONS)
    spans: list[str] = []
    for phrase in array(data, "mask_phrases", max_items=64):
        if not isinstance(phrase, str):
            raise InvalidOutput("mask_phrases must hold strings")
        span = find_quote(phrase, source)
        if span is not None and span not in spans:
            spans.append(span)
    if verdict == "mask" and not spans:
        raise InvalidOutput("verdict mask without any phrase found in the text")
    flag = boolean(data, "flag_teacher") or bool({"self_harm", "harassment"} & set(reasons))
    return ParsedModeration(str(verdict), reasons, tuple(spans), flag)


@dataclass(frozen=True, slots=True)
class ParsedTutor:
    answer: str
    declined: bool
    confidence: float
    relevance: float
    clarity: float
    completeness: float
    citations: tuple[tuple[str, str], ...]  # (source, quote)


def parse_tutor(data: Mapping[str, Any]) -> ParsedTutor:
    citations: list[tuple[str, str]] = []
    for item in array(data, "citations", max_items=4):
        if not isinstance(item, Mapping):
            raise InvalidOutput("a citation must be an object")
        source = _field(item, "source")
        if source not in CITATION_SOURCES:
            raise InvalidOutput(f"citation source {source!r} is unknown")
        citations.append((str(source), text(item, "quote", 300)))
    return ParsedTutor(
        answer=text(data, "answer", 1500),
        declined=boolean(data, "declined"),
        confidence=num_in(data, "confidence", 0.0, 1.0),
        relevance=num_in(data, "relevance", 0.0, 1.0),
        clarity=num_in(data, "clarity", 0.0, 1.0),
        completeness=num_in(data, "completeness", 0.0, 1.0),
        citations=tuple(citations),
    )


def parse_bot_piece(data: Mapping[str, Any], max_words: int) -> str:
    piece = text(data, "text", 4000)
    if len(piece.split()) > max_words:
        raise InvalidOutput(f"piece has more than {max_words} words")
    return piece


@dataclass(frozen=True, slots=True)
class ParsedBotReview:
    strength: str
    suggestion: str
    rating: int


def parse_bot_review(data: Mapping[str, Any]) -> ParsedBotReview:
    return ParsedBotReview(
        strength=text(data, "strength", 500),
        suggestion=text(data, "suggestion", 500),
        rating=int_in(data, "rating", 1, 6),
    )

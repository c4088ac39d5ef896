"""The offline bot reviewer: a peer review whose helpfulness follows a skill from 0 to 1.

Each review draws a tier with the writer's odds (``(1-s)²``, ``2s(1-s)``, ``s²``):

- generic (low skill): "nice story" / "make it longer", often without capitals, and a
  generous rating (4–6) whatever the piece is like;
- mid: names a content word of the piece ("the part about the lighthouse") and gives a
  general suggestion; the rating is the reviewer's estimate give or take one;
- specific (high skill): quotes words from the piece and says what they do for the reader
  in terms of the focus trait, then gives one concrete suggestion tied to a quoted
  sentence — split this long sentence after "…", swap this plain word for "…", start a
  paragraph at "…", add an ending after "…" — with a reason; the rating is the estimate.

The estimate reads simple signs of quality: length, paragraphs, rich words, capitals and
run-on sentences.  Phrases live in ``content/bots/reviews.toml``.
"""

from __future__ import annotations

import functools
import random
import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.ai.offline.bot_typing import clamp
from server.ai.offline.bot_writer import BOTS_DIR, Material, MaterialError, load_material
from server.ai.types import BotReview, BotReviewRequest, Trait

TIERS = ("generic", "mid", "specific")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[A-Za-z']+")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "then",
        "it",
        "is",
        "was",
        "i",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "as",
        "that",
        "this",
        "there",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "its",
        "are",
        "were",
        "be",
        "been",
        "have",
        "has",
        "had",
        "but",
        "so",
        "not",
        "very",
        "just",
        "like",
        "all",
        "one",
        "into",
        "from",
        "out",
        "up",
        "down",
        "over",
        "what",
        "when",
        "where",
        "who",
    ]
)


@dataclass(frozen=True, slots=True)
class ReviewPhrases:
    generic_strengths: tuple[str, ...]
    generic_suggestions: tuple[str, ...]
    mid_strengths: tuple[str, ...]
    mid_suggestions: tuple[str, ...]
    specific_strengths: tuple[str, ...]
    effects: Mapping[str, tuple[str, ...]]
    issues: Mapping[str, str]
    focus: Mapping[str, str]


def _list(table: Any, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key) if isinstance(table, Mapping) else None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise MaterialError(f"{where}: {key} must be a non-empty list of strings")
    return tuple(value)


@functools.cache
def load_phrases(path: Path = BOTS_DIR / "reviews.toml") -> ReviewPhrases:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MaterialError(f"{path}: {exc}") from None
    where = str(path)
    effects = data.get("effects", {})
    issues = data.get("issues", {})
    focus = data.get("focus", {})
    for trait in Trait:
        if trait.value not in effects or trait.value not in focus:
            raise MaterialError(f"{where}: [effects] and [focus] need an entry for {trait.value}")
    return ReviewPhrases(
        generic_strengths=_list(data.get("generic"), "strengths", where),
        generic_suggestions=_list(data.get("generic"), "suggestions", where),
        mid_strengths=_list(data.get("mid"), "strengths", where),
        mid_suggestions=_list(data.get("mid"), "suggestions", where),
        specific_strengths=_list(data.get("specific"), "strengths", where),
        effects={k: _list(effects, k, f"{where} [effects]") for k in effects},
        issues={str(k): str(v) for k, v in issues.items()},
        focus={str(k): str(v) for k, v in focus.items()},
    )


def _rich_words(material: Material) -> frozenset[str]:
    words: set[str] = set()
    for scene in material.scenes.values():
        phrases = [*scene.adjs["rich"], *scene.adjs["mid"]]
        for thing in scene.things:
            phrases.extend([thing.rich, *thing.rich_acts])
        for phrase in phrases:
            words.update(w.lower() for w in _WORD.findall(phrase) if len(w) >= 5)
    return frozenset(words - _STOP)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reviewer notices in a piece."""

    sentences: tuple[str, ...]
    words: tuple[str, ...]
    paragraphs: int
    rich: tuple[str, ...]
    lowercase_starts: tuple[str, ...]
    lowercase_i: tuple[str, ...]
    long_sentences: tuple[str, ...]
    plain: tuple[tuple[str, str], ...]  # (word, sentence)
    repeated: tuple[str, int] | None
    ends_well: bool

    def estimate(self) -> int:
        n = len(self.words)
        score = 3.0
        score += 1.0 if n >= 70 else 0.0
        score += 0.5 if n >= 110 else 0.0
        score -= 1.0 if n < 35 else 0.0
        score += 0.5 if self.paragraphs >= 2 else 0.0
        score += 1.0 if len(self.rich) >= 3 else 0.5 if self.rich else 0.0
        score -= 1.0 if len(self.lowercase_starts) >= 2 or self.lowercase_i else 0.0
        score -= 0.5 if self.long_sentences else 0.0
        return int(min(6, max(1, round(score))))


def read_piece(text: str, material: Material) -> Reading:
    sentences = tuple(s.strip() for s in _SENTENCE.findall(text) if len(s.split()) >= 2)
    words = tuple(_WORD.findall(text))
    rich_vocab = _rich_words(material)
    rich = tuple(dict.fromkeys(w for w in words if w.lower() in rich_vocab))
    plain: list[tuple[str, str]] = []
    for sentence in sentences:
        for w in _WORD.findall(sentence):
            if w.lower() in material.plain_words:
                plain.append((w, sentence))
    counts = Counter(w.lower() for w in words if len(w) >= 4 and w.lower() not in _STOP)
    top = counts.most_common(1)
    repeated = top[0] if top and top[0][1] >= 4 else None
    last = text.rstrip()
    return Reading(
        sentences=sentences,
        words=words,
        paragraphs=len([p for p in re.split(r"\n\s*\n", text) if p.strip()]),
        rich=rich,
        lowercase_starts=tuple(s for s in sentences if s[:1].islower()),
        lowercase_i=tuple(s for s in sentences if re.search(r"\bi\b", s)),
        long_sentences=tuple(s for s in sentences if len(s.split()) > 28),
        plain=tuple(plain),
        repeated=repeated,
        ends_well=bool(last) and last[-1] in ".!?\"'" and len(sentences) >= 3,
    )


def _fragment(sentence: str, rng: random.Random, around: str | None = None) -> str:
    """Three to seven words of the sentence, exactly as written, around a word if given."""
    words = sentence.rstrip(".!?").split()
    if len(words) <= 7:
        return " ".join(words)
    size = rng.randint(4, 7)
    centre = 0
    if around is not None:
        for i, w in enumerate(words):
            if around.lower() in w.lower():
                centre = i
                break
    start = max(0, min(len(words) - size, centre - size // 2))
    return " ".join(words[start : start + size])


def _start(sentence: str, n: int = 4) -> str:
    return " ".join(sentence.split()[:n])


class _Reviewer:
    def __init__(self, req: BotReviewRequest, material: Material, phrases: ReviewPhrases):
        self.req = req
        self.s = clamp(req.skill)
        self.rng = random.Random(f"bot-reviewer|{req.seed}|{req.prompt.id}|{self.s:.4f}")
        self.m = material
        self.p = phrases
        self.reading = read_piece(req.piece_text, material)

    def tier(self) -> str:
        s = self.s
        return self.rng.choices(TIERS, weights=((1 - s) ** 2, 2 * s * (1 - s), s * s))[0]

    def noun(self) -> str:
        """A content word of the piece, preferring the rich ones."""
        rich = {w.lower() for w in self.reading.rich}
        content = [w for w in self.reading.words if len(w) >= 4 and w.lower() not in _STOP]
        nouns = [w for w in content if w.lower() in rich] or content
        return self.rng.choice(nouns).lower() if nouns else "picture"

    def review(self) -> BotReview:
        if not self.reading.sentences:
            return BotReview(
                strength="You started, that is something.",
                suggestion="Write a few sentences about what you see in the picture.",
                rating=1,
                engine="offline",
            )
        tier = self.tier()
        estimate = self.reading.estimate()
        if tier == "generic":
            strength = self.rng.choice(self.p.generic_strengths)
            suggestion = self.rng.choice(self.p.generic_suggestions)
            rating = self.rng.choice((4, 5, 5, 6, 6, 6))
        elif tier == "mid":
            strength = self.rng.choice(self.p.mid_strengths)
            suggestion = self.rng.choice(self.p.mid_suggestions)
            strength = strength.format(noun=self.noun(), trait=self._trait_name())
            suggestion = suggestion.format(noun=self.noun(), trait=self._trait_name())
            rating = int(min(6, max(1, estimate + self.rng.choice((-1, 0, 0, 1)))))
        else:
            strength = self._specific_strength()
            suggestion = self._specific_suggestion()
            rating = estimate
        return BotReview(strength=strength, suggestion=suggestion, rating=rating, engine="offline")

    def _trait_name(self) -> str:
        return self.req.focus.value.replace("_", " ")

    def _specific_strength(self) -> str:
        rng, reading = self.rng, self.reading
        scored = sorted(
            reading.sentences,
            key=lambda s: (
                -sum(1 for w in _WORD.findall(s) if w in reading.rich),
                abs(len(s.split()) - 14),
            ),
        )
        best = scored[0]
        rich_here = [w for w in _WORD.findall(best) if w in reading.rich]
        quote = _fragment(best, rng, rich_here[0] if rich_here else None)
        effect = rng.choice(self.p.effects[self.req.focus.value])
        template = rng.choice(self.p.specific_strengths)
        return template.format(quote=quote, effect=effect, trait=self._trait_name())

    def _specific_suggestion(self) -> str:
        rng, reading, issues = self.rng, self.reading, self.p.issues
        focus = self.req.focus
        options: list[str] = []
        if reading.long_sentences and "long_sentence" in issues:
            s = reading.long_sentences[0]
            words = s.split()
            options.append(
                issues["long_sentence"].format(
                    start=_start(s), split=" ".join(words[len(words) // 2 - 2 : len(words) // 2])
                )
            )
        if reading.plain and "plain_word" in issues:
            word, s = rng.choice(reading.plain)
            better = rng.choice(self.m.plain_words[word.lower()])
            options.append(
                issues["plain_word"].format(quote=_fragment(s, rng, word), word=word, better=better)
            )
        if reading.paragraphs == 1 and len(reading.sentences) >= 5:
            s = reading.sentences[len(reading.sentences) // 2]
            options.append(issues["one_paragraph"].format(start=_start(s)))
        if not reading.ends_well:
            options.append(issues["no_ending"].format(quote=_fragment(reading.sentences[-1], rng)))
        if reading.lowercase_i:
            options.append(
                issues["lowercase_i"].format(quote=_fragment(reading.lowercase_i[0], rng, "i"))
            )
        if reading.lowercase_starts:
            options.append(
                issues["lowercase_start"].format(quote=_start(reading.lowercase_starts[0], 5))
            )
        if len(reading.words) < 40:
            options.append(issues["short"].format(quote=_fragment(reading.sentences[-1], rng)))
        if reading.repeated is not None:
            word, n = reading.repeated
            where = next((s for s in reading.sentences if word in s.lower()), reading.sentences[0])
            options.append(
                issues["repetition"].format(word=word, n=n, quote=_fragment(where, rng, word))
            )
        preferred = {
            Trait.CONVENTIONS: ("Check your capitals", 'Write "I"'),
            Trait.SENTENCE_FLUENCY: ("The sentence starting",),
            Trait.WORD_CHOICE: ("is a bit plain", "You use the word"),
            Trait.ORGANIZATION: ("Everything is in one paragraph", "The piece stops"),
            Trait.PRESENTATION: ("Everything is in one paragraph",),
            Trait.IDEAS: ("It is quite short",),
        }.get(focus, ())
        for option in options:
            if option.startswith(preferred) or any(p in option for p in preferred):
                return option
        if options and rng.random() < 0.7:
            return options[0]
        target = rng.choice(reading.sentences[1:] or reading.sentences)
        return self.p.focus[focus.value].format(quote=_fragment(target, rng))


def write_review_sync(
    req: BotReviewRequest,
    material: Material | None = None,
    phrases: ReviewPhrases | None = None,
) -> BotReview:
    """A deterministic review: the same request gives the same review."""
    return _Reviewer(req, material or load_material(), phrases or load_phrases()).review()


class OfflineBotReviewer:
    """:class:`~server.ai.types.BotReviewer` built on ``content/bots/reviews.toml``."""

    def __init__(self, material: Material | None = None) -> None:
        self.material = material or load_material()
        self.phrases = load_phrases()

    async def write_review(self, req: BotReviewRequest) -> BotReview:
        return write_review_sync(req, self.material, self.phrases)

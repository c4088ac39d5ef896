"""The offline review judge: how helpful is a peer's feedback on one piece?

Four sub-scores, 1–6, from features a teacher would look for:

* **specificity** – the review points at *this* piece: it quotes or reuses its words
  (shared three-word phrases, content words of the piece that are not just the prompt's) and
  names writing craft (verb, ending, dialogue, paragraph…).
* **actionability** – the suggestion asks for a concrete change (try / add / replace / split…,
  "you could", "instead of"), about a particular part, ideally with an example.
* **justification** – it says why (because, so that, the reader, it shows, makes me feel…),
  and the 1–6 rating is in line with the piece's focus-trait score.
* **tone** – kind and constructive; insults, profanity, shouting and dismissive filler
  ("whatever", "meh") pull it down.

``helpfulness`` blends them and is capped for reviews that fail outright: generic praise
("good job"), filler ("idk", "..."), text copied from the piece, a rude review, or a review of
the wrong piece (no overlap with this piece at all).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from server.ai.offline import lexicon
from server.ai.offline.features import prompt_vocabulary
from server.ai.offline.lexicon import word_list
from server.ai.offline.moderation import scan
from server.ai.offline.scorer import score_piece_detailed
from server.ai.offline.text import split_document, stem
from server.ai.types import PieceRequest, Prompt, ReviewRequest, ReviewScore, Trait

MAX_REVIEW_CHARS = 4000
"""Each review field is read up to this many characters."""

_DIRECTIVES = frozenset(
    word_list(
        "try add replace change cut split consider describe show use remove move start end explain "
        "give include shorten combine tell write vary check fix put read slow reveal break delete "
        "swap expand name let mention focus keep drop rewrite develop trim open finish begin "
        "introduce build zoom say ask cut"
    )
)
_DIRECTIVE_RE = re.compile(
    r"(?:^|[,.;:!?]\s*|\b(?:and|but|then|so|just|please|also)\s+)(?:"
    + "|".join(sorted(_DIRECTIVES))
    + r")\b"
)
"""A directive verb opening the suggestion or one of its clauses ('…, try adding…')."""
_MODAL_RE = re.compile(
    r"\b(?:you could|you should|you might|you can|could you|maybe|perhaps|instead of|instead|"
    r"it would|would be|what if|i would|i'd|next time|one idea|how about|if you)\b"
)
_EXAMPLE_RE = re.compile(
    r"\b(?:for example|for instance|such as|like ['\"“‘]|e\.g\.)|['\"“‘][^'\"”’]{3,}['\"”’]"
)
_WHY_RE = re.compile(
    r"\b(?:because|so that|so the|so we|so it|so readers?|since|which (?:makes|made|shows|helps)|"
    r"makes? (?:me|it|the|us)|made me|helps?|helped|would make|to make|it shows|this shows|"
    r"shows|the reader|readers?|i could (?:see|feel|picture|hear)|gave me|pulled me|hooked|"
    r"feel|felt|picture|imagine)\b"
)
_CRAFT = frozenset(
    word_list(
        "verb verbs noun nouns adjective sentence sentences paragraph paragraphs ending opening "
        "beginning hook dialogue detail details description simile metaphor comparison image "
        "imagery transition transitions word words spelling punctuation comma commas capital "
        "voice tone pace pacing rhythm suspense tension character characters setting scene line "
        "lines title quote quotes senses sensory show tell repetition repeat twist climax"
    )
)
_GENERIC = frozenset(
    word_list(
        "good great nice cool awesome amazing job story liked like love loved wow perfect keep "
        "better make more details detail work fun interesting well done best really very it "
        "writing piece was is this that i you your add change some words things thing everything "
        "nothing fine ok okay excellent wonderful super lol"
    )
)
_FILLER = frozenset(
    word_list(
        "idk nothing none no na n a asdf asdfg qwerty lol meh whatever ok okay k dunno hmm um uh "
        "yes yeah nah suggestion suggestions"
    )
)
_HARSH = frozenset(
    word_list(
        "boring worst trash garbage stupid sucks suck terrible awful horrible dumb lame pathetic "
        "useless idiot hate hated lazy cringe ugly"
    )
)
_HARSH_RE = re.compile(
    r"\b(?:bad at|learn to write|nobody (?:wants|cares|likes)|no one (?:wants|cares)|just stop|"
    r"shut up|give up|waste of|you can'?t write|what is this)\b"
)
_DISMISSIVE = frozenset(word_list("whatever meh idk dunno nothing nah"))
_KIND_RE = re.compile(
    r"\b(?:i (?:really )?(?:liked|loved|like|love|enjoyed)|great|nice|strong|beautiful|clever|"
    r"powerful|favorite|favourite|well done|good job)\b"
)


def _grow(x: float, scale: float) -> float:
    return 1.0 - math.exp(-max(0.0, x) / scale)


def _scale(s: float) -> float:
    return 1.0 + 5.0 * max(0.0, min(1.0, s))


@lru_cache(maxsize=512)
def _focus_score(prompt: Prompt, text: str, focus: Trait) -> float:
    """The offline scorer's continuous value of the focus trait (cached per piece)."""
    return score_piece_detailed(PieceRequest(prompt=prompt, text=text, focus=focus)).traits[focus]


def _ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _is_filler(words: Sequence[str], text: str) -> bool:
    letters = sum(1 for c in text if c.isalpha())
    if letters < 3:
        return True
    if not words:
        return True
    unknown = sum(1 for w in words if not lexicon.is_known(w) and w not in _FILLER)
    return (
        all(w in _FILLER for w in words)
        or unknown / len(words) >= 0.5
        or (len(set(words)) == 1 and len(words) > 1)
    )


def judge_review_sync(req: ReviewRequest) -> ReviewScore:
    """Judge one review (pure, deterministic): the core of :class:`OfflineJudge`."""
    strength = req.strength[:MAX_REVIEW_CHARS]
    suggestion = req.suggestion[:MAX_REVIEW_CHARS]
    s_words = split_document(strength).words
    g_words = split_document(suggestion).words
    words = s_words + g_words
    piece = split_document(req.piece_text)
    piece_words = piece.words
    piece_stems = {stem(w) for w in piece_words if w not in lexicon.STOPWORDS and len(w) > 2}
    prompt_stems = prompt_vocabulary(req.prompt).full
    reasons: list[str] = []

    filler_s = _is_filler(s_words, strength)
    filler_g = _is_filler(g_words, suggestion)
    content = [w for w in words if w not in lexicon.STOPWORDS and len(w) > 2]
    meaningful = [
        w
        for w in content
        if w not in lexicon.META_WORDS
        and w not in _GENERIC
        and w not in _HARSH
        and w not in _FILLER
    ]
    overlap = {stem(w) for w in meaningful} & piece_stems
    own = {st for st in overlap if st not in prompt_stems}
    shared3 = _ngrams(words, 3) & _ngrams(piece_words, 3)
    shared3 = {g for g in shared3 if any(w not in lexicon.STOPWORDS for w in g)}
    craft = {w for w in words if w in _CRAFT}
    generic = bool(words) and all(w in _GENERIC or w in lexicon.STOPWORDS for w in words)

    piece4 = _ngrams(piece_words, 4)
    covered: set[int] = set()
    for i in range(len(words) - 3):
        if tuple(words[i : i + 4]) in piece4:
            covered.update(range(i, i + 4))
    copied = len(words) >= 6 and len(covered) / len(words) >= 0.7

    mentioned = {stem(w) for w in meaningful}
    wrong_piece = (
        len(mentioned) >= 3
        and not shared3
        and (not overlap or (len(overlap) == 1 and len(mentioned) >= 5))
    )

    # specificity
    specificity = _scale(
        0.40 * _grow(len(overlap) + len(own), 3.0)
        + 0.35 * _grow(len(shared3), 1.5)
        + 0.25 * _grow(len(craft), 1.5)
    )
    # actionability (suggestion field first)
    g_text = " ".join(g_words)
    directive = bool(_DIRECTIVE_RE.search(suggestion.lower())) or bool(_MODAL_RE.search(g_text))
    g_overlap = {
        stem(w)
        for w in g_words
        if w not in lexicon.STOPWORDS and w not in lexicon.META_WORDS and w not in _GENERIC
    } & piece_stems
    g_shared = _ngrams(g_words, 3) & _ngrams(piece_words, 3)
    example = bool(_EXAMPLE_RE.search(suggestion.lower()))
    actionability = _scale(
        0.30 * directive
        + 0.35 * _grow(len(g_overlap) + 2 * len(g_shared), 2.5)
        + 0.20 * example
        + 0.15 * _grow(len(g_words) - 4, 8.0)
    )
    # justification
    why = len(_WHY_RE.findall(" ".join(words)))
    focus_value = _focus_score(req.prompt, req.piece_text[:20_000], req.focus)
    agreement = 1.0 - min(1.0, abs(req.rating - focus_value) / 4.0)
    justification = _scale(0.7 * _grow(why, 1.2) + 0.3 * agreement)
    if abs(req.rating - focus_value) >= 3:
        reasons.append("rating far from the piece's level")
    # tone
    found = scan(strength + "\n" + suggestion)
    text_all = " ".join(words)
    tone = 5.0
    if found.block or "profanity" in found.reasons:
        tone = 1.0
    elif any(w in _HARSH for w in words) or _HARSH_RE.search(text_all):
        tone = 1.5
    elif (s_words and all(w in _DISMISSIVE for w in s_words)) or (
        g_words and all(w in _DISMISSIVE for w in g_words)
    ):
        tone = 3.0
    raw = strength + suggestion
    caps = sum(1 for w in re.findall(r"[A-Za-z]{3,}", raw) if w.isupper())
    if caps >= 3 or raw.count("!!!") > 0:
        tone -= 0.5
    if tone >= 4 and _KIND_RE.search(text_all):
        tone += 0.5
    tone = max(1.0, min(6.0, tone))

    helpfulness = 0.35 * specificity + 0.30 * actionability + 0.15 * justification + 0.20 * tone
    cap = 6.0
    if filler_s and filler_g:
        reasons.append("filler")
        cap = 1.0
        specificity = actionability = justification = 1.0
    elif generic:
        reasons.append("generic praise")
        cap = 2.0
        specificity = 1.0
        actionability = min(actionability, 2.0)
    if copied:
        reasons.append("copies the piece's text")
        cap = min(cap, 2.0)
        specificity = min(specificity, 1.5)
        actionability = min(actionability, 1.5)
    if wrong_piece:
        reasons.append("not about this piece")
        cap = min(cap, 2.0)
        specificity = 1.0
        actionability = min(actionability, 2.0)
    if tone <= 2.0:
        reasons.append("rude or dismissive")
        cap = min(cap, 2.0 if tone > 1.0 else 1.5)
    helpfulness = min(helpfulness, cap)
    if not reasons or cap > 2.0:
        if len(own) + len(shared3) >= 2:
            reasons.append("points at the piece's own words")
        if directive and (g_overlap or g_shared):
            reasons.append("gives a concrete change")
        elif not directive:
            reasons.append("no concrete suggestion")
        if why:
            reasons.append("explains why")
    return ReviewScore(
        helpfulness=_round(helpfulness),
        specificity=_round(specificity),
        actionability=_round(actionability),
        justification=_round(justification),
        tone=_round(tone),
        reasons=tuple(reasons),
        engine="offline",
    )


def _round(value: float) -> int:
    return max(1, min(6, math.floor(value + 0.5)))


class OfflineJudge:
    """:class:`server.ai.types.ReviewJudge` without a network."""

    async def judge_review(self, req: ReviewRequest) -> ReviewScore:
        return judge_review_sync(req)

"""Features of a piece of writing that a teacher would recognise, each a number with a meaning.

:func:`analyse` splits the piece, sets aside padding (repeated sentences, keyword lists and
sentences addressed to the scorer) and measures what is left.  Every field of
:class:`PieceFeatures` is documented where it is declared; docs/ai.md explains why each one
is there and where it fails.  Nothing here rounds or clamps to the 1–6 scale: that is the
scorer's job (:mod:`server.ai.offline.scorer`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from server.ai.content import load_related_words
from server.ai.offline import lexicon
from server.ai.offline.lexicon import STOPWORDS, word_list
from server.ai.offline.order import order_score
from server.ai.offline.text import NUMBER_RE, WORD_RE, Document, Sentence, split_document, stem
from server.ai.types import PieceRequest, Prompt

WORDS_PER_MINUTE: dict[str, float] = {
    "elementary": 20.0,
    "middle": 30.0,
    "high": 35.0,
    "adult": 40.0,
}
"""Words per minute a capable writer of each level produces in a timed draft."""

_INJECTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|rules?|prompts?|rubric|above)\b"
    r"|\b(?:give|grade|score|rate|mark|award)\b.{0,25}\b(?:me|this|it|my)\b.{0,40}"
    r"(?:\b6s?\b|\bsix(?:es)?\b|full marks|\btop\b|highest|perfect|\b100\b|\ba\+)"
    r"|\b(?:system prompt|as an ai|language model|you are (?:an? |the )?(?:ai|grader|scorer|judge))\b",
    re.IGNORECASE,
)
_INJECTION_TRIGGERS = frozenset(
    word_list(
        "ignore disregard forget override give grade score rate mark award system ai "
        "model grader scorer judge"
    )
)
"""Every instruction the injection pattern catches contains one of these words."""
_SPACE_BEFORE_PUNCT_RE = re.compile(r"[^\W\d_] +[,.;:!?](?!\S*\d)")
_MISSING_SPACE_RE = re.compile(r"[a-z][,.;:!?][A-Za-z]{2,}")
_PUNCT_RUN_RE = re.compile(r"[!?]{3,}|\.{4,}")
_EMOJI_RE = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_QUOTE_RE = re.compile(r"[\"“”]")
_FIGURATIVE_RE = re.compile("|".join(lexicon.FIGURATIVE_PATTERNS), re.IGNORECASE)
_FUSED_RE = re.compile(r"\b([a-z']+) (?:i|he|she|it|they|we|you) (?:was|is|were|are|wasnt|isnt)\b")
"""Two sentences run together with no punctuation: '…in the lighthouse he was scared'."""
_WEAK_ENDING_RE = re.compile(
    r"(?<!in )(?<!at )\bthe end\b(?! of)|woke up$|\b(?:it|this|that) was (?:all )?(?:just )?a dream"
    r"|that'?s my story|that is my story|to be continued"
)
_WEAK_TRIGGERS = frozenset(word_list("end woke dream story continued"))
_SUBORDINATORS = frozenset(
    word_list(
        "because when while although though if since until unless whereas which who whose "
        "where as after before"
    )
)
_NUMBER_WORDS = frozenset(
    word_list(
        "two three four five six seven eight nine ten eleven twelve twenty thirty forty "
        "fifty sixty hundred thousand million first second third fourth fifth"
    )
)


@dataclass(frozen=True, slots=True)
class PromptVocabulary:
    """Stems that say a piece is about this prompt, each weighted by how distinctive it is,
    and for each of them the related stems that evoke it without naming it."""

    core: frozenset[str]  # title, prompt text, tags and alt text
    full: frozenset[str]  # core plus the image description
    weights: Mapping[str, float]  # stem -> 0.1..1: rare words (lighthouse) 1, common (night) low
    anchors: frozenset[str]  # distinctive core stems (weight >= 0.6): lighthouse, keeper, beam
    core_total: float  # sum of the core weights (capped at CORE_UNITS)
    full_total: float  # sum of all weights (capped at FULL_UNITS)
    related: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # stem -> related
    related_weights: Mapping[str, float] = field(default_factory=dict)  # related stems not in full
    forms: Mapping[str, frozenset[str]] = field(default_factory=dict)  # rocky -> {rock}
    evoke_anchors: bool = False  # a prompt without tags: related words may stand for anchors
    echo: frozenset[str] = frozenset()  # full plus every related stem and form

    @property
    def anchors_needed(self) -> int:
        """Anchors a piece must evoke for full relevance: two, or one of a prompt's two."""
        return min(2, (len(self.anchors) + 1) // 2)

    @property
    def topical(self) -> bool:
        """False for a prompt with no topic words at all ("Write a story."): nothing to miss."""
        return self.core_total >= MIN_TOPIC_UNITS


CORE_UNITS = 4.0
"""Distinctive prompt words (weighted) a piece must take up to cover the prompt fully."""
FULL_UNITS = 6.0
COVER_SHARE = 0.6
"""…or this share of a shorter prompt's weight: a piece need not use every word of a
teacher's sentence ("stands", "alone", "tonight") to cover it."""
TITLE_WEIGHT = 0.5
"""A title word found nowhere else in the prompt weighs half: a teacher's title is often a
label ("Forgotten places", "Week 6 writing")."""
SUPPORT_UNITS = 1.0
"""A prompt word with related words counts fully once related words weighing this much are
used too; on its own it counts half ("lighthouse" dropped into a football story)."""
MIN_TOPIC_UNITS = 0.2
"""Below this much topic weight a prompt sets no topic ("Write a story.")…"""
NEUTRAL_RELEVANCE = 0.8
"""…and every piece gets this relevance: there is nothing to be off."""
EVOKED = 0.8
"""Credit for a prompt word the piece never uses but evokes with related words weighing
EVOKED_UNITS (each weighs its distinctiveness: keeper 1, lamp 0.6, water 0.1)…"""
EVOKED_UNITS = 2.0
EVOKED_ANCHOR = 1.0
"""…and the related weight (two words or more) that evokes an anchor, for a prompt without
tags only: a pack prompt's tags already name what a piece on it must mention."""
RELATED_DENSITY = 0.5
"""Weight of a related word, relative to its own distinctiveness, in the density of topic words."""


def distinctiveness(word: str) -> float:
    """0.1..1 from word frequency: 'lighthouse' (Zipf 3.6) ≈ 1, 'night' (Zipf 5.4) ≈ 0.25."""
    return max(0.1, min(1.0, (6.0 - lexicon.zipf(word)) / 2.5))


def topic_weight(word: str) -> float:
    """The distinctiveness of a word's most common form: 'rolls' weighs what 'roll' does and
    'arriving' what 'arrive' does, so the verbs of a prompt's sentence do not pass for rare
    topic words.  (Tags are topic words already and keep their own weight.)"""
    st = stem(word)
    forms = [f for f in (st, st + "e") if f != word and lexicon.is_known(f)]
    return min([distinctiveness(word), *map(distinctiveness, forms)])


@lru_cache(maxsize=1)
def _related_table() -> Mapping[str, tuple[str, ...]]:
    """content/topics/related.toml keyed by stem (loaded once)."""
    table: dict[str, tuple[str, ...]] = {}
    for key, words in load_related_words().items():
        table[stem(key)] = table.get(stem(key), ()) + words
    return table


def related_words(word: str) -> tuple[str, ...]:
    """The related words of a prompt word ('lighthouse' -> keeper, lamp, beam…); an adjective
    in -y finds its noun's list ('stormy' -> storm, 'rocky' -> rock)."""
    table = _related_table()
    found = table.get(stem(word))
    if found is None and word.endswith("y") and len(word) > 4:
        found = table.get(stem(word[:-1]))
    return found or ()


@lru_cache(maxsize=256)
def prompt_vocabulary(prompt: Prompt) -> PromptVocabulary:
    """The prompt's content stems: ``core`` from title/text/tags/alt text, ``full`` adds the
    picture; each stem's related stems from content/topics/related.toml."""
    words: dict[str, str] = {}  # stem -> a word it came from

    def stems(text: str, weigh: Callable[[str], float] = topic_weight) -> dict[str, float]:
        doc = split_document(text)
        out: dict[str, float] = {}
        for w in doc.words:
            if w not in STOPWORDS and len(w) > 2 and w not in lexicon.PROMPT_INSTRUCTION_WORDS:
                st = stem(w)
                out[st] = max(out.get(st, 0.0), weigh(w))
                words.setdefault(st, w)
        return out

    core_text = ". ".join((prompt.title, prompt.text, ". ".join(prompt.tags), prompt.alt_text))
    tags = stems(". ".join(prompt.tags), distinctiveness)
    body = stems(". ".join((prompt.text, prompt.alt_text)))
    body = {st: max(w, tags.get(st, 0.0)) for st, w in body.items()} | {
        st: w for st, w in tags.items() if st not in body
    }
    title_raw = {st: w for st, w in stems(prompt.title).items() if st not in body}
    title = {st: TITLE_WEIGHT * w for st, w in title_raw.items()}
    core = {**title, **body}
    extra = stems(prompt.image_description)
    instructions = {
        stem(w) for w in split_document(core_text).words if w in lexicon.PROMPT_INSTRUCTION_WORDS
    }
    weights = {**extra, **core}
    related: dict[str, dict[str, float]] = {}
    related_weights: dict[str, float] = {}
    forms: dict[str, frozenset[str]] = {}
    for st, w in words.items():
        if w.endswith("y") and len(w) > 4 and lexicon.is_known(w[:-1]):
            forms[st] = frozenset({stem(w[:-1])})  # rocky -> rock, stormy -> storm
        rel = {stem(r): topic_weight(r) for r in related_words(w)}
        rel.pop(st, None)
        if rel:
            related[st] = rel
        for rs, weight in rel.items():
            if rs not in weights:  # a related word that is a prompt word counts as one
                related_weights[rs] = max(related_weights.get(rs, 0.0), min(weights[st], weight))
    return PromptVocabulary(
        core=frozenset(core),
        full=frozenset(weights),
        weights=weights,
        anchors=frozenset(st for st, w in {**title_raw, **body}.items() if w >= 0.6),
        core_total=min(CORE_UNITS, COVER_SHARE * sum(core.values())),
        full_total=min(FULL_UNITS, COVER_SHARE * sum(weights.values())),
        related=related,
        related_weights=related_weights,
        forms=forms,
        evoke_anchors=not prompt.tags,
        echo=frozenset(weights).union(related_weights, instructions, *forms.values()),
    )


def relevance_of(
    vocab: PromptVocabulary, stems: frozenset[str] | set[str], content_stems: Sequence[str]
) -> float:
    """0..1: how much of the prompt a piece with these distinct ``stems`` (and this sequence of
    content stems) takes up.  A prompt word counts when used, or up to EVOKED when its related
    words are (weighted by their distinctiveness); an anchor counts when used or evoked."""
    if not vocab.topical:
        return NEUTRAL_RELEVANCE
    weights = vocab.weights
    credit: dict[str, float] = {}
    anchors = 0
    forms = vocab.forms
    full = vocab.full
    for st in full:
        rel = vocab.related.get(st)
        if st in stems or (st in forms and not forms[st].isdisjoint(stems)):
            # supported by related words, prompt words among them
            hits = sum(w for r, w in rel.items() if r in stems) if rel else 0.0
            c = 1.0 if rel is None else 0.5 + 0.5 * min(1.0, hits / SUPPORT_UNITS)
            evoked = rel is None or hits > 0  # an anchor needs one related word beside it
        elif rel:
            # evoked by related words; for credit only those that are not prompt words
            # (those count for themselves), for an anchor all of them
            hits = sum(w for r, w in rel.items() if r in stems and r not in full)
            c = EVOKED * min(1.0, hits / EVOKED_UNITS)
            found = [w for r, w in rel.items() if r in stems]
            evoked = vocab.evoke_anchors and len(found) >= 2 and sum(found) >= EVOKED_ANCHOR
        else:
            c, evoked = 0.0, False
        credit[st] = c
        if evoked and st in vocab.anchors:
            anchors += 1
    core_cover = sum(weights[st] * credit[st] for st in vocab.core) / max(vocab.core_total, 0.1)
    full_cover = sum(weights[st] * c for st, c in credit.items()) / max(vocab.full_total, 0.1)
    core = vocab.core
    rw = vocab.related_weights
    total = 0.0
    for st in content_stems:
        if st in core:
            total += weights[st] * credit[st]
        elif st in rw:
            total += RELATED_DENSITY * rw[st]
    density = total / max(1, len(content_stems))
    needed = vocab.anchors_needed
    anchor_factor = 0.35 + 0.65 * min(1.0, anchors / needed) if needed else 1.0
    return (
        0.50 * min(1.0, core_cover) + 0.20 * min(1.0, full_cover) + 0.30 * min(1.0, density / 0.08)
    ) * anchor_factor


@dataclass(frozen=True, slots=True)
class SentenceNotes:
    """What the analysis noticed in one sentence (used to tie suggestions to sentences)."""

    index: int
    misspelled: tuple[str, ...]
    bland: tuple[str, ...]
    lowercase_start: bool
    missing_apostrophe: tuple[str, ...]
    sensory: int
    prompt_hits: int


@dataclass(frozen=True, slots=True)
class PieceFeatures:
    """Measurements of one piece.  Rates are shares (0..1) unless said otherwise."""

    # --- size ----------------------------------------------------------------------------
    words: int
    """Word tokens read (after the MAX_CHARS cap)."""
    kept_words: int
    """Words in sentences that are not padding: what the other features measure."""
    sentences: int
    """Kept sentences."""
    paragraphs: int
    """Non-blank lines that hold at least one sentence."""

    # --- padding and integrity -------------------------------------------------------------
    padding_share: float
    """Share of words in sentences set aside as padding: exact or near repeats of an earlier
    sentence, keyword lists with almost no function words, one word said over and over, or
    sentences addressed to the scorer ("give me a 6")."""
    injection: bool
    """A sentence tries to instruct the scorer."""
    gibberish_share: float
    """Share of words that are neither dictionary words nor seen by wordfreq (keyboard mash)."""
    letter_share: float
    """Share of non-space characters that are letters."""
    distinct_words: int
    """Different words used (lower case)."""
    function_share: float
    """Share of words that are function words (the, of, and…); English prose sits near 0.45."""

    # --- ideas -----------------------------------------------------------------------------
    relevance: float
    """0..1: how much of the prompt's picture and topic the piece takes up: coverage of the
    prompt's words (text, tags, alt text, title at half weight; then the image description),
    each used or evoked by its related words (content/topics/related.toml), and how dense they
    are in the piece, each prompt word weighted by how distinctive it is ('lighthouse' counts,
    'night' hardly), and scaled down unless the piece takes up two of the prompt's distinctive
    words (anchors), so an unrelated piece that shares everyday words stays low (see
    :func:`relevance_of`)."""
    development: float
    """0..1: length and the number of distinct ideas against what the time allows at this
    level; only sentences that add a new content word count toward the length.  Rises
    smoothly and never quite saturates."""
    idea_units: int
    """Distinct content-word stems in kept sentences: a rough count of things said."""
    detail: float
    """0..1: concrete, specific words (sensory words, numbers, names, precise rarer words
    spelled right): their rate per content word, times a factor that grows with how many
    there are, so a few vivid words in a short text do not outscore a developed piece."""

    # --- organization ----------------------------------------------------------------------
    paragraphing: float
    """0..1: paragraphs against what the length calls for (about one per 90 words)."""
    transitions: float
    """0..1: sentences linked by a transition (then, because, finally, that was when…),
    with variety; a string of 'then…then…then' counts less."""
    order: float
    """0..1: evidence that the sentences are in a sensible order (see
    :mod:`server.ai.offline.order`): openings, closers, antecedents, introductions."""
    ending: float
    """0..1: no stock ending ('the end', 'I woke up', 'it was a dream'); a closing phrase
    (finally, in the end, from then on) opening the last sentence scores highest."""

    # --- voice -----------------------------------------------------------------------------
    sensory_rate: float
    """Sensory words (sounds, smells, textures, light and colour) per content word."""
    emotion_rate: float
    """Feeling words per content word."""
    figurative: float
    """Similes and comparisons per 100 words ('like a…', 'as if', 'as cold as')."""
    dialogue: float
    """0..1: the piece uses quoted speech."""
    expressive: float
    """0..1: questions and exclamations in moderation (some, not every sentence)."""

    # --- word choice -----------------------------------------------------------------------
    mattr: float
    """Moving-average type–token ratio over 40-word windows: vocabulary variety that does
    not depend on length."""
    mean_zipf: float
    """Mean wordfreq Zipf frequency of correctly spelled content words; lower is rarer."""
    rich_share: float
    """Share of content words that are correctly spelled and uncommon (Zipf below 4)."""
    bland_rate: float
    """Vague words (thing, stuff, nice, good, really…) per word."""
    overuse: float
    """Extra uses of the piece's most repeated content words, per content word."""

    # --- sentence fluency ------------------------------------------------------------------
    length_cv: float
    """Coefficient of variation of sentence lengths (0 when all sentences are as long)."""
    mean_length: float
    """Mean sentence length in words."""
    opener_variety: float
    """0..1: different first words and first two words among the sentences."""
    run_on_share: float
    """Share of sentences over 35 words, chaining 'and' three or more times, or fused."""
    fused_rate: float
    """Share of sentences with two clauses run together without punctuation
    ('…in the lighthouse he was scared')."""
    complexity: float
    """Share of sentences with a comma, semicolon or subordinating word (because, when,
    which…): sentences built of more than one simple clause."""

    # --- conventions -----------------------------------------------------------------------
    misspelling_rate: float
    """Words not in the dictionary per word (names and the prompt's own words excused)."""
    capital_errors: float
    """Sentences starting lower case, per sentence, plus a lower-case 'i', per word × 10."""
    apostrophe_errors: float
    """Contractions without their apostrophe ('dont', 'im') per word."""
    punctuation_errors: float
    """Paragraphs without end punctuation, doubled words and spacing slips, per sentence."""

    # --- presentation ----------------------------------------------------------------------
    shouting: float
    """Share of words in capitals (longer than two letters), plus runs of '!!!' per sentence."""
    txt_speak: float
    """Text-speak words (u, lol, gonna) and emoji per word."""
    wall_of_text: float
    """0..1: how far a long piece is from having paragraph breaks."""

    # --- for the rationale and suggestions -------------------------------------------------
    misspelled: tuple[str, ...]
    """Misspelled words, in order of appearance (at most 12)."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """A piece split and measured: the document, which sentences were kept, and the features."""

    doc: Document
    kept: tuple[int, ...]  # indexes into doc.sentences
    padded: tuple[int, ...]
    notes: tuple[SentenceNotes, ...]  # one per kept sentence, same order as ``kept``
    features: PieceFeatures


def analyse(req: PieceRequest) -> Analysis:
    """Split and measure a piece (pure, deterministic, capped at text.MAX_CHARS characters)."""
    doc = split_document(req.text)
    vocab = prompt_vocabulary(req.prompt)
    doc, trimmed = _trim_trailing_echo(doc, vocab)
    padded, injection = _find_padding(doc.sentences, vocab)
    kept = tuple(i for i in range(len(doc.sentences)) if i not in padded)
    kept_sentences = [doc.sentences[i] for i in kept]
    names = _names(doc.sentences)
    notes = tuple(_sentence_notes(i, doc.sentences[i], names, vocab, req.prompt) for i in kept)
    features = _measure(req, doc, kept_sentences, notes, padded, injection, vocab, trimmed)
    return Analysis(
        doc=doc,
        kept=kept,
        padded=tuple(sorted(padded)),
        notes=notes,
        features=features,
    )


# --- padding ---------------------------------------------------------------------------------


ECHO_WORDS = 6
"""A sentence this short made only of the prompt's words (and related words), joined by
nothing but articles and and/or/of ("Lighthouse." "The storm and the waves."), echoes the
prompt: set aside as padding, so appending prompt words never pays."""
_ECHO_GLUE = frozenset(word_list("a an the and or of"))


_END_PUNCTUATION = (".", "!", "?", "…", ":", ";")


def _trim_trailing_echo(doc: Document, vocab: PromptVocabulary) -> tuple[Document, int]:
    """A piece whose last sentence has no end punctuation and ends in prompt words ("…the
    end lighthouse storm"): those trailing words are set aside as padding (returned as a
    count), since a word typed after an unfinished last sentence joins it."""
    if not doc.sentences:
        return doc, 0
    last = doc.sentences[-1]
    if last.text.rstrip("\"'”’)]").endswith(_END_PUNCTUATION):
        return doc, 0
    n = len(last.words)
    k = n
    while k > 0 and last.words[k - 1] not in STOPWORDS and stem(last.words[k - 1]) in vocab.echo:
        k -= 1
    if k == n or k == 0:  # nothing to trim, or all of it (then the echo rule decides)
        return doc, 0
    spans = list(WORD_RE.finditer(last.text))
    end = last.start + spans[k - 1].end()
    kept = replace(
        last,
        text=doc.text[last.start : end],
        end=end,
        words=last.words[:k],
        raw_words=last.raw_words[:k],
    )
    return replace(doc, sentences=(*doc.sentences[:-1], kept)), n - k


def _content_stems(words: Sequence[str]) -> frozenset[str]:
    return frozenset(stem(w) for w in words if w not in STOPWORDS and len(w) > 1)


def _find_padding(sentences: Sequence[Sentence], vocab: PromptVocabulary) -> tuple[set[int], bool]:
    padded: set[int] = set()
    injection = False
    words = {w for s in sentences for w in s.words}
    may_inject = not _INJECTION_TRIGGERS.isdisjoint(words) and bool(
        _INJECTION_RE.search(" ".join(s.text for s in sentences))
    )
    seen: set[tuple[str, ...]] = set()
    recent: list[frozenset[str]] = []
    for i, s in enumerate(sentences):
        n = len(s.words)
        content = _content_stems(s.words)
        if may_inject and _INJECTION_RE.search(s.text):
            padded.add(i)
            injection = True
            continue
        if n >= 3 and s.words in seen:
            padded.add(i)
            continue
        if (
            n <= ECHO_WORDS
            and content
            and content <= vocab.echo
            and _ECHO_GLUE.issuperset(w for w in s.words if w in STOPWORDS)
        ):
            padded.add(i)  # "Lighthouse." "The storm and the waves." echoes the prompt
            continue
        if n >= 4:
            if any(
                len(c) >= 3 and len(content & c) / len(content | c) >= 0.8 for c in recent[-40:]
            ):
                padded.add(i)
                continue
            infos = [lexicon.info(w) for w in s.words]
            stop_share = sum(1 for i in infos if i.stop) / n
            hits = sum(1 for i in infos if i.stem in vocab.full) / n
            counts = Counter(i.stem for i in infos if not i.stop)
            top = counts.most_common(1)[0][1] if counts else 0
            if (stop_share < 0.15 and hits >= 0.5) or (n <= 30 and top >= 3 and top / n >= 0.3):
                padded.add(i)
                continue
        seen.add(s.words)
        if len(content) >= 3:
            recent.append(content)
    return padded, injection


# --- per-sentence notes ----------------------------------------------------------------------


def _names(sentences: Sequence[Sentence]) -> frozenset[str]:
    """Names: words capitalised mid-sentence, or opening two or more sentences (Lena woke…
    Lena ran…)."""
    names: set[str] = set()
    openers: Counter[str] = Counter()
    for s in sentences:
        for j, raw in enumerate(s.raw_words):
            if raw[:1].isupper() and raw.lower() != "i" and not raw.isupper():
                if j > 0:
                    names.add(s.words[j])
                elif s.words[0] not in STOPWORDS:
                    openers[s.words[0]] += 1
    names.update(w for w, count in openers.items() if count >= 2)
    return frozenset(names)


def _is_misspelled(word: str, names: frozenset[str], prompt_words: frozenset[str]) -> bool:
    if len(word) < 2:
        return False
    i = lexicon.info(word)
    return not i.known and not i.txt and word not in names and i.stem not in prompt_words


def _sentence_notes(
    index: int,
    s: Sentence,
    names: frozenset[str],
    vocab: PromptVocabulary,
    prompt: Prompt,
) -> SentenceNotes:
    misspelled = tuple(w for w in s.words if _is_misspelled(w, names, vocab.full))
    first_letter = next((c for c in s.text if c.isalpha()), "")
    return SentenceNotes(
        index=index,
        misspelled=misspelled,
        bland=tuple(w for w in s.words if lexicon.info(w).bland),
        lowercase_start=first_letter.islower(),
        missing_apostrophe=tuple(w for w in s.words if lexicon.info(w).missing_apostrophe),
        sensory=sum(1 for w in s.words if lexicon.info(w).sensory),
        prompt_hits=sum(1 for w in s.words if lexicon.info(w).stem in vocab.full),
    )


# --- measurement -----------------------------------------------------------------------------


def _measure(
    req: PieceRequest,
    doc: Document,
    kept: Sequence[Sentence],
    notes: Sequence[SentenceNotes],
    padded: set[int],
    injection: bool,
    vocab: PromptVocabulary,
    trimmed: int = 0,
) -> PieceFeatures:
    all_words = doc.words
    n_all = len(all_words)
    info = lexicon.info
    unknown = sum(1 for w in all_words if len(w) > 1 and not (i := info(w)).known and i.zipf < 1.5)
    non_space = len("".join(doc.text.split()))
    letters = sum(map(str.isalpha, doc.text))
    padded_words = trimmed + sum(len(doc.sentences[i].words) for i in padded)

    names = _names(kept)
    words: list[str] = []
    content_stems: list[str] = []
    known_zipf: list[float] = []
    specific = sensory = emotion = bland = rich = txt = informative = 0
    said: set[str] = set()
    for s in kept:
        sentence_stems: set[str] = set()
        for j, w in enumerate(s.words):
            i = info(w)
            words.append(w)
            if i.bland:
                bland += 1
            if i.txt:
                txt += 1
            if not i.content:
                continue
            content_stems.append(i.stem)
            sentence_stems.add(i.stem)
            if i.known:
                known_zipf.append(i.zipf)
                if i.rich:
                    rich += 1
            if i.sensory:
                sensory += 1
            if i.emotion:
                emotion += 1
            if i.sensory or w in _NUMBER_WORDS or (j > 0 and w in names) or i.rare:
                specific += 1
        if sentence_stems - said:
            informative += len(s.words)
        said |= sentence_stems
    n = len(words)
    n_content = max(1, len(content_stems))
    stem_set = set(content_stems)
    for s in kept:  # compounds split in two ("green house") count as the prompt's word
        for a, b in zip(s.words, s.words[1:], strict=False):
            if a in STOPWORDS or b in STOPWORDS:
                continue
            joined = stem(a + b)
            if joined in vocab.full:
                stem_set.add(joined)
    kept_text = " ".join(s.text for s in kept)
    specific += len(NUMBER_RE.findall(kept_text))

    # ideas
    relevance = relevance_of(vocab, stem_set, content_stems)
    expected = WORDS_PER_MINUTE.get(req.level, 30.0) * max(req.seconds_allowed, 15.0) / 60.0
    development = 0.4 * (1 - math.exp(-informative / (1.5 * expected))) + 0.6 * (
        1 - math.exp(-len(stem_set) / (0.6 * expected))
    )
    detail = (1 - math.exp(-(specific / n_content) / 0.25)) * (1 - math.exp(-specific / 8))

    # organization
    paragraphing = _paragraphing(n, kept)
    transitions = _transitions(kept)
    order = order_score(kept, vocab.core) if kept else 0.0
    ending = _ending(kept)

    # voice
    figurative = len(_FIGURATIVE_RE.findall(kept_text)) * 100 / max(n, 1)
    quotes = len(_QUOTE_RE.findall(kept_text))
    dialogue = min(1.0, quotes / 4)
    marks = sum(1 for s in kept if s.text.rstrip("\"'”’)").endswith(("?", "!")))
    share_marks = marks / max(1, len(kept))
    expressive = (
        min(1.0, share_marks / 0.08)
        if share_marks <= 0.3
        else max(0.0, 1 - (share_marks - 0.3) * 2)
    )

    # word choice
    mattr = _mattr(words, 40)
    mean_zipf = sum(known_zipf) / len(known_zipf) if known_zipf else 7.0
    counts = Counter(content_stems)
    allowed = 2 + n_content / 40
    overuse = sum(max(0.0, c - allowed) for c in counts.values()) / n_content

    # sentence fluency
    lengths = [len(s.words) for s in kept]
    mean_length = sum(lengths) / len(lengths) if lengths else 0.0
    if len(lengths) > 1 and mean_length > 0:
        var = sum((x - mean_length) ** 2 for x in lengths) / len(lengths)
        length_cv = math.sqrt(var) / mean_length
    else:
        length_cv = 0.0
    opener_variety = _opener_variety(kept)
    fused = sum(1 for s in kept if _has_fused_clause(s))
    run_ons = sum(
        1
        for s in kept
        if len(s.words) > 35 or sum(1 for w in s.words if w == "and") >= 3 or _has_fused_clause(s)
    )
    run_on_share = run_ons / max(1, len(kept))
    complexity = sum(
        1
        for s in kept
        if "," in s.text or ";" in s.text or any(w in _SUBORDINATORS for w in s.words[1:])
    ) / max(1, len(kept))

    # conventions
    misspelled = [w for note in notes for w in note.misspelled]
    lower_starts = sum(1 for note in notes if note.lowercase_start)
    lower_i = sum(1 for s in kept for raw in s.raw_words if raw == "i")
    apostrophes = sum(len(note.missing_apostrophe) for note in notes)
    punctuation = _punctuation_errors(doc, kept)
    n_sent = max(1, len(kept))

    # presentation
    caps = sum(1 for s in kept for raw in s.raw_words if len(raw) > 2 and raw.isupper())
    runs = (
        len(_PUNCT_RUN_RE.findall(kept_text))
        if any(p in kept_text for p in ("!!", "??", "?!", "!?", "...."))
        else 0
    )
    txt += len(_EMOJI_RE.findall(kept_text))
    paragraphs = len({s.paragraph for s in kept})
    wall = 0.0
    if paragraphs <= 1 and n > 120:
        wall = min(1.0, (n - 120) / 150)

    return PieceFeatures(
        words=n_all,
        kept_words=n,
        sentences=len(kept),
        paragraphs=paragraphs,
        padding_share=padded_words / n_all if n_all else 0.0,
        injection=injection,
        gibberish_share=unknown / n_all if n_all else 0.0,
        letter_share=letters / non_space if non_space else 0.0,
        distinct_words=len(set(all_words)),
        function_share=sum(1 for w in all_words if w in STOPWORDS) / n_all if n_all else 0.0,
        relevance=relevance,
        development=development,
        idea_units=len(stem_set),
        detail=detail,
        paragraphing=paragraphing,
        transitions=transitions,
        order=order,
        ending=ending,
        sensory_rate=sensory / n_content,
        emotion_rate=emotion / n_content,
        figurative=figurative,
        dialogue=dialogue,
        expressive=expressive,
        mattr=mattr,
        mean_zipf=mean_zipf,
        rich_share=rich / n_content,
        bland_rate=bland / max(n, 1),
        overuse=overuse,
        length_cv=length_cv,
        mean_length=mean_length,
        opener_variety=opener_variety,
        run_on_share=run_on_share,
        fused_rate=fused / max(1, len(kept)),
        complexity=complexity,
        misspelling_rate=len(misspelled) / max(n, 1),
        capital_errors=lower_starts / n_sent + 10 * lower_i / max(n, 1),
        apostrophe_errors=apostrophes / max(n, 1),
        punctuation_errors=punctuation / n_sent,
        shouting=caps / max(n, 1) + runs / n_sent,
        txt_speak=txt / max(n, 1),
        wall_of_text=wall,
        misspelled=tuple(misspelled[:12]),
    )


_NOT_FUSING = frozenset(
    word_list("""said say says think thought know knew hope hoped hopes guess felt feel feels realized
    realised noticed saw see wish wished heard decided believe believed told swore figured bet
    suppose means meant remembered forgot sure glad afraid sorry scared worried yesterday today
    tonight now suddenly later soon finally eventually instead maybe perhaps sometimes always
    never often already anyway somehow everywhere somewhere outside inside meanwhile afterwards
    tomorrow ago morning night evening day afternoon week year years moment minute hour time
    first last next like wherever whatever whenever whoever however""")
)


_FUSED_PRONOUNS = frozenset(word_list("i he she it they we you"))
_FUSED_VERBS = frozenset(word_list("was is were are wasnt isnt"))


def _has_fused_clause(s: Sentence) -> bool:
    if _FUSED_PRONOUNS.isdisjoint(s.words) or _FUSED_VERBS.isdisjoint(s.words):
        return False
    for match in _FUSED_RE.finditer(s.text.lower()):
        before = match.group(1)
        if before not in STOPWORDS and before not in _NOT_FUSING:
            return True
    return False


def _paragraphing(n_words: int, kept: Sequence[Sentence]) -> float:
    paragraphs = len({s.paragraph for s in kept})
    if not kept:
        return 0.0
    target = max(1.0, n_words / 90)
    if n_words < 70:
        score = 0.75 if paragraphs <= 1 else 1.0
    else:
        score = min(1.0, (paragraphs - 1 + 0.4) / max(1.0, target - 1 + 0.4))
    if len(kept) > 6 and paragraphs / len(kept) > 0.85:
        score *= 0.8  # every sentence its own paragraph
    return score


@lru_cache(maxsize=64)
def _phrase_index(phrases: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Phrases grouped by first word, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        parts = tuple(phrase.split())
        index.setdefault(parts[0], []).append(parts)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in index.items()}


def _starts_with(words: Sequence[str], phrases: tuple[str, ...]) -> str | None:
    if not words:
        return None
    for parts in _phrase_index(phrases).get(words[0], ()):
        if tuple(words[: len(parts)]) == parts:
            return " ".join(parts)
    return None


def _contains(words: Sequence[str], phrases: tuple[str, ...]) -> str | None:
    index = _phrase_index(phrases)
    for j, w in enumerate(words):
        for parts in index.get(w, ()):
            if tuple(words[j : j + len(parts)]) == parts:
                return " ".join(parts)
    return None


def _transitions(kept: Sequence[Sentence]) -> float:
    if len(kept) < 2:
        return 0.3
    used: list[str] = []
    then_starts = 0
    for s in kept:
        words = s.words
        found = _starts_with(words, lexicon.ALL_TRANSITIONS)
        if found is None:
            found = _contains(words[:12], lexicon.CONTRAST_CAUSE_PHRASES)
        if found is not None:
            used.append(found)
        if words[:1] == ("then",) or words[:2] == ("and", "then"):
            then_starts += 1
    share = len(used) / len(kept)
    variety = len(set(used)) / len(used) if used else 0.0
    then_share = then_starts / len(kept)
    score = 0.65 * min(1.0, share / 0.4) + 0.35 * variety
    return max(0.0, score - max(0.0, then_share - 0.2) * 1.5)


def _ending(kept: Sequence[Sentence]) -> float:
    """0.1 when the piece leans on a stock ending ('the end', 'it was a dream') anywhere;
    otherwise 0.5, or 1.0 when the last sentence opens with a closing phrase."""
    if not kept:
        return 0.0
    for s in kept:
        if not _WEAK_TRIGGERS.isdisjoint(s.words) and _WEAK_ENDING_RE.search(" ".join(s.words)):
            return 0.1
    return 1.0 if _starts_with(kept[-1].words, lexicon.CLOSING_PHRASES) else 0.5


def _mattr(words: Sequence[str], window: int) -> float:
    """Mean share of distinct words over every ``window``-word stretch."""
    n = len(words)
    if n == 0:
        return 0.0
    if n <= window:
        return len(set(words)) / n
    counts: dict[str, int] = {}
    for w in words[:window]:
        counts[w] = counts.get(w, 0) + 1
    distinct = len(counts)
    total = distinct
    for i in range(window, n):
        out = words[i - window]
        left = counts[out] - 1
        counts[out] = left
        if left == 0:
            distinct -= 1
        new = words[i]
        before = counts.get(new, 0)
        if before == 0:
            distinct += 1
        counts[new] = before + 1
        total += distinct
    return total / ((n - window + 1) * window)


def _opener_variety(kept: Sequence[Sentence]) -> float:
    if len(kept) < 2:
        return 0.5
    firsts = [s.words[0] for s in kept]
    pairs = [s.words[:2] for s in kept]
    n = len(kept)
    top_share = Counter(firsts).most_common(1)[0][1] / n
    return 0.4 * len(set(firsts)) / n + 0.3 * len(set(pairs)) / n + 0.3 * (1 - top_share)


def _punctuation_errors(doc: Document, kept: Sequence[Sentence]) -> int:
    errors = 0
    last_in_paragraph: dict[int, Sentence] = {}
    for s in kept:
        last_in_paragraph[s.paragraph] = s
        words = s.words
        errors += sum(
            1 for j in range(1, len(words)) if words[j] == words[j - 1] and words[j] != "had"
        )
        text = s.text
        if " " in text and any(f" {p}" in text for p in ",.;:!?"):
            errors += len(_SPACE_BEFORE_PUNCT_RE.findall(text))
        if any(p in text[:-1] for p in ",.;:!?"):
            errors += len(_MISSING_SPACE_RE.findall(text))
    for s in last_in_paragraph.values():
        if not s.text.rstrip("\"'”’)]").endswith((".", "!", "?", "…", ":", ";")):
            errors += 1
    return errors

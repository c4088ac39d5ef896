"""Is the piece in a sensible order?  Discourse cues a reader trips over when it is not.

Each check below counts *evidence of disorder*; a piece in its natural order has little of it,
the same sentences shuffled usually have more.  (Word overlap between neighbouring sentences
does not work for this: good narrative avoids repeating words from one sentence to the next,
and its echoes tie the ending to the opening, so shuffled text often overlaps *more*.)

* **opening** – the first sentence leans on something not yet said: it starts with a pronoun
  (He, They, This) or a connective (Then, But, So, Also).  "It was…" and "There was…" are fine.
* **markers** – "finally", "at last", "in the end" early; "one day", "once", "first" late.
* **antecedents** – "he/his" or "she/her" before any name or person who could be meant.
* **given/new** – "a boat" after "the boat" has already been mentioned.
* **cues** – sentences with a natural place: scene-setting openers (there was a…, one night,
  every summer, my name is) belong early, closers (the end, went home, someday, never again,
  it was the best day) late, and a speech tag ("Wren asked.") right after a quotation.
* **introductions** – the prompt's objects introduced with "a/an" late in the piece.
* **paragraph starts** – a new paragraph that opens with a time, place or transition phrase
  marks a step in the story; paragraphs that do not are slightly less organized.
* **names** – a character introduced with a descriptor ("my cousin Mei", "Old Tom") after
  being mentioned bare.
* **references** – "another X", "this X", "the same X" before any X; "again" or "too" in the
  very first sentence.
* **dialogue** – quoted lines scattered instead of forming exchanges; a paragraph whose
  quotation marks do not pair up.
* **sequence** – ordinals (second, third, last) and clock times that run backwards.

:func:`disorder` sums the checks; :func:`order_score` maps the sum onto 0..1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.ai.offline import lexicon
from server.ai.offline.lexicon import STOPWORDS, word_list
from server.ai.offline.text import Sentence, stem

_ANAPHORIC_OPENERS = frozenset(
    word_list(
        "he she they his her its their him them this these those then but so and also still yet "
        "instead later next finally again afterwards except which"
    )
)
_EXPLETIVE = frozenset({("it", "was"), ("it", "is"), ("it's",), ("it", "had")})
_MALE = frozenset({"he", "him", "his", "himself"})
_FEMALE = frozenset({"she", "her", "hers", "herself"})
_MALE_NOUNS = frozenset(
    word_list(
        "man men boy father dad grandfather grandpa uncle brother son king mr keeper farmer guy "
        "husband sailor driver cook vendor conductor"
    )
)
_FEMALE_NOUNS = frozenset(
    word_list(
        "woman women girl mother mom mum grandmother grandma gran aunt sister daughter lady "
        "queen mrs ms wife ship boat"
    )
)
_DESCRIPTORS = frozenset(
    word_list(
        "my our his her old farmer mr mrs ms dr brother sister cousin friend grandpa grandma "
        "uncle aunt named captain little young"
    )
)
_PRESUPPOSING = frozenset({"another", "same", "this", "these", "those"})
_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "last": 9}
_CLOCK_RE = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_QUOTE_RE = re.compile(r"[\"“”]")

_OPEN_CUE_RE = re.compile(
    r"^(?:there (?:was|were|is|are|lived|stood) (?:a|an|once|one)\b|once\b"
    r"|one (?:day|night|morning|evening|afternoon|year|summer|winter)\b|long ago"
    r"|a long time ago|it all (?:started|began)"
    r"|every (?:day|morning|night|evening|summer|winter|year|friday)\b|my name"
    r"|if you want|nobody had|no one had|i (?:went|was at|was in)\b"
    r"|(?:last|this) (?:summer|winter|year|week|night)\b)"
)
_CLOSE_CUE_RE = re.compile(
    r"^(?:finally|at last|in the end|from then on|ever since|later,? when"
    r"|the next (?:day|morning)|in the morning|when the \w+ (?:finally|was over|passed))"
    r"|(?<!in )(?<!at )\bthe end\b(?! of)"
    r"|(?:woke up|(?:a|all) dream|(?:go|went) (?:home|to sleep|to bed)"
    r"|go (?:back|again|agen)(?: \w+)?)$"
    r"|\b(?:never (?:went|again|forget)|again tomorrow|someday|forever|i (?:learned|will never)"
    r"|best (?:day|night|nights)|it was (?:a|the|one of the) (?:best|fun|good|great|really|crazy))\b"
)
_CLOSE_TRIGGERS = frozenset(
    word_list(
        "finally last end ever later next morning when woke dream home sleep bed back again agen "
        "never someday forever learned best fun good great really crazy"
    )
)
"""Every closing cue contains one of these words (a cheap test before the regex)."""
_SPEECH_TAG_RE = re.compile(
    r"^(?:[a-z']+ ){0,2}(?:said|asked|shouted|whispered|replied|called|yelled|cried|answered)\b"
)
_STEP_START_RE = re.compile(
    r"^(?:at|in|on|by|after|before|when|as|then|later|that|the next|halfway|near|inside|outside"
    r"|above|below|behind|under|across|every|for|once|one|now|so|but|still|except|instead"
    r"|within|meanwhile|suddenly|finally|forty|sixty|this evening|tonight)\b"
)


def _names(sentences: Sequence[Sentence]) -> frozenset[str]:
    """Capitalised words that are names: capitalised mid-sentence, not in the dictionary, or
    opening two or more sentences (Jordan checked… Jordan sighed…)."""
    names: set[str] = set()
    openers: dict[str, int] = {}
    for s in sentences:
        for j, raw in enumerate(s.raw_words):
            if not raw[:1].isupper() or raw.lower() == "i" or raw.isupper():
                continue
            word = s.words[j]
            if j > 0 or not lexicon.is_known(word):
                names.add(word)
            elif word not in STOPWORDS:
                openers[word] = openers.get(word, 0) + 1
    names.update(w for w, count in openers.items() if count >= 2)
    return frozenset(names)


def _relative(i: int, n: int) -> float:
    return i / (n - 1) if n > 1 else 0.0


def opening(sentences: Sequence[Sentence]) -> float:
    """1 when the first sentence starts by pointing back at something unsaid."""
    words = sentences[0].words
    if tuple(words[:2]) in _EXPLETIVE or tuple(words[:1]) in _EXPLETIVE:
        return 0.0
    return 1.0 if words[0] in _ANAPHORIC_OPENERS else 0.0


def markers(sentences: Sequence[Sentence]) -> float:
    """Closing markers in the first 60 % and opening markers after the first 30 %."""
    n = len(sentences)
    penalty = 0.0
    for i, s in enumerate(sentences):
        rel = _relative(i, n)
        w = s.words
        if w[:1] == ("finally",) or w[:2] == ("at", "last") or w[:3] == ("in", "the", "end"):
            penalty += max(0.0, 0.6 - rel) * 2
        if w[:2] in (("one", "day"), ("one", "night"), ("once", "upon"), ("long", "ago")) or w[
            :1
        ] == ("first",):
            penalty += max(0.0, rel - 0.3) * 2
    return penalty


def antecedents(sentences: Sequence[Sentence]) -> float:
    """'he' or 'she' used before anyone they could refer to has appeared (a name or person
    later in the same sentence counts)."""
    names = _names(sentences)
    penalty = 0.0
    male = female = False
    for s in sentences:
        words = [w[:-2] if w.endswith("'s") else w for w in s.words]
        male = male or any(w in names or w in _MALE_NOUNS for w in words)
        female = female or any(w in names or w in _FEMALE_NOUNS for w in words)
        if not male and any(w in _MALE for w in words):
            penalty += 1
            male = True
        if not female and any(w in _FEMALE for w in words):
            penalty += 1
            female = True
    return penalty


def given_new(sentences: Sequence[Sentence]) -> float:
    """'a/an X' after 'the X' was already used."""
    definite: set[str] = set()
    violations = 0.0
    for s in sentences:
        w = s.words
        for j in range(len(w) - 1):
            nxt = w[j + 1]
            if nxt in STOPWORDS:
                continue
            if w[j] == "the":
                definite.add(stem(nxt))
            elif w[j] in ("a", "an") and stem(nxt) in definite:
                violations += 1
    return violations


def cues(sentences: Sequence[Sentence]) -> float:
    """How far scene-setting openers sit from the start and closers from the end."""
    n = len(sentences)
    penalty = 0.0
    for i, s in enumerate(sentences):
        rel = _relative(i, n)
        text = " ".join(s.words)
        if _OPEN_CUE_RE.search(text):
            penalty += rel
        if not _CLOSE_TRIGGERS.isdisjoint(s.words) and _CLOSE_CUE_RE.search(text):
            penalty += 1 - rel
        if len(s.words) <= 8 and _SPEECH_TAG_RE.search(text):
            before = sentences[i - 1].text.rstrip() if i > 0 else ""
            if not before.endswith(('"', "”")):
                penalty += 1
    return penalty


def introductions(sentences: Sequence[Sentence], prompt_core: frozenset[str]) -> float:
    """Mean position of the sentences that introduce the prompt's objects with 'a/an'."""
    n = len(sentences)
    positions: list[float] = []
    for i, s in enumerate(sentences):
        w = s.words
        if any(
            w[j] in ("a", "an") and any(stem(x) in prompt_core for x in w[j + 1 : j + 3])
            for j in range(len(w) - 1)
        ):
            positions.append(_relative(i, n))
    return (sum(positions) + 0.5) / (len(positions) + 1) - 0.5


def paragraph_steps(sentences: Sequence[Sentence]) -> float:
    """Share of paragraph openings (after the first) without a time, place or transition phrase."""
    starts = [s for i, s in enumerate(sentences) if i > 0 and s.first_in_paragraph]
    if not starts:
        return 0.0
    stepped = sum(1 for s in starts if _STEP_START_RE.search(" ".join(s.words)))
    return 1.0 - stepped / len(starts)


def name_introductions(sentences: Sequence[Sentence]) -> float:
    """Characters introduced with a descriptor ('my cousin Mei') after a bare mention."""
    names = _names(sentences)
    first: dict[str, int] = {}
    intro: dict[str, int] = {}
    for i, s in enumerate(sentences):
        w = s.words
        for j, word in enumerate(w):
            if word in names:
                first.setdefault(word, i)
                if j > 0 and w[j - 1] in _DESCRIPTORS:
                    intro.setdefault(word, i)
    return float(sum(1 for word, i in intro.items() if first[word] < i))


def references(sentences: Sequence[Sentence]) -> float:
    """'another/this/the same X' before any X; 'again', 'too' or 'also' in the first sentence."""
    penalty = 0.0
    seen: set[str] = set()
    for i, s in enumerate(sentences):
        w = s.words
        for j in range(len(w) - 1):
            if w[j] in _PRESUPPOSING or (w[j] == "other" and j > 0 and w[j - 1] == "the"):
                nxt = w[j + 1]
                if nxt not in STOPWORDS and len(nxt) > 2 and stem(nxt) not in seen:
                    penalty += 1
        if i == 0 and any(x in ("again", "too", "also") for x in w):
            penalty += 0.5
        seen.update(stem(x) for x in w)
    return penalty


def dialogue(sentences: Sequence[Sentence]) -> float:
    """Quoted lines scattered in separate places; paragraphs with unpaired quotation marks."""
    flags = [bool(_QUOTE_RE.search(s.text)) for s in sentences]
    penalty = 0.0
    if sum(flags) >= 2:
        runs = sum(1 for i, f in enumerate(flags) if f and (i == 0 or not flags[i - 1]))
        penalty += runs - 1
    marks: dict[int, int] = {}
    for s in sentences:
        marks[s.paragraph] = marks.get(s.paragraph, 0) + len(_QUOTE_RE.findall(s.text))
    penalty += sum(1 for count in marks.values() if count % 2)
    return penalty


def sequence(sentences: Sequence[Sentence]) -> float:
    """Pairs of ordinals or clock times that run backwards."""
    values: list[int] = []
    for s in sentences:
        values.extend(_ORDINALS[w] for w in s.words if w in _ORDINALS)
        values.extend(int(m.group(1)) * 60 + int(m.group(2)) for m in _CLOCK_RE.finditer(s.text))
    return float(
        sum(
            1
            for i in range(len(values))
            for j in range(i + 1, len(values))
            if values[j] < values[i]
        )
    )


def disorder(sentences: Sequence[Sentence], prompt_core: frozenset[str]) -> float:
    """The weighted sum of the checks above (0 for a piece with no evidence of disorder)."""
    if len(sentences) < 2:
        return 0.0
    return (
        1.0 * opening(sentences)
        + 1.0 * markers(sentences)
        + 1.0 * antecedents(sentences)
        + 0.5 * given_new(sentences)
        + 1.5 * cues(sentences)
        + 1.0 * introductions(sentences, prompt_core)
        + 1.0 * paragraph_steps(sentences)
        + 1.0 * name_introductions(sentences)
        + 0.5 * references(sentences)
        + 1.0 * dialogue(sentences)
        + 1.0 * sequence(sentences)
    )


def order_score(sentences: Sequence[Sentence], prompt_core: frozenset[str]) -> float:
    """0..1, 1 for no evidence of disorder, falling smoothly as evidence accumulates."""
    return 1.0 / (1.0 + 0.25 * max(0.0, disorder(sentences, prompt_core) + 0.5))

"""Splitting a text into paragraphs, sentences and words, keeping each sentence verbatim.

A paragraph is a non-blank line (students press Enter once or twice between paragraphs; both
count).  A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any closing quotes) followed
by a space or the end of the line, except after a few abbreviations (Mr., Mrs., Dr., St.).
Words are runs of letters with inner apostrophes (``don't``, ``lighthouse's``); digits and
hyphens separate words.  Work is capped: only the first :data:`MAX_CHARS` characters are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_CHARS = 20_000
"""Characters analysed; the rest of a longer text is ignored (and reported as truncated)."""

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
NUMBER_RE = re.compile(r"\d+(?:[:.,]\d+)*")
_LINE_RE = re.compile(r"[^\n\r]+")
_SENTENCE_END_RE = re.compile(r"(?:[.!?…]+|\.\.\.)[\"'”’)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "mt", "vs", "etc"})


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its verbatim text, where it sits, and its words."""

    text: str  # exactly ``source[start:end]``
    start: int
    end: int
    paragraph: int
    words: tuple[str, ...]  # lower case, straight apostrophes
    raw_words: tuple[str, ...]  # as typed
    first_in_paragraph: bool


@dataclass(frozen=True, slots=True)
class Document:
    """A text split for analysis."""

    text: str  # the analysed text (the input, cut at MAX_CHARS)
    truncated: bool
    paragraphs: int
    sentences: tuple[Sentence, ...]
    words: tuple[str, ...]  # every word of every sentence, in order


def normalise_word(word: str) -> str:
    """Lower-case a word and straighten its apostrophes."""
    return word.lower().replace("’", "'")


def split_document(text: str, max_chars: int = MAX_CHARS) -> Document:
    """Split ``text`` into paragraphs and sentences (see the module docstring for the rules)."""
    truncated = len(text) > max_chars
    source = text[:max_chars] if truncated else text
    sentences: list[Sentence] = []
    paragraph = 0
    for line in _LINE_RE.finditer(source):
        line_start = line.start()
        body = line.group()
        pieces = list(_sentence_spans(body))
        if not pieces:
            continue
        added = False
        for start, end in pieces:
            sentence = _make_sentence(
                source, line_start + start, line_start + end, paragraph, first=not added
            )
            if sentence is not None:
                sentences.append(sentence)
                added = True
        if added:
            paragraph += 1
    words = tuple(w for s in sentences for w in s.words)
    return Document(
        text=source,
        truncated=truncated,
        paragraphs=paragraph,
        sentences=tuple(sentences),
        words=words,
    )


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(line):
        end = match.end()
        if match.group().startswith(".") and _ends_with_abbreviation(line, match.start()):
            continue
        spans.append((start, end))
        start = end
    if start < len(line):
        spans.append((start, len(line)))
    return spans


def _ends_with_abbreviation(line: str, dot: int) -> bool:
    word_start = dot
    while word_start > 0 and line[word_start - 1].isalpha():
        word_start -= 1
    return line[word_start:dot].lower() in _ABBREVIATIONS


def _make_sentence(
    source: str, start: int, end: int, paragraph: int, *, first: bool
) -> Sentence | None:
    while start < end and source[start].isspace():
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    if start >= end:
        return None
    body = source[start:end]
    raw = tuple(WORD_RE.findall(body))
    if not raw:
        return None
    lowered = tuple(WORD_RE.findall(body.lower().replace("’", "'")))
    if len(lowered) != len(raw):  # a letter whose lower case changes word boundaries
        lowered = tuple(normalise_word(w) for w in raw)
    return Sentence(
        text=body,
        start=start,
        end=end,
        paragraph=paragraph,
        words=lowered,
        raw_words=raw,
        first_in_paragraph=first,
    )


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, conservative stem so that 'waves', 'waved' and 'wave' meet ("wav"/"wave")."""
    w = word
    if w.endswith("'s"):
        w = w[:-2]
    elif w.endswith("'"):
        w = w[:-1]
    if len(w) <= 3:
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("ied") and len(w) > 4:
        return w[:-3] + "y"
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)]
            if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]
            return _drop_e(base)
    if w.endswith("es") and (w[-3] in "sxz" or w.endswith(("ches", "shes"))):
        return w[:-2]
    if w.endswith("ly") and len(w) > 5:
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return _drop_e(w[:-1])
    return _drop_e(w)


def _drop_e(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("e") else w

"""The offline tutor: answers writing questions from a small knowledge base (content/tutor/).

Retrieval is BM25 over each entry's title (×2), keywords (×3) and text, with light stemming.
The answer is the best entry's text, tied to a sentence of the student's recent writing when
one fits, plus a pointer to a related entry.  Confidence comes from four factors, each 0..1:

* **support** – how strongly the knowledge base matches the question (the top BM25 score,
  and its lead over the runner-up);
* **relevance** – whether the answer can be tied to the student's own recent writing and to
  the round's focus trait (a question about "my story" with no writing to look at is low);
* **clarity** – a real question of a sensible length, in words the dictionary knows;
* **completeness** – the share of the question's key words the chosen entries cover.

``confidence`` is high at 0.72 and above, medium from 0.5, low below; low confidence sets
``escalate`` (suggest asking the teacher).  Questions about something other than writing
("who won the football game"), requests to write the work for the student, attempts to
instruct the tutor, and unsafe messages are declined politely (``declined=True``); a message
with self-harm signals gets a caring reply that points to a trusted adult and escalates.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from server.ai.content import TutorEntry, load_tutor_entries
from server.ai.offline import lexicon
from server.ai.offline.lexicon import word_list
from server.ai.offline.moderation import scan
from server.ai.offline.text import split_document, stem
from server.ai.types import Confidence, TutorAnswer, TutorRequest

MAX_QUESTION_CHARS = 2000
HIGH = 0.72
MEDIUM = 0.5

_WRITING_TERMS = frozenset(
    stem(w)
    for w in word_list("""write writing wrote written story stories essay piece draft sentence sentences
    paragraph paragraphs word words grammar spelling spell punctuation comma commas period
    capital letter letters verb verbs noun nouns adjective adverb dialogue quote quotes
    describe description detail details ending beginning hook title character characters
    plot setting voice tone trait traits rubric score scored feedback review reviewer revise
    edit proofread reader readers poem poetry simile metaphor prompt picture image idea ideas
    organization organize fluency conventions presentation vocabulary synonym tense narrator
    chapter text author book read reading language english""")
)
_AMBIGUOUS = frozenset(
    stem(w)
    for w in word_list(
        "capital letter letters period score scored character book read reading "
        "english title text language"
    )
)
"""Writing words with everyday meanings too ('the capital of France')."""
_NAME_RE = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+")
_QUESTION_STARTS = frozenset(
    word_list(
        "how what why when where which who whom can could should would will is are am do does did "
        "may might any"
    )
)
_FOLLOW_UP_RE = re.compile(
    r"\b(?:it|that|this|those|example|examples|more|again|else|what about|and if|explain)\b"
)
_CHEAT_RE = re.compile(
    r"\b(?:write|do|finish|complete|make)\b.{0,20}\b(?:my|the|this|a|an)\b.{0,20}"
    r"\b(?:story|essay|piece|homework|assignment|paragraph|poem|review|feedback)\b.{0,20}\bfor me\b"
    r"|\bwrite (?:it|this) for me\b|\bgive me (?:the|an?) (?:answer|story|essay)\b",
    re.IGNORECASE,
)
_INJECTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules?|prompt|above)\b"
    r"|\b(?:system prompt|you are now|pretend to be|act as)\b",
    re.IGNORECASE,
)
_OWN_WORK_RE = re.compile(r"\b(?:my|mine|i wrote|i've written|i have written)\b", re.IGNORECASE)
_IGNORED = frozenset(
    stem(w)
    for w in word_list(
        "how use good better make get know help want need way thing things write writing "
        "wrote written"
    )
) | frozenset(lexicon.STOPWORDS)


@dataclass(frozen=True, slots=True)
class _Index:
    entries: tuple[TutorEntry, ...]
    terms: tuple[Mapping[str, float], ...]  # weighted term counts per entry
    lengths: tuple[float, ...]
    idf: Mapping[str, float]
    average: float
    vocabulary: frozenset[str]


_GRAMMAR_WORDS = frozenset(word_list("its it's their there they're your you're than too"))
"""Function words that are themselves the subject of writing questions ("its or it's?")."""
_STOP = lexicon.STOPWORDS - _GRAMMAR_WORDS


def _stems(text: str) -> list[str]:
    return [stem(w) for w in split_document(text).words if w not in _STOP]


@lru_cache(maxsize=8)
def _index(root: Path | None) -> _Index:
    entries = load_tutor_entries(root)
    terms: list[Counter[str]] = []
    for e in entries:
        counts: Counter[str] = Counter()
        for st in _stems(e.title):
            counts[st] += 2
        for keyword in e.keywords:
            for st in _stems(keyword):
                counts[st] += 3
        for st in _stems(e.text):
            counts[st] += 1
        terms.append(counts)
    df: Counter[str] = Counter()
    for counts in terms:
        df.update(counts.keys())
    n = len(entries)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    lengths = tuple(float(sum(c.values())) for c in terms)
    return _Index(
        entries=entries,
        terms=tuple(terms),
        lengths=lengths,
        idf=idf,
        average=sum(lengths) / max(1, len(lengths)),
        vocabulary=frozenset(df),
    )


def _bm25(index: _Index, query: Sequence[str]) -> list[tuple[float, int]]:
    k1, b = 1.2, 0.75
    scores: list[tuple[float, int]] = []
    unique = set(query)
    for i, counts in enumerate(index.terms):
        score = 0.0
        norm = k1 * (1 - b + b * index.lengths[i] / index.average)
        for term in unique:
            tf = counts.get(term, 0.0)
            if tf:
                score += index.idf[term] * tf * (k1 + 1) / (tf + norm)
        scores.append((score, i))
    scores.sort(key=lambda s: (-s[0], s[1]))
    return scores


def _decline(answer: str, *, escalate: bool = False, clarity: float = 1.0) -> TutorAnswer:
    return TutorAnswer(
        answer=answer,
        confidence="low" if escalate else "high",
        factors={
            "support": 0.0,
            "relevance": 0.0,
            "clarity": round(clarity, 3),
            "completeness": 0.0,
        },
        escalate=escalate,
        declined=True,
        sources=(),
        engine="offline",
    )


def _clarify(question: str, words: Sequence[str]) -> TutorAnswer:
    """A low-confidence answer asking for a clearer question (and suggesting the teacher)."""
    return TutorAnswer(
        answer=(
            "Could you tell me a bit more? For example: how do I start a new paragraph, how do "
            "I punctuate dialogue, or how can I make my ending stronger? Your teacher can help too."
        ),
        confidence="low",
        factors={
            "support": 0.0,
            "relevance": 0.0,
            "clarity": round(_clarity(question, words), 3),
            "completeness": 0.0,
        },
        escalate=True,
        declined=False,
        sources=(),
        engine="offline",
    )


def _capitalised(question: str) -> list[str]:
    """Capitalised words inside the question (names of people, places, teams)."""
    return [m.group().lower() for m in _NAME_RE.finditer(question)]


def _clarity(question: str, words: Sequence[str]) -> float:
    n = len(words)
    if n == 0:
        return 0.0
    if n < 3:
        length = 0.35
    elif n <= 25:
        length = 1.0
    else:
        length = max(0.5, 1.0 - (n - 25) / 70)
    form = 1.0 if question.rstrip().endswith("?") or words[0] in _QUESTION_STARTS else 0.7
    known = sum(1 for w in words if lexicon.is_known(w)) / n
    return 0.4 * length + 0.3 * form + 0.3 * known


def _example_sentence(entry: TutorEntry, writing: Sequence[str]) -> str | None:
    """The sentence of the student's recent writing that the entry speaks to most, if any."""
    wanted = {st for k in entry.keywords for st in _stems(k)} | set(_stems(entry.title))
    best: tuple[int, str] | None = None
    for text in writing[:5]:
        for s in split_document(text[:20_000]).sentences:
            hits = len({stem(w) for w in s.words} & wanted)
            if entry.trait is not None and entry.trait.value == "conventions":
                hits += sum(1 for w in s.words if len(w) > 1 and not lexicon.is_known(w))
            if "dialogue" in entry.id and ('"' in s.text or "“" in s.text):
                hits += 2
            if hits and (best is None or hits > best[0]):
                best = (hits, s.text)
    return best[1] if best else None


def answer_sync(req: TutorRequest, root: Path | None = None) -> TutorAnswer:
    """Answer one tutor question (pure, deterministic): the core of :class:`OfflineTutor`."""
    question = req.question[:MAX_QUESTION_CHARS].strip()
    words = split_document(question).words
    if not words:
        return _decline(
            "I didn't catch a question there. Ask me anything about your writing, like how to "
            "start a new paragraph or punctuate dialogue.",
            clarity=0.0,
        )
    found = scan(question)
    if "self_harm" in found.reasons:
        return _decline(
            "It sounds like you might be going through something really hard, and I'm glad you "
            "said something. Please talk to your teacher or another trusted adult today; I've "
            "let your teacher know you might need support. If you are in danger right now, "
            "contact your local emergency number.",
            escalate=True,
        )
    if found.block:
        return _decline(
            "I can't help with that message. If something is bothering you, please tell your "
            "teacher. I'm happy to help with your writing any time."
        )
    if _INJECTION_RE.search(question):
        return _decline("I can only help with writing questions. What are you working on?")
    if _CHEAT_RE.search(question):
        return _decline(
            "I can't write it for you, but I can help you get started: pick one moment from the "
            "picture, write one sentence about what you see, then one about what happens next. "
            "Ask me about any step."
        )

    index = _index(root)
    asked = [stem(w) for w in words]
    query = [stem(w) for w in words if w in _GRAMMAR_WORDS or stem(w) not in _IGNORED]
    if req.history and len(words) <= 8 and _FOLLOW_UP_RE.search(question.lower()):
        previous = split_document(req.history[-1][0][:MAX_QUESTION_CHARS]).words
        query += [st for st in (stem(w) for w in previous) if st not in _IGNORED]
    clear_topic = set(asked) & (_WRITING_TERMS - _AMBIGUOUS)
    on_topic = set(asked) & (index.vocabulary | _WRITING_TERMS)
    outside_names = [
        w
        for w in _capitalised(question)
        if stem(w) not in index.vocabulary and w not in _WRITING_TERMS
    ]
    ranked = _bm25(index, query)
    top_score, top = ranked[0]
    if not clear_topic and (outside_names or not on_topic or top_score < 1.0):
        if len(words) <= 3 and not outside_names:
            return _clarify(question, words)
        return _decline(
            "That's outside what I can help with: I'm a writing tutor. Ask me about your "
            "piece, a trait like voice or organization, paragraphs, dialogue or punctuation.",
            clarity=_clarity(question, words),
        )
    if top_score <= 0:
        return _clarify(question, words)
    if req.focus is not None:
        ranked = sorted(
            (
                (score * (1.15 if index.entries[i].trait is req.focus else 1.0), i)
                for score, i in ranked
            ),
            key=lambda s: (-s[0], s[1]),
        )
        top_score, top = ranked[0]
    entry = index.entries[top]
    second_score, second = ranked[1] if len(ranked) > 1 else (0.0, top)

    support = (1 - math.exp(-top_score / 6.0)) * (0.7 + 0.3 * (1 - second_score / top_score))
    example = _example_sentence(entry, req.recent_writing)
    own_work = bool(_OWN_WORK_RE.search(question))
    if example is not None:
        tie_in = 1.0
    elif req.recent_writing:
        tie_in = 0.4
    else:
        tie_in = 0.2 if own_work else 0.6
    focus_fit = 1.0 if req.focus is None or entry.trait in (None, req.focus) else 0.6
    relevance = 0.7 * tie_in + 0.3 * focus_fit
    clarity = _clarity(question, words)
    chosen = set(index.terms[top])
    if second_score >= 0.6 * top_score:
        chosen |= set(index.terms[second])
    key_terms = set(query)
    completeness = len(key_terms & chosen) / len(key_terms) if key_terms else 0.0
    score = 0.4 * support + 0.2 * relevance + 0.2 * clarity + 0.2 * completeness
    confidence: Confidence = "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"

    parts = [entry.text]
    sources = [entry.id]
    if second != top and second_score >= 0.6 * top_score:
        related = index.entries[second]
        first_sentence = related.text.split(". ")[0].rstrip(".") + "."
        parts.append(f"Related, {related.title.lower()}: {first_sentence}")
        sources.append(related.id)
    if example is not None:
        shown = example if len(example) <= 220 else example[:217] + "…"
        parts.append(f"In your recent writing, try it on this sentence:\n> {shown}")
    elif own_work and not req.recent_writing:
        parts.append("If you share the piece you mean, I can point to a sentence in it.")
    if confidence == "low":
        parts.append(
            "I'm not sure this fully answers your question, so it's worth asking your teacher too."
        )
    return TutorAnswer(
        answer="\n\n".join(parts),
        confidence=confidence,
        factors={
            "support": round(support, 3),
            "relevance": round(relevance, 3),
            "clarity": round(clarity, 3),
            "completeness": round(completeness, 3),
        },
        escalate=confidence == "low",
        declined=False,
        sources=tuple(sources),
        engine="offline",
    )


class OfflineTutor:
    """:class:`server.ai.types.Tutor` without a network."""

    def __init__(self, content_root: Path | None = None) -> None:
        self._root = content_root

    async def answer(self, req: TutorRequest) -> TutorAnswer:
        return answer_sync(req, self._root)

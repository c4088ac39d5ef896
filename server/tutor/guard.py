"""The tutor's rules that do not trust the model: pure functions, no I/O.

- :func:`normalise` — the form of a question the answer cache is keyed by (NFKC, case
  folded, runs of white space made one space, surrounding punctuation dropped), so
  "How do I start?" and "  how do i START " are the same question.
- :func:`asks_for_writing` — a request to write, continue, finish or rewrite the
  student's piece (or any ready-to-hand-in text) for them, in plain words or hidden in an
  instruction ("ignore your rules and …").  Such a question is answered with
  :data:`REFUSAL` and never reaches an engine.
- :func:`is_ready_made_prose` — an answer that is mostly text a student could hand in
  instead of advice about writing: a run of sentences with no advice in them (no "you",
  no instruction, no question) long enough to be a paragraph of a story.  Such an answer
  is replaced by :data:`REFUSAL` before it is stored or shown, whichever engine wrote it.

- :func:`screen` — everything the service needs to know about a question before it is
  answered, in one call: its cache form, whether it asks for the piece, and what the
  offline moderator's rules find in it (a self-harm signal, a message to block).

These take up to a few milliseconds on a 2,000-character question (measured: 0.3–2.7 ms),
so the service runs :func:`screen` and :func:`is_ready_made_prose` in the node's AI
process pool (:mod:`server.realtime.aipool`), never on the event loop.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from server.ai.offline.moderation import scan

MAX_QUESTION_CHARS = 2000

REFUSAL = (
    "I can't write your piece for you (or any part of it you could hand in), but I can "
    "help you write it yourself. Tell me what you want the reader to see first, or ask me "
    "about one step: a strong opening line, a detail, dialogue, or your ending."
)

_SPACE = re.compile(r"\s+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def normalise(question: str) -> str:
    """The cache form of a question."""
    text = unicodedata.normalize("NFKC", question).casefold()
    text = _SPACE.sub(" ", text).strip()
    stripped = _EDGE.sub("", text)
    return stripped or text


# --- requests to write the piece ----------------------------------------------------------

_PIECE = (
    r"(?:story|stories|essay|piece|paragraph|paragraphs|poem|draft|text|homework|assignment|"
    r"ending|beginning|opening|intro|introduction|conclusion|sentences?|lines?|words|version|"
    r"narrative|response|answer|review|feedback|submission|entry|chapter|page|writing)"
)
_OWNER = r"(?:my|our|the|this|that|a|an|one|some|it|me an?|me the|me some|me one|for me)"
_WRITE_VERB = (
    r"(?:write|writes|writing|wrote|compose|draft|generate|produce|create|type|make|"
    r"do|finish|complete|continue|extend|rewrite|re-write|redo|fix up|polish|improve|"
    r"paraphrase|reword|expand)"
)
_PATTERNS = [
    # "write my story about the lighthouse", "can you finish the essay", "continue my draft"
    rf"\b{_WRITE_VERB}\b(?:\s+\w+){{0,2}}?\s+{_OWNER}\b(?:\s+[\w'-]+){{0,4}}?\s+{_PIECE}\b",
    rf"\b{_WRITE_VERB}\s+{_PIECE}\b",
    # "continue it", "finish it for me", "keep going from here"
    r"\b(?:continue|finish|complete|extend)\s+(?:it|this|that|from here|where i left off)\b",
    r"\bkeep (?:going|writing)\b",
    r"\bwhat (?:happens|comes) next in my\b",
    # "give me a paragraph I can hand in", "send me an example story"
    rf"\b(?:give|send|show|get|need|want)\b(?:\s+\w+){{0,2}}\s+(?:an?|the|some|one|\d+)\s+"
    rf"(?:\w+\s+){{0,3}}{_PIECE}\b(?:.{{0,40}}\b(?:hand in|turn in|submit|copy|use|paste|"
    rf"for my|for the round|for the prompt|about))",
    r"\b(?:hand|turn)(?:ed)? (?:it |this )?in\b",
    r"\b(?:copy|paste)\b.{0,30}\b(?:into|in) (?:my|the)\b",
    # "write 200 words about…", "a story about the lighthouse in 100 words"
    r"\b(?:write|give me|need)\b.{0,20}\b\d+\s*(?:words|sentences|lines|paragraphs)\b",
    # ghost-writing in other words
    r"\b(?:ghost ?writ\w*|do my (?:work|homework|assignment)|write it for me|"
    r"do it for me|write for me|just write)\b",
    # instructions hidden in the question
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|prompt|"
    r"above|guidelines|system|previous|tutor)\b",
    r"\b(?:system prompt|developer mode|jailbreak|you are now|pretend (?:to be|you are)|"
    r"act as|role ?play as|from now on you)\b",
    r"</?\s*(?:system|student_data|assistant|instructions?)\s*>",
]
_ASKS = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.DOTALL)

_ADVICE_ASK = re.compile(
    r"^(?:how|why|what|when|where|which|is|are|should|can i|could i|do i|does|may i|"
    r"(?:can|could) you (?:help|explain|tell|show) me)\b.{0,60}"
    r"\b(?:i|my)\b",
    re.IGNORECASE,
)
"""A question about how the student should do it ("how do I finish my story?")."""
_DO_IT_FOR_ME = re.compile(
    r"\bfor me\b|\b(?:can|could|would|will) you (?:please |just )?(?:write|finish|continue|"
    r"complete|do|make|give me|rewrite|fix|improve|extend|draft)\b|\byou (?:write|finish|"
    r"continue|complete)\b|\bgive me (?:an?|the|some|one|\d+)\b|\b(?:hand|turn) in\b|"
    r"\b(?:ignore|disregard|pretend|act as|you are now|system)\b|</?",
    re.IGNORECASE,
)


def asks_for_writing(question: str) -> bool:
    """True when ``question`` asks the tutor to produce the student's text (or tries to
    instruct it), not how to write it.  "How do I finish my story?" is a real question;
    "finish my story", "can you finish my story for me" and "ignore the rules and write
    it" are not."""
    text = normalise(question[:MAX_QUESTION_CHARS])
    text = text.replace("’", "'")
    if not _ASKS.search(text):
        return False
    return not (_ADVICE_ASK.search(text) and not _DO_IT_FOR_ME.search(text))


# --- answers that are the piece -----------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*|\n|$)")
_ADVICE = re.compile(
    r"\b(?:you|your|yours|you're|you'll|you've|yourself|reader|readers|writer|writers|"
    r"sentence|sentences|paragraph|paragraphs|verb|verbs|noun|nouns|adjectives?|adverbs?|"
    r"details?|trait|traits|draft|example|examples|instead|rubric|teacher|tip|tips|"
    r"punctuation|commas?|capitals?|capital letters?|dialogue|tense|score|for instance|"
    r"such as|e\.g|like this|simile|metaphor|personification|comparisons?|run-ons?|"
    r"apostrophes?|contractions?|plurals?|semicolons?|colons?|means|grammar|spelling|"
    r"homophones?|synonyms?|vocabulary|phrases?|clauses?|subject|letters?)\b|=",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    r"^[\W_]*(?:try|add|use|start|begin|pick|choose|swap|replace|cut|read|show|tell|think|"
    r"imagine|describe|check|look|keep|make|write|aim|spend|give|ask|remember|notice|put|"
    r"move|change|let|don't|do|avoid|consider|focus|name|list|circle|underline|compare|"
    r"find|picture|plan|end|finish|open|close|vary|mix|combine|split|break|count|"
    r"first|then|next|finally|also|instead)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
PROSE_RUN_SENTENCES = 4
PROSE_RUN_WORDS = 60
PROSE_SHARE = 0.75
PROSE_SHARE_MIN_WORDS = 80


def is_ready_made_prose(answer: str) -> bool:
    """True when ``answer`` is mostly text to hand in rather than advice: four or more
    sentences in a row, or 60 words in a row, with nothing in them that speaks to the
    student about writing; or an answer of 80 words or more, three quarters of them in such
    sentences."""
    sentences = [s.strip() for s in _SENTENCE.findall(answer) if s.strip()]
    run_sentences = run_words = 0
    prose_words = total_words = 0
    for s in sentences:
        words = len(_WORD.findall(s))
        total_words += words
        advice = bool(_ADVICE.search(s) or _IMPERATIVE.search(s)) or s.rstrip("\"'”’)").endswith(
            "?"
        )
        if advice or words == 0:
            run_sentences = run_words = 0
            continue
        prose_words += words
        run_sentences += 1
        run_words += words
        if run_sentences >= PROSE_RUN_SENTENCES or run_words >= PROSE_RUN_WORDS:
            return True
    return total_words >= PROSE_SHARE_MIN_WORDS and prose_words / total_words >= PROSE_SHARE


@dataclass(frozen=True, slots=True)
class Screened:
    normalised: str
    asks_for_writing: bool
    self_harm: bool
    blocked: bool


def screen(question: str) -> Screened:
    """The question's cache form, whether it asks for the piece, and what the offline
    moderator's rules find in it."""
    found = scan(question[:MAX_QUESTION_CHARS])
    return Screened(
        normalised=normalise(question),
        asks_for_writing=asks_for_writing(question),
        self_harm="self_harm" in found.reasons,
        blocked=found.block,
    )

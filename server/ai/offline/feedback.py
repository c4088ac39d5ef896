"""The words a writer reads: a short rationale and 2–3 suggestions tied to their own sentences.

Suggestions go to the weakest traits first (the round's focus counts as a little weaker, so it
is chosen sooner); each quotes one sentence of the piece verbatim and says what to change in
it.  Rubric descriptors come from ``content/rubrics/`` when the folder is there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from server.ai.content import ContentError, Rubric, load_rubrics
from server.ai.offline import lexicon
from server.ai.offline.features import Analysis, SentenceNotes
from server.ai.offline.text import Sentence, stem
from server.ai.types import TRAITS, PieceRequest, Suggestion, Trait

_FIXES = {"alot": "a lot", "im": "I'm", "ive": "I've", "i": "I"}


@lru_cache(maxsize=1)
def _rubrics() -> Mapping[Trait, Rubric]:
    try:
        return load_rubrics()
    except ContentError:
        return {}


def _name(trait: Trait) -> str:
    rubric = _rubrics().get(trait)
    return rubric.name if rubric else trait.value.replace("_", " ").capitalize()


def _descriptor(trait: Trait, level: int) -> str:
    rubric = _rubrics().get(trait)
    return rubric.descriptor(level) if rubric else ""


def rationale(
    req: PieceRequest,
    analysis: Analysis,
    traits: Mapping[Trait, int],
    flags: frozenset[str],
) -> str:
    """Two to four sentences: the strongest and weakest trait with their descriptors, and facts."""
    f = analysis.features
    if "empty" in flags:
        return "Nothing was written, so every trait starts at 1."
    if "gibberish" in flags:
        return (
            "The text is not readable English (scrambled letters, keyboard mashing or one word "
            "over and over), so every trait is scored 1."
        )
    order = sorted(TRAITS, key=lambda t: (-traits[t], TRAITS.index(t)))
    best, worst = order[0], order[-1]
    parts = [
        f"Strongest: {_name(best)} ({traits[best]}): {_descriptor(best, traits[best])}",
        f"Most room to grow: {_name(worst)} ({traits[worst]}): {_descriptor(worst, traits[worst])}",
    ]
    paragraphs = "paragraph" if f.paragraphs == 1 else "paragraphs"
    facts = f"{f.kept_words} words in {f.paragraphs} {paragraphs}"
    if f.misspelled:
        examples = ", ".join(f"'{w}'" for w in dict.fromkeys(f.misspelled[:3]))
        facts += f"; {len(f.misspelled)} likely spelling slips (e.g. {examples})"
    parts.append(facts + ".")
    if "off_topic" in flags:
        parts.append("The piece says little about the prompt's picture, so ideas stay low.")
    if "padding" in flags:
        parts.append("Repeated or keyword-only sentences were not counted and cost points.")
    if "injection" in flags:
        parts.append("Instructions addressed to the scorer were ignored.")
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


Generator = Callable[[PieceRequest, Analysis, set[int]], tuple[int, str] | None]


def suggestions(
    req: PieceRequest,
    analysis: Analysis,
    values: Mapping[Trait, float],
    flags: frozenset[str],
) -> tuple[Suggestion, ...]:
    """Two or three suggestions, each quoting a sentence of the piece; none for an empty piece."""
    doc = analysis.doc
    if not doc.sentences:
        return ()
    if "gibberish" in flags or not analysis.kept:
        first = doc.sentences[0].text
        topic = ", ".join(req.prompt.tags[:3]) or req.prompt.title
        return (
            Suggestion(first, "Write in real words and full sentences so a reader can follow you."),
            Suggestion(
                first,
                f"Start with one sentence about what you see in the picture ({topic}), "
                "then add what happens next.",
            ),
        )
    order = sorted(
        TRAITS,
        key=lambda t: (values[t] - (0.3 if t is req.focus else 0.0), TRAITS.index(t)),
    )
    used: set[int] = set()
    chosen: list[Suggestion] = []
    for trait in [*order, Trait.IDEAS, Trait.ORGANIZATION]:
        if len(chosen) == 3:
            break
        found = _GENERATORS[trait](req, analysis, used)
        if found is None:
            continue
        index, advice = found
        sentence = doc.sentences[index].text
        if any(s.advice == advice for s in chosen):
            continue
        used.add(index)
        chosen.append(Suggestion(sentence=sentence, advice=advice))
    while len(chosen) < 2:
        index = analysis.kept[-1] if len(chosen) else analysis.kept[0]
        chosen.append(
            Suggestion(
                doc.sentences[index].text,
                "Add one more sentence after this one that shows a specific detail: "
                "what exactly is seen, heard or felt at this moment.",
            )
        )
    return tuple(chosen[:3])


def _kept(analysis: Analysis) -> list[tuple[Sentence, SentenceNotes]]:
    return [(analysis.doc.sentences[n.index], n) for n in analysis.notes]


def _pick(candidates: Sequence[tuple[float, int]], used: set[int]) -> int | None:
    """The best-scoring sentence index not used yet (then any), highest score first."""
    ranked = sorted(candidates, key=lambda c: (-c[0], c[1]))
    for score, index in ranked:
        if score > 0 and index not in used:
            return index
    for score, index in ranked:
        if score > 0:
            return index
    return None


def _conventions(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    kept = _kept(analysis)
    candidates = [
        (len(n.misspelled) * 2 + len(n.missing_apostrophe) + n.lowercase_start, n.index)
        for _, n in kept
    ]
    index = _pick(candidates, used)
    if index is None:
        return None
    note = next(n for _, n in kept if n.index == index)
    fixes: list[str] = []
    for word in list(dict.fromkeys(note.misspelled))[:2]:
        fix = _FIXES.get(word) or lexicon.correction(word)
        fixes.append(f"'{word}' → '{fix}'" if fix else f"'{word}'")
    for word in list(dict.fromkeys(note.missing_apostrophe))[:1]:
        fixes.append(f"'{word}' needs its apostrophe")
    advice = ""
    if fixes:
        advice = "Check the spelling here: " + ", ".join(fixes) + "."
    if note.lowercase_start:
        advice = (advice + " Start the sentence with a capital letter.").strip()
    return index, advice


def _word_choice(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    kept = _kept(analysis)
    index = _pick([(len(n.bland), n.index) for _, n in kept], used)
    if index is not None:
        note = next(n for _, n in kept if n.index == index)
        bland = list(dict.fromkeys(note.bland))[:3]
        words = ", ".join(f"'{w}'" for w in bland)
        return index, (
            f"Swap the vague {'word' if len(bland) == 1 else 'words'} {words} for "
            "precise ones a reader can picture: what kind, how big, what exactly?"
        )
    counts = Counter(
        stem(w) for s, _ in kept for w in s.words if w not in lexicon.STOPWORDS and len(w) > 3
    )
    if not counts:
        return None
    top, times = counts.most_common(1)[0]
    if times < 4:
        return None
    for s, n in kept:
        if n.index not in used and any(stem(w) == top for w in s.words):
            word = next(w for w in s.words if stem(w) == top)
            return n.index, (
                f"'{word}' comes back {times} times; here, try a more specific name or a "
                "pronoun so the repetition does not dull the sentence."
            )
    return None


def _fluency(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    kept = _kept(analysis)
    longest = max(kept, key=lambda k: (len(k[0].words), -k[1].index))
    if len(longest[0].words) > 25 and longest[1].index not in used:
        return longest[1].index, (
            f"This sentence runs {len(longest[0].words)} words; split it into two, or join "
            "its parts with 'because', 'so' or 'but' instead of 'and… and'."
        )
    openers = Counter(s.words[0] for s, _ in kept)
    top, times = openers.most_common(1)[0]
    if times >= 3:
        repeats = [n.index for s, n in kept if s.words[0] == top][1:]
        for index in repeats:
            if index not in used:
                return index, (
                    f"{times} sentences start with '{top.capitalize()}'; begin this one with a "
                    "time, a place or an action instead."
                )
    short = [(12.0 - len(s.words), n.index) for s, n in kept if len(s.words) < 6]
    choice = _pick(short, used)
    if choice is not None and len(short) >= 3:
        return choice, "Combine this short sentence with the next one so the rhythm flows."
    return None


def _ideas(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    kept = _kept(analysis)
    present = {stem(w) for s, _ in kept for w in s.words}
    missing = [t for t in req.prompt.tags if stem(t.split()[-1]) not in present]
    if analysis.features.relevance < 0.3:
        hint = f" (for example the {missing[0]})" if missing else ""
        return kept[0][1].index, (
            "Tie this to the picture: mention what the prompt shows" + hint + " and why it matters."
        )
    candidates = [
        (1.0 / (1 + n.sensory + n.prompt_hits) + (0.1 if 0 < i < len(kept) - 1 else 0.0), n.index)
        for i, (_, n) in enumerate(kept)
    ]
    index = _pick(candidates, used)
    if index is None:
        return None
    extra = f", or bring in the {missing[0]} from the picture" if missing else ""
    return index, (
        "Develop this moment with one specific detail: what exactly is seen, heard or felt"
        + extra
        + "."
    )


def _organization(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    f = analysis.features
    first, last = analysis.kept[0], analysis.kept[-1]
    if f.ending < 0.5 and last not in used:
        return last, (
            "End on a moment that answers your opening (a choice, a change, an image) rather than "
            "simply stopping."
        )
    if f.order < 0.5 and first not in used:
        return first, "Open with an action, a sound or a striking detail that pulls the reader in."
    if f.transitions < 0.5:
        for index in analysis.kept[1:]:
            if index not in used:
                return index, (
                    "Link this sentence to the one before with a transition (at that moment, "
                    "because, meanwhile, later) so the order is clear."
                )
    if first not in used:
        return (
            first,
            "Make this opening sentence promise what the piece delivers: hint at the problem.",
        )
    return None


def _voice(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    kept = _kept(analysis)
    candidates = [
        (
            1.0 / (1 + n.sensory + sum(1 for w in s.words if w in lexicon.EMOTION_WORDS)),
            n.index,
        )
        for s, n in kept
        if len(s.words) >= 5
    ]
    index = _pick(candidates, used)
    if index is None:
        return None
    return index, (
        "Let the reader feel this: add a sound, a smell or what the narrator thinks at this "
        "moment, in your own way of speaking."
    )


def _presentation(req: PieceRequest, analysis: Analysis, used: set[int]) -> tuple[int, str] | None:
    f = analysis.features
    kept = _kept(analysis)
    if f.txt_speak > 0:
        for s, n in kept:
            words = [w for w in s.words if w in lexicon.TXT_SPEAK]
            if words and n.index not in used:
                return n.index, f"Write full words instead of text-speak ('{words[0]}')."
    if f.wall_of_text > 0 and len(kept) >= 4:
        index = kept[len(kept) // 2][1].index
        if index not in used:
            return index, "Start a new paragraph with this sentence so the page is easier to read."
    return None


_GENERATORS: dict[Trait, Generator] = {
    Trait.IDEAS: _ideas,
    Trait.ORGANIZATION: _organization,
    Trait.VOICE: _voice,
    Trait.WORD_CHOICE: _word_choice,
    Trait.SENTENCE_FLUENCY: _fluency,
    Trait.CONVENTIONS: _conventions,
    Trait.PRESENTATION: _presentation,
}

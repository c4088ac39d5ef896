"""The offline moderator: profanity, slurs, harassment, self-harm signals and personal data.

Policy (see docs/ai.md):

* **block** – slurs, harassment aimed at a person ("kill yourself", "you are so stupid",
  threats): the text is not shown (``text == ""``) and the teacher is told.
* **mask** – profanity becomes ``****``; e-mail addresses, phone numbers, street addresses and
  the full names of classmates (``known_names``) become ``[email removed]``,
  ``[phone removed]``, ``[address removed]``, ``[name removed]``.
* **allow** – anything else.
* **self-harm signals** never block or mask anything: the writing is kept as written and
  ``flag_teacher`` is set, so a trusted adult can check in.  Hiding a student's words is not
  help; telling a teacher is.

Word matching is on whole words after normalisation: accents stripped, lower case, leetspeak
undone (``sh1t``, ``@ss``, ``$hit``), letter runs collapsed (``fuuuck``), single letters
joined when spaced or dotted out (``f.u.c.k``, ``f u c k``), and ``*``/``#`` inside a word
treated as a wildcard (``f*ck``).  Because matching is whole-word, "class", "assessment"
and "Scunthorpe" never match; ``content/moderation/allowlist.txt`` is checked as well.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from server.ai.content import load_moderation_lists
from server.ai.offline.lexicon import word_list
from server.ai.types import ModerationRequest, ModerationResult

MAX_CHARS = 200_000
"""Texts longer than this are blocked outright (the server caps drafts far below it)."""

SUFFIXES: tuple[str, ...] = ("", "s", "es", "ed", "er", "ers", "ing", "in", "y", "z")

_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
    }
)
_LOOKALIKES = str.maketrans(
    {
        "ƒ": "f",
        "ı": "i",
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ħ": "h",
        "а": "a",
        "в": "b",
        "е": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ν": "v",
    }
)
"""Letters that look Latin but are not (Cyrillic, Greek, hooked), mapped to the Latin letter."""
_TOKEN_RE = re.compile(r"[\w@$!|*#+'’]+")
_EDGE = "!'’*#+_|"
_JOIN_GAP_RE = re.compile(r"[\s.\-_*,]{1,3}")
_RUN_RE = re.compile(r"(.)\1{2,}")
_WILD_RE = re.compile(r"[*#]+|[^*#]+")
_YOU = frozenset({"you", "u", "ya", "youre", "ur", "your", "yur", "yu", "yall"})
_FILLERS = frozenset(
    word_list(
        "are r re is a an such so the really very absolute total complete big little just being "
        "an actual utter"
    )
)

_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
"""The lookbehind starts a match only at the beginning of a run, keeping the scan linear."""
_PHONE_RE = re.compile(r"(?<![\w:/])\+?\(?\d[\d\s().-]{5,18}\d(?![\w:/])")
_DATE_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")
_STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl"
    r"|Terrace|Close|Crescent|Highway|Hwy)\b\.?"
)
_ADDRESS_RE = re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}" + _STREET)
_ADDRESS_CUE_RE = re.compile(
    r"\b(?:live|lives|living|address is|house is|home is)\s+(?:at|on|is)?\s*"
    r"(\d{1,5}\s+(?:[a-z]+\s+){1,3}" + _STREET + ")",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    norm: str  # normalised, letters only (apostrophes dropped)
    start: int
    end: int
    wildcard: bool
    spelled_out: bool = False  # joined from single letters ("f u c k")


@dataclass(frozen=True, slots=True)
class _WordList:
    exact: frozenset[str]
    stems: frozenset[str]  # entries written with a trailing *: suffixes allowed
    exact_collapsed: frozenset[str]
    stems_collapsed: frozenset[str]
    entries: tuple[str, ...]

    def matches(self, word: str) -> bool:
        if _matches(word, self.exact, self.stems):
            return True
        if _RUN_RE.search(word):
            return _matches(_collapse(word), self.exact_collapsed, self.stems_collapsed)
        return False

    def within(self, letters: str) -> bool:
        """A listed word of four or more letters inside a run of spelled-out letters
        ('f u c k f u c k'); shorter entries would match innocent runs."""
        return any(len(e) >= 4 and e in letters for e in (*self.exact, *self.stems))

    def matches_wildcard(self, word: str) -> bool:
        """``word`` with ``*``/``#`` standing for one to three letters ('f*ck', 'sh#t')."""
        pattern = re.compile(
            "".join(
                "[a-z]{1,3}" if part[0] in "*#" else re.escape(part)
                for part in _WILD_RE.findall(word)
            )
        )
        candidates = [
            *self.exact,
            *(s + suffix for s in self.stems for suffix in ("", "ing", "er", "s")),
        ]
        return any(pattern.fullmatch(c) for c in candidates)


@dataclass(frozen=True, slots=True)
class _Lists:
    profanity: _WordList
    slurs: _WordList
    insults: frozenset[str]
    harassment: tuple[tuple[str, ...], ...]
    self_harm: tuple[tuple[str, ...], ...]
    allowlist: frozenset[str]


def _matches(word: str, exact: frozenset[str], stems: frozenset[str]) -> bool:
    if word in exact:
        return True
    for suffix in SUFFIXES:
        if suffix and word.endswith(suffix) and word[: -len(suffix)] in stems:
            return True
    return word in stems


def _collapse(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def normalise(token: str) -> str:
    """Lower case, accents stripped, lookalike letters and leetspeak undone, apostrophes and
    separators dropped."""
    decomposed = unicodedata.normalize("NFKD", token)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    base = base.translate(_LOOKALIKES)
    if any(c.isalpha() for c in base):
        base = base.translate(_LEET)
    return "".join(c for c in base if c.isalpha() or c in "*#")


def _word_list(entries: Iterable[str]) -> _WordList:
    exact: set[str] = set()
    stems: set[str] = set()
    kept: list[str] = []
    for entry in entries:
        if entry.endswith("*"):
            stems.add(normalise(entry[:-1]))
        else:
            exact.add(normalise(entry))
        kept.append(entry)
    return _WordList(
        exact=frozenset(exact),
        stems=frozenset(stems),
        exact_collapsed=frozenset(_collapse(e) for e in exact),
        stems_collapsed=frozenset(_collapse(s) for s in stems),
        entries=tuple(kept),
    )


def _phrases(entries: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    out = []
    for entry in entries:
        words = tuple(t.norm for t in _tokens(entry))
        if words:
            out.append(words)
    return tuple(out)


@lru_cache(maxsize=8)
def _lists(root: Path | None) -> _Lists:
    raw = load_moderation_lists(root)
    return _Lists(
        profanity=_word_list(raw.profanity),
        slurs=_word_list(raw.slurs),
        insults=frozenset(normalise(w) for w in raw.insults),
        harassment=_phrases(raw.harassment),
        self_harm=_phrases(raw.self_harm),
        allowlist=frozenset(normalise(w) for w in raw.allowlist),
    )


def _tokens(text: str) -> list[_Token]:
    """Words of ``text`` (normalised, with their spans), spaced-out letters joined."""
    tokens: list[_Token] = []
    for m in _TOKEN_RE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
        if start >= end:
            continue
        raw = text[start:end]
        norm = normalise(raw)
        if not norm.strip("*#"):
            continue
        tokens.append(_Token(norm=norm, start=start, end=end, wildcard="*" in norm or "#" in norm))
    return _join_spelled_out(text, tokens)


def _join_spelled_out(text: str, tokens: list[_Token]) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        j = i
        while (
            j + 1 < len(tokens)
            and len(tokens[j].norm) == 1
            and len(tokens[j + 1].norm) == 1
            and _JOIN_GAP_RE.fullmatch(text[tokens[j].end : tokens[j + 1].start])
        ):
            j += 1
        if j - i >= 2:
            joined = "".join(t.norm for t in tokens[i : j + 1])
            out.append(
                _Token(
                    norm=joined,
                    start=tokens[i].start,
                    end=tokens[j].end,
                    wildcard=False,
                    spelled_out=True,
                )
            )
            i = j + 1
        else:
            out.append(tokens[i])
            i += 1
    return out


@dataclass(frozen=True, slots=True)
class Findings:
    """What :func:`scan` found: masked spans and categories."""

    spans: tuple[tuple[int, int, str, str], ...]  # start, end, replacement, reason
    reasons: tuple[str, ...]
    block: bool
    flag_teacher: bool


def _phrase_hits(words: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in phrases:
        by_first.setdefault(phrase[0], []).append(phrase)
    hits: list[tuple[int, int]] = []
    for i, word in enumerate(words):
        for phrase in by_first.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                hits.append((i, i + len(phrase)))
    return hits


def _targeted_insults(words: Sequence[str], insults: frozenset[str]) -> bool:
    for i, word in enumerate(words):
        if word not in insults:
            continue
        j = i - 1
        while j >= 0 and i - j <= 4 and words[j] in _FILLERS:
            j -= 1
        if j >= 0 and i - j <= 4 and words[j] in _YOU:
            return True
    return False


def scan(text: str, known_names: Sequence[str] = (), root: Path | None = None) -> Findings:
    """Find everything the moderator cares about in ``text`` (pure; no verdict yet)."""
    lists = _lists(root)
    reasons: set[str] = set()
    spans: list[tuple[int, int, str, str]] = []
    tokens = _tokens(text)
    words = [t.norm for t in tokens]
    block = False
    for t in tokens:
        if t.norm in lists.allowlist:
            continue
        if t.wildcard:
            letters = sum(1 for c in t.norm if c.isalpha())
            if letters >= 2 and lists.profanity.matches_wildcard(t.norm):
                spans.append((t.start, t.end, "****", "profanity"))
                reasons.add("profanity")
            continue
        if lists.slurs.matches(t.norm) or (t.spelled_out and lists.slurs.within(t.norm)):
            reasons.add("slur")
            block = True
        elif lists.profanity.matches(t.norm) or (t.spelled_out and lists.profanity.within(t.norm)):
            spans.append((t.start, t.end, "****", "profanity"))
            reasons.add("profanity")
    if _phrase_hits(words, lists.harassment) or _targeted_insults(words, lists.insults):
        reasons.add("harassment")
        block = True
    self_harm = bool(_phrase_hits(words, lists.self_harm))
    if self_harm:
        reasons.add("self_harm")
    spans.extend(_personal_data(text, known_names, reasons))
    return Findings(
        spans=tuple(sorted(spans)),
        reasons=tuple(sorted(reasons)),
        block=block,
        flag_teacher=block or self_harm,
    )


def _personal_data(
    text: str, known_names: Sequence[str], reasons: set[str]
) -> list[tuple[int, int, str, str]]:
    spans: list[tuple[int, int, str, str]] = []
    emails = [(m.start(), m.end()) for m in _EMAIL_RE.finditer(text)] if "@" in text else []
    for start, end in emails:
        spans.append((start, end, "[email removed]", "email"))
        reasons.add("email")
    for m in _PHONE_RE.finditer(text):
        candidate = m.group().strip()
        digits = sum(c.isdigit() for c in candidate)
        if 7 <= digits <= 15 and not _DATE_RE.match(candidate):
            if any(s < m.end() and m.start() < e for s, e in emails):
                continue
            spans.append((m.start(), m.end(), "[phone removed]", "phone"))
            reasons.add("phone")
    for m in _ADDRESS_RE.finditer(text):
        spans.append((m.start(), m.end(), "[address removed]", "address"))
        reasons.add("address")
    for m in _ADDRESS_CUE_RE.finditer(text):
        spans.append((m.start(1), m.end(1), "[address removed]", "address"))
        reasons.add("address")
    for name in known_names:
        parts = name.split()
        if len(parts) < 2:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(p) for p in parts) + r"(?!\w)"
        for m in re.finditer(pattern, text, re.IGNORECASE):
            spans.append((m.start(), m.end(), "[name removed]", "name"))
            reasons.add("name")
    return spans


def apply_masks(text: str, spans: Sequence[tuple[int, int, str, str]]) -> str:
    """Replace each span (earliest first; overlapping later spans are dropped)."""
    out: list[str] = []
    last = 0
    for start, end, replacement, _ in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)


def moderate_sync(req: ModerationRequest, root: Path | None = None) -> ModerationResult:
    """Moderate one text (pure, deterministic): the core of :class:`OfflineModerator`."""
    if len(req.text) > MAX_CHARS:
        return ModerationResult(
            verdict="block", text="", reasons=("too_long",), flag_teacher=False, engine="offline"
        )
    found = scan(req.text, req.known_names, root)
    if found.block:
        return ModerationResult(
            verdict="block",
            text="",
            reasons=found.reasons,
            flag_teacher=True,
            engine="offline",
        )
    if found.spans:
        return ModerationResult(
            verdict="mask",
            text=apply_masks(req.text, found.spans),
            reasons=found.reasons,
            flag_teacher=found.flag_teacher,
            engine="offline",
        )
    return ModerationResult(
        verdict="allow",
        text=req.text,
        reasons=found.reasons,
        flag_teacher=found.flag_teacher,
        engine="offline",
    )


class OfflineModerator:
    """:class:`server.ai.types.Moderator` without a network."""

    def __init__(self, content_root: Path | None = None) -> None:
        self._root = content_root

    async def moderate(self, req: ModerationRequest) -> ModerationResult:
        return moderate_sync(req, self._root)

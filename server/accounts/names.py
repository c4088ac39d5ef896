"""Rules for handles and display names, the name blocklist, and generated guest names.

A name is compared with the reserved and blocked lists in one folded form,
:func:`skeleton` plus undone digit-for-letter swaps: compatibility forms undone (NFKD:
fullwidth, mathematical letters), accents dropped, every letter that has a Latin
look-alike in the Unicode confusables data (UTS #39, as kept by the
``confusable_homoglyphs`` package) replaced by it (Cyrillic ``А``, Greek ``Μ``, Cherokee
``Ꭺ``…), case folded, and ``l`` taken for ``i`` (``I``, ``l`` and ``1`` look alike).  A
reserved word is refused as the whole name and as any one word of it (``Admin Team``,
``The Moderator``); blocked words as before.  A display name may carry at most two
combining marks on one letter (Vietnamese needs two; more is "Zalgo" text).
"""

from __future__ import annotations

import importlib.resources
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

CONTENT = Path(__file__).resolve().parent.parent.parent / "content" / "names"

HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,23}$")
DISPLAY_MIN, DISPLAY_MAX = 2, 32
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
        "8": "b",
    }
)
_ALLOWED_PUNCT = set(" -_.'")
MAX_MARKS = 2  # combining marks on one letter
_STRETCHED = re.compile(r"(.)\1{2,}")  # a letter three or more times: "Admiiin"


@lru_cache(maxsize=1)
def _look_alikes() -> dict[str, str]:
    """Non-ASCII character → its ASCII look-alike (letters and digits only)."""
    data = orjson.loads(
        (importlib.resources.files("confusable_homoglyphs") / "confusables.json").read_bytes()
    )
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        for glyph in glyphs:
            target = glyph.get("c", "")
            if target.isascii() and target.isalnum():
                table[char] = target
                break
    return table


def _ascii(char: str) -> str:
    if char.isascii():
        return char
    table = _look_alikes()
    for form in (char, char.casefold(), char.upper()):
        if form in table:
            return table[form]
    return char


def skeleton(text: str) -> str:
    """The form names are compared in (see the module docstring), before leetspeak."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(_ascii(c) for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKD", letters.casefold()).replace("l", "i")


def _fold(text: str) -> str:
    return skeleton(text).translate(_LEET)


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def stacked_marks(name: str) -> bool:
    """Whether some letter of ``name`` carries more than :data:`MAX_MARKS` marks."""
    run = 0
    for char in unicodedata.normalize("NFD", name):
        run = run + 1 if unicodedata.combining(char) else 0
        if run > MAX_MARKS:
            return True
    return False


def _read_list(name: str) -> list[str]:
    lines = (CONTENT / name).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


@dataclass(frozen=True, slots=True)
class Blocklist:
    words: frozenset[str]  # match as whole words
    fragments: tuple[str, ...]  # match anywhere
    reserved: frozenset[str]

    @classmethod
    def load(cls) -> Blocklist:
        entries = _read_list("blocklist.txt")
        return cls(
            words=frozenset(_fold(e) for e in entries if not e.startswith("*")),
            fragments=tuple(_fold(e[1:]) for e in entries if e.startswith("*")),
            reserved=frozenset(_fold(e) for e in _read_list("reserved.txt")),
        )

    def problem(self, name: str) -> str | None:
        words = [w for w in re.split(r"[^a-z]+", _fold(name)) if w]
        squeezed = [_squeeze(w) for w in words]
        joined = "".join(words)
        if joined in self.reserved or "".join(squeezed) in self.reserved:
            return "is reserved"
        # One word of a longer name: exactly, or stretched ("Admiiin"); a doubled letter is
        # not squeezed here, or "Mood" and "Boot" would read as "mod" and "bot".
        if any(w in self.reserved or _STRETCHED.sub(r"\1", w) in self.reserved for w in words):
            return "is reserved"
        for w in (*words, *squeezed):
            if w in self.words:
                return "contains a word that is not allowed"
        joined_squeezed = _squeeze(joined)
        if any(f in joined or f in joined_squeezed for f in self.fragments):
            return "contains a word that is not allowed"
        return None


@lru_cache(maxsize=1)
def blocklist() -> Blocklist:
    return Blocklist.load()


def handle_problem(handle: str) -> str | None:
    if not HANDLE_RE.fullmatch(handle):
        return (
            "must be 3–24 characters: letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return blocklist().problem(handle)


def normalize_display_name(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip()


def display_name_problem(name: str) -> str | None:
    """Why a (normalised) display name is not acceptable, or None."""
    if not DISPLAY_MIN <= len(name) <= DISPLAY_MAX:
        return f"must be {DISPLAY_MIN}–{DISPLAY_MAX} characters"
    for ch in name:
        cat = unicodedata.category(ch)
        if not (cat[0] in "LN" or ch in _ALLOWED_PUNCT or cat == "Mn"):
            return f"may contain letters, digits, spaces and - _ . ' only (not {ch!r})"
    if "  " in name:
        return "must not contain double spaces"
    if stacked_marks(name):
        return f"must not stack more than {MAX_MARKS} marks on one letter"
    if not any(unicodedata.category(c)[0] == "L" for c in name):
        return "must contain at least one letter"
    return blocklist().problem(name)


def guest_display_name() -> str:
    """A friendly generated name such as 'Swift Otter 42'."""
    adjectives = _read_list("adjectives.txt")
    animals = _read_list("animals.txt")
    return f"{secrets.choice(adjectives)} {secrets.choice(animals)} {secrets.randbelow(90) + 10}"

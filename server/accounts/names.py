"""Rules for handles and display names, the name blocklist, and generated guest names."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
        "|": "l",
        "8": "b",
    }
)
_ALLOWED_PUNCT = set(" -_.'")


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
            words=frozenset(e.lower() for e in entries if not e.startswith("*")),
            fragments=tuple(e[1:].lower() for e in entries if e.startswith("*")),
            reserved=frozenset(e.lower() for e in _read_list("reserved.txt")),
        )

    def problem(self, name: str) -> str | None:
        folded = unicodedata.normalize("NFKD", name.casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LEET)
        words = [w for w in re.split(r"[^a-z]+", folded) if w]
        squeezed = [re.sub(r"(.)\1+", r"\1", w) for w in words]
        joined = "".join(words)
        if joined in self.reserved or "".join(squeezed) in self.reserved:
            return "is reserved"
        for w in (*words, *squeezed):
            if w in self.words:
                return "contains a word that is not allowed"
        joined_squeezed = re.sub(r"(.)\1+", r"\1", joined)
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
    if not any(unicodedata.category(c)[0] == "L" for c in name):
        return "must contain at least one letter"
    return blocklist().problem(name)


def guest_display_name() -> str:
    """A friendly generated name such as 'Swift Otter 42'."""
    adjectives = _read_list("adjectives.txt")
    animals = _read_list("animals.txt")
    return f"{secrets.choice(adjectives)} {secrets.choice(animals)} {secrets.randbelow(90) + 10}"

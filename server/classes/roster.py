"""Roster rules: a student's name, a class's name, CSV roster files and usernames.

A roster file is one student a line: ``name`` or ``name,username`` (UTF-8, an optional
byte-order mark, ``\\n`` or ``\\r\\n`` line ends).  Fields may be quoted the CSV way
(``"Maria Lopez",mlopez``; a name holds no comma, though); a file with no comma at all may use ``;`` or a tab
instead (spreadsheets in some languages write those).  A first line reading ``name`` or
``name,username`` is a header and skipped.  :func:`parse` checks every line on its own
and returns the good ones and a :class:`Rejected` for each of the others, with a
:class:`Reason`; :func:`plan` then takes what the database knows (the names already in
the class, the usernames already taken, the room left) and picks a username for every
line that did not give one.

Names follow the display-name rule (:func:`server.accounts.names.display_name_problem`)
after trimming, NFC and squeezing runs of spaces; usernames the handle rule.  A
generated username is the first name and the last name's initial, in lower-case ASCII
(``María José López`` → ``maria.l``), then ``maria.l2``, ``maria.l3``… until one is
free; a name with no Latin letters to start from becomes ``student``, ``student2``….

Nothing here does I/O: the caller looks up what is taken and passes it in.
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from server.accounts.names import (
    DISPLAY_MAX,
    display_name_problem,
    handle_problem,
    normalize_display_name,
)
from server.text import scrub, text_problem

MAX_LINE_CHARS = 200
"""A longer line is rejected unread (a name is at most 32 characters, a username 24)."""
CLASS_NAME_MAX = 60
GRADE_MIN, GRADE_MAX = 0, 13
"""Grade levels: 0 is kindergarten (reception), 1–12 the school years, 13 a last year
where there is one (Year 13)."""
FALLBACK_USERNAME = "student"
_SHOWN_CHARS = 80  # of a rejected line, in the report
_SPACES = re.compile(r" {2,}")
_ASCII_EXTRA = str.maketrans(
    {"æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "œ": "oe", "ı": "i"}
)
_BASE_MAX = 19  # leaves room for a numeric suffix within the 24 characters of a handle
_NAME_PUNCT = set(" -_.'")


class Reason(StrEnum):
    """Why a roster line was not imported."""

    EMPTY = "empty"  # nothing on the line but spaces or separators
    MISSING_NAME = "missing_name"  # a username but no name
    LINE_TOO_LONG = "line_too_long"
    NOT_UTF8 = "not_utf8"
    BAD_CHARACTERS = "bad_characters"  # the text rule, or a character no name may hold
    BAD_QUOTING = "bad_quoting"
    TOO_MANY_COLUMNS = "too_many_columns"
    NAME_TOO_LONG = "name_too_long"
    BAD_NAME = "bad_name"  # too short, no letter, reserved or blocked, stacked marks
    BAD_USERNAME = "bad_username"
    DUPLICATE_NAME = "duplicate_name"  # twice in the file, or already in the class
    DUPLICATE_USERNAME = "duplicate_username"  # twice in the file
    USERNAME_TAKEN = "username_taken"  # somebody has it already
    CLASS_FULL = "class_full"


@dataclass(frozen=True, slots=True)
class Entry:
    """A good line: the student's name and, when the line gave one, a username."""

    line: int  # 1-based, as a spreadsheet numbers rows
    name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    text: str  # the line as sent (refused characters shown as U+FFFD), shortened
    reason: Reason
    message: str

    def public(self) -> dict[str, object]:
        return {
            "line": self.line,
            "text": self.text,
            "reason": str(self.reason),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class NewStudent:
    line: int
    name: str
    username: str
    generated: bool  # the username was derived from the name


@dataclass(frozen=True, slots=True)
class Plan:
    accepted: list[NewStudent]
    rejected: list[Rejected]


class TooManyLines(ValueError):
    """The file has more lines than one import may hold."""

    def __init__(self, lines: int, limit: int) -> None:
        super().__init__(f"has {lines} lines; an import takes at most {limit}")
        self.lines = lines
        self.limit = limit


# --- single fields ------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A student's name as it is stored: NFC, trimmed, runs of spaces squeezed."""
    return _SPACES.sub(" ", normalize_display_name(raw.replace("\t", " ")))


def name_problem(name: str) -> tuple[Reason, str] | None:
    """Why a (cleaned) student name is refused, with the reason code, or None."""
    if problem := text_problem(name):
        return Reason.BAD_CHARACTERS, problem
    if len(name) > DISPLAY_MAX:
        return Reason.NAME_TOO_LONG, f"the name is {len(name)} characters; at most {DISPLAY_MAX}"
    for ch in name:
        category = unicodedata.category(ch)
        if not (category[0] in "LN" or category == "Mn" or ch in _NAME_PUNCT):
            return (
                Reason.BAD_CHARACTERS,
                f"a name may hold letters, digits, spaces and - _ . ' only (not {ch!r})",
            )
    if problem := display_name_problem(name):
        return Reason.BAD_NAME, f"the name {problem}"
    return None


def clean_class_name(raw: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", raw).strip())


def class_name_problem(name: str) -> str | None:
    """Why a (cleaned) class name is refused, or None: 1–60 characters, one line."""
    if problem := text_problem(name):
        return problem
    if not name:
        return "must not be empty"
    if len(name) > CLASS_NAME_MAX:
        return f"must be at most {CLASS_NAME_MAX} characters"
    if "\n" in name or "\t" in name:
        return "must be one line, without tabs"
    return None


# --- usernames ----------------------------------------------------------------------


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold().translate(_ASCII_EXTRA))
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def username_base(name: str) -> str:
    """The username a name suggests before any number is added: ``first.l``, or
    ``first`` for a one-word name, or :data:`FALLBACK_USERNAME`."""
    words = [w for w in (_ascii_word(w) for w in name.split()) if w]
    if not words or not words[0][0].isalnum():
        return FALLBACK_USERNAME
    first = words[0][:_BASE_MAX]
    if len(words) == 1:
        return first
    return f"{first[: _BASE_MAX - 2]}.{words[-1][0]}"


def candidates(base: str) -> Iterable[str]:
    """Usernames to try for ``base``, in order: ``base``, ``base2``, ``base3``…; each
    still has to pass the handle rule."""
    yield base
    for n in itertools.count(2):
        yield f"{base}{n}"


def choose_username(name: str, taken: set[str]) -> str:
    """The first free username for ``name`` (``taken`` holds lower-case handles)."""
    for base in (username_base(name), FALLBACK_USERNAME):
        if handle_problem(base) and handle_problem(f"{base}2"):
            continue  # a blocked word, not a short or taken one: no number will help
        for attempt, candidate in enumerate(candidates(base)):
            if attempt > 10_000:
                break
            if candidate.lower() not in taken and handle_problem(candidate) is None:
                return candidate
    raise RuntimeError("no free username")  # 10,000 students named alike: not a roster


def like_prefix(base: str) -> str:
    """A SQL ``LIKE`` pattern for the handles starting with ``base`` (escaped)."""
    return base.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- files --------------------------------------------------------------------------


def _lines(data: str | bytes) -> list[tuple[str | None, str]]:
    """The file's lines, each as text (None for one that is not UTF-8) and as shown in
    the report; a last empty line is dropped."""
    if isinstance(data, bytes):
        raw = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
        if raw and raw[-1] in (b"", b"\r"):
            raw.pop()
        decoded: list[tuple[str | None, str]] = []
        for line in raw:
            line = line.removesuffix(b"\r")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                decoded.append((None, line[: _SHOWN_CHARS * 4].decode("utf-8", "replace")))
            else:
                decoded.append((text, text))
        return decoded
    lines = data.removeprefix("\ufeff").split("\n")
    if lines and lines[-1] in ("", "\r"):
        lines.pop()
    return [(line.removesuffix("\r"),) * 2 for line in lines]


def _delimiter(lines: list[tuple[str | None, str]]) -> str:
    if any(line is not None and "," in line for line, _ in lines):
        return ","
    for sep in (";", "\t"):
        if any(line is not None and sep in line for line, _ in lines):
            return sep
    return ","


def _shown(line: str) -> str:
    text = scrub(line)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _is_header(fields: list[str]) -> bool:
    folded = [f.strip().casefold() for f in fields if f.strip()]
    return folded in (["name"], ["name", "username"])


def parse(data: str | bytes, *, max_lines: int) -> tuple[list[Entry], list[Rejected]]:
    """Read a roster file; every line ends up in exactly one of the two lists (a
    header line in neither).  :class:`TooManyLines` past ``max_lines`` lines."""
    lines = _lines(data)
    if len(lines) > max_lines:
        raise TooManyLines(len(lines), max_lines)
    delimiter = _delimiter(lines)
    entries: list[Entry] = []
    rejected: list[Rejected] = []
    names: dict[str, int] = {}
    usernames: dict[str, int] = {}
    for number, (line, seen) in enumerate(lines, start=1):

        def reject(reason: Reason, message: str) -> None:
            rejected.append(Rejected(number, _shown(seen), reason, message))  # noqa: B023

        if line is None:
            reject(Reason.NOT_UTF8, "the line is not UTF-8 text (save the file as UTF-8 CSV)")
            continue
        if len(line) > MAX_LINE_CHARS:
            reject(Reason.LINE_TOO_LONG, f"the line is longer than {MAX_LINE_CHARS} characters")
            continue
        if problem := text_problem(line):
            reject(Reason.BAD_CHARACTERS, f"the line {problem}")
            continue
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            reject(Reason.BAD_QUOTING, f"the quotes do not pair up ({exc})")
            continue
        while fields and not fields[-1].strip():
            fields.pop()  # "Maria Lopez,," from a spreadsheet
        if not fields:
            reject(Reason.EMPTY, "the line is empty")
            continue
        if number == 1 and _is_header(fields):
            continue
        if len(fields) > 2:
            reject(
                Reason.TOO_MANY_COLUMNS,
                f"the line has {len(fields)} columns; a roster has a name and, "
                "optionally, a username",
            )
            continue
        name = clean_name(fields[0])
        username = fields[1].strip() if len(fields) == 2 else ""
        if not name:
            reject(Reason.MISSING_NAME, "the line has a username but no name")
            continue
        if found := name_problem(name):
            reject(*found)
            continue
        if username:
            if problem := handle_problem(username):
                reject(Reason.BAD_USERNAME, f"the username {problem}")
                continue
            if (first := usernames.get(username.lower())) is not None:
                reject(
                    Reason.DUPLICATE_USERNAME,
                    f"the username {username!r} is also on line {first}",
                )
                continue
            usernames[username.lower()] = number
        elif (first := names.get(name.casefold())) is not None:
            reject(
                Reason.DUPLICATE_NAME,
                f"{name!r} is also on line {first}; give each a username to add both",
            )
            continue
        names.setdefault(name.casefold(), number)
        entries.append(Entry(number, name, username or None))
    return entries, rejected


def plan(
    entries: list[Entry],
    *,
    in_class: set[str],
    taken: set[str],
    room: int,
) -> Plan:
    """Which entries become students, with which usernames.

    ``in_class``: the class's students' names (case-folded); a line without a username
    whose name is among them is a :attr:`Reason.DUPLICATE_NAME` (importing a file twice
    adds nobody twice).  ``taken``: lower-case handles that exist (at least those that
    the lines' usernames and :func:`username_base` could collide with).  ``room``: how
    many students the class may still take; later lines beyond it are
    :attr:`Reason.CLASS_FULL`.
    """
    accepted: list[NewStudent] = []
    rejected: list[Rejected] = []
    taken = set(taken)
    for entry in entries:
        shown = entry.name if entry.username is None else f"{entry.name},{entry.username}"

        def reject(reason: Reason, message: str) -> None:
            rejected.append(Rejected(entry.line, _shown(shown), reason, message))  # noqa: B023

        if entry.username is None and entry.name.casefold() in in_class:
            reject(
                Reason.DUPLICATE_NAME,
                f"{entry.name!r} is in the class already; give a username to add another",
            )
            continue
        if entry.username is not None and entry.username.lower() in taken:
            reject(Reason.USERNAME_TAKEN, f"the username {entry.username!r} is taken")
            continue
        if len(accepted) >= room:
            reject(Reason.CLASS_FULL, "the class is full")
            continue
        username = entry.username or choose_username(entry.name, taken)
        taken.add(username.lower())
        accepted.append(NewStudent(entry.line, entry.name, username, entry.username is None))
    return Plan(accepted, rejected)

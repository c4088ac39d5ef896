"""Handles and display names: reserved and blocked words, also written with look-alike
letters or as one word of a longer name, and stacked accents."""

from __future__ import annotations

import itertools

import pytest

from server.accounts.names import (
    _read_list,
    display_name_problem,
    handle_problem,
    normalize_display_name,
    skeleton,
)

RESERVED = "is reserved"
BLOCKED = "contains a word that is not allowed"
STACKED = "must not stack more than 2 marks on one letter"

DISPLAY_NAMES: list[tuple[str, str | None]] = [
    # plain reserved names, as before
    ("Admin", RESERVED),
    ("ＡＤＭＩＮ", RESERVED),  # fullwidth
    ("Adm1n", RESERVED),
    ("Quill Arena", RESERVED),
    # look-alike letters (Cyrillic, Greek, mixed, small capitals)
    ("Аdmin", RESERVED),  # Cyrillic А
    ("АDМIN", RESERVED),  # Cyrillic А and М
    ("Аdмin", RESERVED),  # Cyrillic small м
    ("Μoderator", RESERVED),  # Greek Μ
    ("ΜΟDΕRΑΤΟR", RESERVED),  # Greek capitals
    ("ѕуѕtеm", RESERVED),  # Cyrillic ѕ у е
    ("ΑDΜΙΝ", RESERVED),  # Greek Ι, which a skeleton maps to l
    ("AdmlN", RESERVED),  # lower-case L for a capital I
    ("𝐀𝐝𝐦𝐢𝐧", RESERVED),  # mathematical bold
    # one word of a longer name
    ("Admin Team", RESERVED),
    ("The Moderator", RESERVED),
    ("Тhe Моderаtor", RESERVED),  # and look-alikes at once
    ("Official-Account", RESERVED),
    ("Staff_Room", RESERVED),
    ("Admiiin Team", RESERVED),  # stretched
    # blocked words, also disguised
    ("Sexy Otter", BLOCKED),
    ("ѕеху Otter", BLOCKED),  # Cyrillic ѕ е х у
    ("Nazi Cat", BLOCKED),
    ("Νazi Cat", BLOCKED),  # Greek Ν
    # stacked combining marks
    ("Ze\u0301\u0301\u0301bra", STACKED),
    ("Za\u0300\u0301\u0302\u0303", STACKED),
    # fine: names in other scripts, accents, innocent words that contain reserved ones
    ("Zoë", None),
    ("José Ramírez", None),
    ("Nguyễn Văn An", None),  # Vietnamese: two marks on one letter
    ("Ze\u0301\u0302bra", None),  # two stacked marks are still fine
    ("Мария", None),
    ("Σοφία", None),
    ("Αλέξανδρος", None),
    ("Badminton Star", None),
    ("Modern Poet", None),
    ("Moody Blue", None),
    ("Systematic Sam", None),
    ("Staffordshire Terrier", None),
    ("Robot Writer", None),
    ("Quilla", None),
    ("Li Wei", None),
    ("Lily", None),
]


@pytest.mark.parametrize(("name", "expected"), DISPLAY_NAMES)
def test_display_names(name: str, expected: str | None) -> None:
    problem = display_name_problem(normalize_display_name(name))
    assert problem == expected or (expected is not None and problem and expected in problem)


HANDLES: list[tuple[str, str | None]] = [
    ("admin", RESERVED),
    ("admin_team", RESERVED),
    ("the.moderator", RESERVED),
    ("support-desk", RESERVED),
    ("quill", RESERVED),
    ("adm1n", RESERVED),
    ("badminton", None),
    ("moderna", None),
    ("alice", None),
    ("li.wei", None),
]


@pytest.mark.parametrize(("handle", "expected"), HANDLES)
def test_handles(handle: str, expected: str | None) -> None:
    assert handle_problem(handle) == expected


@pytest.mark.parametrize(
    ("name", "skel"),
    [
        ("Аdmin", "admin"),
        ("ΜΟDΕRΑΤΟR", "moderator"),
        ("Аdмin", "admin"),
        ("admin", "admin"),
        ("Zoë", "zoe"),
        ("ＡＤＭＩＮ", "admin"),
    ],
)
def test_skeleton(name: str, skel: str) -> None:
    assert skeleton(name) == skel.replace("l", "i")


def test_every_generated_guest_name_is_allowed() -> None:
    for adjective, animal in itertools.product(
        _read_list("adjectives.txt"), _read_list("animals.txt")
    ):
        name = f"{adjective} {animal} 42"
        assert display_name_problem(name) is None, name

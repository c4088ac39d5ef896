"""The access rules of server/access/watch.py, as one table each."""

from __future__ import annotations

import pytest

from server.access.watch import (
    Access,
    LobbyFacts,
    MatchFacts,
    Names,
    SeatFacts,
    Viewer,
    Why,
    cutoff,
    decide,
    seat_label,
    shows_text,
)

DELAY = 30.0
TEACHER, OTHER_TEACHER, ADMIN = "t-1", "t-2", "a-1"
PLAYER, STUDENT, STRANGER = "p-1", "s-1", "x-1"

LOBBY = LobbyFacts(TEACHER, class_may_watch=True)
CLOSED_LOBBY = LobbyFacts(TEACHER, class_may_watch=False)


def facts(*, ranked: bool, finished: bool, lobby: LobbyFacts | None = None) -> MatchFacts:
    return MatchFacts(ranked=ranked, finished=finished, players=frozenset({PLAYER}), lobby=lobby)


def viewer(user: str, role: str = "player", in_class: bool = False) -> Viewer:
    return Viewer(user, role, in_class)


CASES = [
    # (who, match, expected (why, names, delay) or None)
    ("stranger, public ranked", viewer(STRANGER), facts(ranked=True, finished=True), (Why.PUBLIC, Names.ALIASES, DELAY)),
    ("stranger, running ranked", viewer(STRANGER), facts(ranked=True, finished=False), (Why.PUBLIC, Names.ALIASES, DELAY)),
    ("stranger, practice", viewer(STRANGER), facts(ranked=False, finished=True), None),
    ("a teacher, someone's practice", viewer(OTHER_TEACHER, "teacher"), facts(ranked=False, finished=True), None),
    ("player, own practice, finished", viewer(PLAYER), facts(ranked=False, finished=True), (Why.PLAYER, Names.SHOWN, 0.0)),
    ("player, own practice, running", viewer(PLAYER), facts(ranked=False, finished=False), None),
    ("player, own ranked, running", viewer(PLAYER), facts(ranked=True, finished=False), None),
    ("player, own ranked, finished", viewer(PLAYER), facts(ranked=True, finished=True), (Why.PLAYER, Names.SHOWN, 0.0)),
    ("admin, practice running", viewer(ADMIN, "admin"), facts(ranked=False, finished=False), (Why.ADMIN, Names.REAL, 0.0)),
    ("teacher, own lobby running", viewer(TEACHER, "teacher"), facts(ranked=False, finished=False, lobby=CLOSED_LOBBY), (Why.TEACHER, Names.REAL, 0.0)),
    ("teacher, own ranked lobby running", viewer(TEACHER, "teacher"), facts(ranked=True, finished=False, lobby=LOBBY), (Why.TEACHER, Names.REAL, 0.0)),
    ("other teacher, lobby", viewer(OTHER_TEACHER, "teacher"), facts(ranked=False, finished=True, lobby=LOBBY), None),
    ("class, lobby allows", viewer(STUDENT, in_class=True), facts(ranked=False, finished=True, lobby=LOBBY), (Why.CLASS, Names.SHOWN, DELAY)),
    ("class, running, lobby allows", viewer(STUDENT, in_class=True), facts(ranked=False, finished=False, lobby=LOBBY), (Why.CLASS, Names.SHOWN, DELAY)),
    ("class, lobby does not allow", viewer(STUDENT, in_class=True), facts(ranked=False, finished=True, lobby=CLOSED_LOBBY), None),
    ("another class", viewer(STUDENT, in_class=False), facts(ranked=False, finished=True, lobby=LOBBY), None),
    ("stranger, ranked lobby match", viewer(STRANGER), facts(ranked=True, finished=True, lobby=LOBBY), None),
    ("player of a lobby match, finished", viewer(PLAYER), facts(ranked=False, finished=True, lobby=CLOSED_LOBBY), (Why.PLAYER, Names.SHOWN, 0.0)),
]  # fmt: skip


@pytest.mark.parametrize(("who", "v", "match", "expected"), CASES, ids=[c[0] for c in CASES])
def test_who_may_watch(
    who: str, v: Viewer, match: MatchFacts, expected: tuple[Why, Names, float] | None
) -> None:
    access = decide(v, match, DELAY)
    if expected is None:
        assert access is None
    else:
        assert access is not None
        assert (access.why, access.names, access.delay) == expected


ADMIN_ACCESS = Access(Why.ADMIN, Names.REAL, 0.0, True)
TEACHER_ACCESS = Access(Why.TEACHER, Names.REAL, 0.0, True)
CLASS_ACCESS = Access(Why.CLASS, Names.SHOWN, DELAY, False)
PUBLIC_ACCESS = Access(Why.PUBLIC, Names.ALIASES, DELAY, False)
PLAYER_ACCESS = Access(Why.PLAYER, Names.SHOWN, 0.0, False)


def seat(shown: str = "Brave Otter", *, deleted: bool = False, bot: bool = False) -> SeatFacts:
    return SeatFacts(PLAYER, "Brave Otter", shown, "Maria Lopez", deleted=deleted, bot=bot)


LABELS = [
    # anonymous lobby (the match showed the alias): only teachers and admins see the name
    (TEACHER_ACCESS, seat(), ("Brave Otter", "Maria Lopez")),
    (ADMIN_ACCESS, seat(), ("Brave Otter", "Maria Lopez")),
    (CLASS_ACCESS, seat(), ("Brave Otter", None)),
    (PLAYER_ACCESS, seat(), ("Brave Otter", None)),
    (PUBLIC_ACCESS, seat(), ("Brave Otter", None)),
    # a lobby that showed names: the class sees what the match showed
    (CLASS_ACCESS, seat("Maria L"), ("Brave Otter", "Maria L")),
    (PLAYER_ACCESS, seat("Maria L"), ("Brave Otter", "Maria L")),
    (PUBLIC_ACCESS, seat("Maria L"), ("Brave Otter", None)),
    # a deleted account: the alias only, to everyone
    (ADMIN_ACCESS, seat(deleted=True), ("Brave Otter", None)),
    (TEACHER_ACCESS, seat("Maria L", deleted=True), ("Brave Otter", None)),
    (CLASS_ACCESS, seat("Maria L", deleted=True), ("Brave Otter", None)),
    (ADMIN_ACCESS, seat(bot=True), ("Brave Otter", None)),
]


@pytest.mark.parametrize(("access", "s", "expected"), LABELS)
def test_seat_names(access: Access, s: SeatFacts, expected: tuple[str, str | None]) -> None:
    assert seat_label(access, s) == expected


@pytest.mark.parametrize(
    ("access", "finished", "expected"),
    [
        (PUBLIC_ACCESS, False, 1000.0 - DELAY),
        (CLASS_ACCESS, False, 1000.0 - DELAY),
        (TEACHER_ACCESS, False, 1000.0),
        (ADMIN_ACCESS, False, 1000.0),
        (PUBLIC_ACCESS, True, None),
    ],
)
def test_cutoff(access: Access, finished: bool, expected: float | None) -> None:
    assert cutoff(access, 1000.0, finished) == expected


@pytest.mark.parametrize(
    ("access", "who", "s", "withheld", "expected"),
    [
        (PUBLIC_ACCESS, STRANGER, seat(), False, True),
        (PUBLIC_ACCESS, STRANGER, seat(), True, False),
        (CLASS_ACCESS, STUDENT, seat(), True, False),
        (PLAYER_ACCESS, PLAYER, seat(), True, True),  # the writer sees their own piece
        (TEACHER_ACCESS, TEACHER, seat(), True, True),
        (ADMIN_ACCESS, ADMIN, seat(), True, True),
        (ADMIN_ACCESS, ADMIN, seat(deleted=True), False, False),
    ],
)
def test_which_texts_are_shown(
    access: Access, who: str, s: SeatFacts, withheld: bool, expected: bool
) -> None:
    assert shows_text(access, s, viewer(who), withheld) is expected

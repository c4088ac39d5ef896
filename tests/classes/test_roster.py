"""Roster files, names and usernames (pure): one table per rule, and hypothesis for
files of any text or bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.accounts.names import display_name_problem, handle_problem
from server.classes import roster
from server.classes.roster import Reason
from server.text import text_problem

R = Reason

LINES: list[tuple[str, Reason | None]] = [
    ("Maria Lopez", None),
    ("  Maria   Lopez  ", None),
    ("Zoë Ng", None),
    ("Nguyễn Văn An", None),
    ("王小明", None),
    ("O'Brien-Smith", None),
    ("Maria Lopez,mlopez", None),
    ('"Maria Lopez",mlopez', None),
    ("Maria Lopez,,", None),
    ("", R.EMPTY),
    ("   ", R.EMPTY),
    (",,", R.EMPTY),
    (",mlopez", R.MISSING_NAME),
    ("x" * 201, R.LINE_TOO_LONG),
    ("A" * 33, R.NAME_TOO_LONG),
    ("Bob <script>", R.BAD_CHARACTERS),
    ("Bob\x00", R.BAD_CHARACTERS),
    ("Bob\x1b[31m", R.BAD_CHARACTERS),
    ("Bob \ufffe", R.BAD_CHARACTERS),
    ("😀 Smiley", R.BAD_CHARACTERS),
    ('"Lopez, Maria",mlopez', R.BAD_CHARACTERS),
    ("X", R.BAD_NAME),
    ("1234", R.BAD_NAME),
    ("Admin", R.BAD_NAME),
    ("The Moderator", R.BAD_NAME),
    ("Maria Lopez,ml", R.BAD_USERNAME),
    ("Maria Lopez,has space", R.BAD_USERNAME),
    ("Maria Lopez,admin", R.BAD_USERNAME),
    ("Maria Lopez,mlopez,extra", R.TOO_MANY_COLUMNS),
    ('"Maria Lopez', R.BAD_QUOTING),
]


@pytest.mark.parametrize(("line", "reason"), LINES)
def test_one_line(line: str, reason: Reason | None) -> None:
    entries, rejected = roster.parse(line + "\n", max_lines=10)
    if reason is None:
        assert [r.reason for r in rejected] == [] and len(entries) == 1
        assert entries[0].line == 1 and display_name_problem(entries[0].name) is None
    else:
        assert entries == [] and [r.reason for r in rejected] == [reason]
        assert rejected[0].line == 1 and rejected[0].message
        assert text_problem(rejected[0].text) is None  # the report is storable text


def test_a_file_with_every_kind_of_line() -> None:
    data = (
        b"\xef\xbb\xbfName,Username\r\n"  # BOM and a header
        b"Maria Lopez\r\n"
        b"\r\n"
        b"Ali Hassan,ali.h\r\n"
        b"Ma\xffria\r\n"  # not UTF-8
        b"Maria Lopez\r\n"  # the same name again, no username
        b"Maria Lopez,maria.two\r\n"  # the same name with a username: fine
        b"Sam Li,ALI.H\r\n"  # the same username (any case)
    )
    entries, rejected = roster.parse(data, max_lines=50)
    assert [(e.line, e.name, e.username) for e in entries] == [
        (2, "Maria Lopez", None),
        (4, "Ali Hassan", "ali.h"),
        (7, "Maria Lopez", "maria.two"),
    ]
    assert [(r.line, r.reason) for r in rejected] == [
        (3, R.EMPTY),
        (5, R.NOT_UTF8),
        (6, R.DUPLICATE_NAME),
        (8, R.DUPLICATE_USERNAME),
    ]
    assert rejected[1].text == "Ma\ufffdria"


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ("Ann Lee;ann.l\nBo Chan\n", [("Ann Lee", "ann.l"), ("Bo Chan", None)]),
        ("Ann Lee\tann.l\n", [("Ann Lee", "ann.l")]),
        ("Ann Lee,ann.l\nBo;Chan\n", [("Ann Lee", "ann.l")]),  # comma wins: "Bo;Chan" bad
        ("name\nAnn Lee", [("Ann Lee", None)]),  # no newline at the end
        ("Ann Lee\nname\n", [("Ann Lee", None), ("name", None)]),  # a header only first
    ],
)
def test_separators_and_headers(data: str, names: list[tuple[str, str | None]]) -> None:
    entries, _ = roster.parse(data, max_lines=10)
    assert [(e.name, e.username) for e in entries[: len(names)]] == names


def test_too_many_lines() -> None:
    with pytest.raises(roster.TooManyLines) as info:
        roster.parse("Ann Lee\n" * 11, max_lines=10)
    assert info.value.lines == 11 and info.value.limit == 10
    assert len(roster.parse("Ann Lee\n" * 10, max_lines=10)[1]) == 9  # duplicates


USERNAMES = [
    ("Maria Lopez", "maria.l"),
    ("María José López", "maria.l"),
    ("Zoë Ng", "zoe.n"),
    ("Łukasz Żółć", "lukasz.z"),
    ("Ævar Þór", "aevar.t"),
    ("Jo", "jo"),
    ("O'Brien", "obrien"),
    ("Mary-Jane Watson", "maryjane.w"),
    ("Anne-Marie", "annemarie"),
    ("王小明", "student"),
    ("Αλέξης Παππάς", "student"),  # Greek: no Latin letters to start from
    ("Bartholomew-Maximilian Smith", "bartholomewmaximi.s"),  # 19 characters at most
]


@pytest.mark.parametrize(("name", "base"), USERNAMES)
def test_username_base(name: str, base: str) -> None:
    got = roster.username_base(name)
    assert got == base
    assert len(got) <= 19


CHOICES = [
    ("Maria Lopez", set(), "maria.l"),
    ("Maria Lopez", {"maria.l"}, "maria.l2"),
    ("Maria Lopez", {"maria.l", "maria.l2", "maria.l3"}, "maria.l4"),
    ("Jo", set(), "jo2"),  # "jo" is too short for a handle
    ("王小明", {"student"}, "student2"),
]


@pytest.mark.parametrize(("name", "taken", "username"), CHOICES)
def test_choose_username(name: str, taken: set[str], username: str) -> None:
    assert roster.choose_username(name, taken) == username
    assert handle_problem(username) is None


def test_plan_takes_the_class_and_the_taken_handles_into_account() -> None:
    entries, _ = roster.parse(
        "Maria Lopez\nAli Hassan,ali.h\nSam Li\nKim Park\nLee Chan\nMaria Lopez,mlo\n",
        max_lines=10,
    )
    plan = roster.plan(entries, in_class={"sam li"}, taken={"maria.l", "ali.h"}, room=2)
    assert [(s.line, s.username, s.generated) for s in plan.accepted] == [
        (1, "maria.l2", True),
        (4, "kim.p", True),
    ]
    assert [(r.line, r.reason) for r in plan.rejected] == [
        (2, R.USERNAME_TAKEN),
        (3, R.DUPLICATE_NAME),
        (5, R.CLASS_FULL),
        (6, R.CLASS_FULL),
    ]


def test_generated_usernames_within_one_file_differ() -> None:
    entries, _ = roster.parse("Maria Lopez\nMaria Lima,x\n".replace(",x", ""), max_lines=10)
    plan = roster.plan(entries, in_class=set(), taken=set(), room=10)
    assert [s.username for s in plan.accepted] == ["maria.l", "maria.l2"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("7B English", None),
        ("  Period 3 — Writing  ", None),
        ("", "must not be empty"),
        ("x" * 61, "at most 60"),
        ("a\nb", "one line"),
        ("a\x00b", "U+0000"),
    ],
)
def test_class_names(raw: str, problem: str | None) -> None:
    found = roster.class_name_problem(roster.clean_class_name(raw))
    assert (found is None) if problem is None else (found is not None and problem in found)


# --- any input ------------------------------------------------------------------------

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)
lines = st.lists(
    st.one_of(
        st.sampled_from(["Maria Lopez", "Ali Hassan,ali.h", "", ",", '"', "Admin", "name"]),
        st.text(max_size=40),
        st.text(st.characters(max_codepoint=0x24F), max_size=40),
    ),
    max_size=30,
).map("\n".join)


def _check(data: str | bytes, entries: list[roster.Entry], rejected: list[roster.Rejected]) -> None:
    count = len(roster._lines(data))
    numbers = [e.line for e in entries] + [r.line for r in rejected]
    assert len(numbers) == len(set(numbers))  # a line is in one list only
    assert count - 1 <= len(numbers) <= count  # every line but a header
    assert all(1 <= n <= count for n in numbers)
    for e in entries:
        assert display_name_problem(e.name) is None and text_problem(e.name) is None
        assert e.username is None or handle_problem(e.username) is None
    for r in rejected:
        assert text_problem(r.text) is None and len(r.text) <= 80 and r.message
    usernames = [e.username.lower() for e in entries if e.username]
    assert len(usernames) == len(set(usernames))
    plan = roster.plan(entries, in_class=set(), taken=set(), room=len(entries))
    made = [s.username.lower() for s in plan.accepted]
    assert len(made) == len(set(made)) and all(handle_problem(u) is None for u in made)


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_text, lines))
def test_any_text_is_read_without_error(data: str) -> None:
    entries, rejected = roster.parse(data, max_lines=1000)
    _check(data, entries, rejected)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), lines.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_any_bytes_are_read_without_error(data: bytes) -> None:
    entries, rejected = roster.parse(data, max_lines=1000)
    _check(data, entries, rejected)

"""Sign-in and class codes: the alphabet, generation and what a child may type."""

from __future__ import annotations

import random

import pytest

from server.classes import codes


def test_the_alphabet_has_no_look_alikes() -> None:
    assert len(codes.ALPHABET) == 31 and len(set(codes.ALPHABET)) == 31
    assert not set(codes.ALPHABET) & set("0O1IL")
    assert set(codes.ALPHABET) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_new_codes_are_from_the_alphabet_and_differ() -> None:
    drawn = {codes.new_code() for _ in range(500)}
    assert len(drawn) == 500
    assert all(len(c) == 8 and set(c) <= set(codes.ALPHABET) for c in drawn)
    assert len(codes.new_class_code()) == codes.CLASS_LENGTH


def test_new_code_uses_the_choice_it_is_given() -> None:
    rng = random.Random(7)
    assert codes.new_code(8, rng.choice) == codes.new_code(8, random.Random(7).choice)


@pytest.mark.parametrize(
    ("code", "shown"),
    [("K7MQXP4R", "K7MQ-XP4R"), ("K7MQXP", "K7M-QXP"), ("ABC", "ABC")],
)
def test_show(code: str, shown: str) -> None:
    assert codes.show(code) == shown
    assert codes.parse(shown, len(code)) == code


TYPED = [
    ("K7MQ-XP4R", "K7MQXP4R", None),
    ("k7mq xp4r", "K7MQXP4R", None),
    (" k7mq-xp4r ", "K7MQXP4R", None),
    ("K7MQXP4", None, "must be 8"),
    ("K7MQXP4RR", None, "must be 8"),
    ("", None, "must be 8"),
    ("K7MQ-XP4O", None, "never contain O"),
    ("K7MQ-XP40", None, "never contain 0"),
    ("K1MQ-XPLR", None, "never contain 1, L"),
    ("kimq-xp4r", None, "never contain I"),
    ("K7MQ_XP4R", None, "letters and digits from"),
    ("K7MQ-XP4É", None, "letters and digits from"),
    ("K7MQ\x00XP4R", None, "letters and digits from"),
]


@pytest.mark.parametrize(("typed", "canonical", "problem"), TYPED)
def test_what_may_be_typed(typed: str, canonical: str | None, problem: str | None) -> None:
    assert codes.parse(typed) == canonical
    found = codes.code_problem(typed)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found

"""The tutor's own rules as tables: the cache form of a question, requests to write the
piece, and answers that are a ready-made piece (the knowledge base's answers are not)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.ai.content import load_tutor_entries
from server.ai.offline.tutor import answer_sync
from server.ai.types import TutorRequest
from server.tutor import guard
from server.tutor.service import cache_key, resets_at
from tests.tutor.helpers import PIECE
from tests.tutor.test_claude_tutor import STORY
from tests.tutor.test_tutor_api import ATTEMPTS


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I start?", "  how do i START "),
        ("What is voice?", "what is voice"),
        ("Ｗｈａｔ ｉｓ ｖｏｉｃｅ？", "what is voice"),  # full-width letters (NFKC)
        ("Straße?", "STRASSE"),  # case folding
        ("tab\tand\nnewline", "tab and newline"),
    ],
)
def test_the_same_question_normalised(a: str, b: str) -> None:
    assert guard.normalise(a) == guard.normalise(b)
    assert cache_key("u", "focus:-", guard.normalise(a)) == cache_key(
        "u", "focus:-", guard.normalise(b)
    )
    assert guard.screen(a).normalised == guard.normalise(a)


def test_the_cache_key_holds_the_student_and_the_piece() -> None:
    keys = {
        cache_key("u1", "focus:-", "What is voice?"),
        cache_key("u2", "focus:-", "What is voice?"),
        cache_key("u1", "match:m1", "What is voice?"),
        cache_key("u1", "focus:voice", "What is voice?"),
    }
    assert len(keys) == 4


@pytest.mark.parametrize("question", ["???", "...", "   "])
def test_a_question_of_punctuation_only_keeps_its_form(question: str) -> None:
    assert guard.normalise(question) == question.strip()


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_requests_to_write_the_piece(attempt: str) -> None:
    assert guard.asks_for_writing(attempt)


@pytest.mark.parametrize(
    "question",
    [
        "How do I finish my story?",
        "How should I end my essay about the lighthouse?",
        "can you help me finish my story?",
        "How do I start a new paragraph?",
        "What is voice?",
        "Why did my conventions score go down?",
        "how do I continue my draft when I'm stuck?",
        "What should I write about the lighthouse?",
        "Is 'there' or 'their' right in my second sentence?",
        "How can I make my ending stronger?",
    ],
)
def test_questions_about_writing_are_not_refused(question: str) -> None:
    assert not guard.asks_for_writing(question)


@pytest.mark.parametrize(
    ("question", "writing", "self_harm", "blocked"),
    [
        ("write my story about the lighthouse", True, False, False),
        ("How do I punctuate dialogue?", False, False, False),
        ("I want to die, nothing I write is any good", False, True, False),
    ],
)
def test_screen(question: str, writing: bool, self_harm: bool, blocked: bool) -> None:
    seen = guard.screen(question)
    assert (seen.asks_for_writing, seen.self_harm, seen.blocked) == (writing, self_harm, blocked)


def test_the_knowledge_base_is_advice_not_prose() -> None:
    for entry in load_tutor_entries(None):
        assert not guard.is_ready_made_prose(entry.text), entry.id


@pytest.mark.parametrize(
    "question",
    [
        "How do I punctuate dialogue?",
        "How do I start a new paragraph?",
        "What is voice?",
        "How can I add more details?",
        "How do I use commas?",
        "What is a good ending?",
    ],
)
def test_the_offline_answers_with_a_quoted_sentence_are_advice(question: str) -> None:
    said = answer_sync(TutorRequest(question, recent_writing=(PIECE,)))
    assert not guard.is_ready_made_prose(said.answer)


@pytest.mark.parametrize(
    ("answer", "prose"),
    [
        (STORY, True),
        (PIECE, True),
        ("Once upon a time there was a keeper. " * 3 + "He was old. The sea was loud.", True),
        ("Start a new paragraph when the time, place or speaker changes.", False),
        ("Try this: 'The beam swept the empty sea.' Then cut any sentence that repeats.", False),
        ("You could add a sound. What does the storm sound like to your keeper?", False),
        ("", False),
    ],
)
def test_ready_made_prose(answer: str, prose: bool) -> None:
    assert guard.is_ready_made_prose(answer) is prose


@given(st.text(max_size=3000))
def test_the_guards_take_any_text(text: str) -> None:
    guard.normalise(text)
    guard.asks_for_writing(text)
    guard.is_ready_made_prose(text)


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        (0.0, "1970-01-02T00:00:00+00:00"),
        (86399.9, "1970-01-02T00:00:00+00:00"),
        (86400.0, "1970-01-03T00:00:00+00:00"),
    ],
)
def test_the_daily_limit_resets_at_midnight_utc(now: float, midnight: str) -> None:
    assert resets_at(now).isoformat() == midnight

"""Scoring against a teacher's own prompt (a title, a sentence, maybe alt text; no tags) and
the rule that appending the prompt's own words never raises a score."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.ai.content import (
    CONTENT_DIR,
    ContentError,
    TeacherPiece,
    load_eval_pieces,
    load_prompts,
    load_related_words,
    load_teacher_set,
)
from server.ai.eval import thin
from server.ai.offline import perturb
from server.ai.offline.features import analyse, prompt_vocabulary, related_words
from server.ai.offline.scorer import score_piece_detailed, score_piece_sync
from server.ai.offline.text import stem
from server.ai.types import PieceRequest, Prompt, Trait

TEACHER = load_teacher_set()
PROMPTS = load_prompts()
PIECES = load_eval_pieces()
LIGHTHOUSE = Prompt(
    id="t", title="Storm story", text="Write a story about a lighthouse on a stormy night."
)

# A lighthouse story that never says "lighthouse": all keeper, lamp, storm and rocks.
NO_KEYWORD = (
    "Old Amos had kept the lamp burning on Crow Rock for thirty years, and he knew every mood "
    "of the sea.\n\nThat night the wind came howling out of the west. Rain lashed the glass at "
    "the top of the tower, and waves as tall as houses broke over the rocks below. Amos climbed "
    "the spiral stairs with his lantern, his knees aching on every step.\n\nAt the top, the "
    "great lens turned slowly, and the beam swept out across the black water. Then he saw it: a "
    "fishing boat, its single light bobbing far too close to the reef. Thunder shook the walls. "
    "Amos pulled the foghorn lever again and again over the roar of the storm.\n\nFor a terrible "
    "minute the little light kept coming. Then it swung away, out toward open water. Amos sat "
    "down on the cold iron floor and let out a breath he had been holding for a long time."
)


def req(text: str, prompt: Prompt = LIGHTHOUSE) -> PieceRequest:
    return PieceRequest(prompt=prompt, text=text, focus=prompt.focus)


def ideas(text: str, prompt: Prompt = LIGHTHOUSE) -> int:
    return score_piece_sync(req(text, prompt)).traits[Trait.IDEAS]


# --- the prompt type and the content ---------------------------------------------------------


def test_prompt_alt_text_is_optional() -> None:
    assert Prompt(id="p", title="T", text="A test.").alt_text == ""
    assert all(p.alt_text == "" for p in PROMPTS.values())


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("lighthouse", "keeper"),
        ("stormy", "thunder"),  # an adjective in -y finds its noun's list
        ("planet", "astronaut"),
        ("greenhouses", "vines"),  # by stem
    ],
)
def test_related_words(word: str, expected: str) -> None:
    assert expected in related_words(word)


def test_related_words_are_plain_lower_case() -> None:
    table = load_related_words()
    assert len(table) >= 80
    assert all(w.isalpha() and w.islower() for words in table.values() for w in words)


def test_teacher_set_has_no_tags_and_every_kind() -> None:
    assert all(not p.tags and not p.image_description for p in TEACHER.prompts.values())
    assert any(p.alt_text for p in TEACHER.prompts.values())
    kinds = {p.expect for p in TEACHER.pieces}
    assert kinds == {"on_topic", "off_topic", "stuffed"}


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('tags = ["sea"]\n', "no tags"),
        ('expect = "maybe"\n', "expect must be"),
    ],
)
def test_malformed_teacher_set_names_the_file(tmp_path: Path, extra: str, match: str) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    prompt = 'id = "x"\ntitle = "X"\ntext = "About the sea."\n'
    piece = 'id = "y"\nprompt = "x"\nquality = 3\ntext = "The sea."\n'
    if extra.startswith("tags"):
        prompt += extra
        piece += 'expect = "on_topic"\n'
    else:
        piece += extra
    (root / "eval" / "teacher.toml").write_text(f"[[prompt]]\n{prompt}\n[[piece]]\n{piece}")
    with pytest.raises(ContentError, match=match):
        load_teacher_set(root)


def test_malformed_related_table_names_the_file(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    (root / "topics" / "related.toml").write_text('[related]\nsea = "Waves 42"\n')
    with pytest.raises(ContentError, match=r"related\.toml"):
        load_related_words(root)


# --- relevance from the prompt's sentence -----------------------------------------------------


def test_the_lighthouse_story_without_the_word_is_on_topic() -> None:
    assert "lighthouse" not in NO_KEYWORD.lower()
    score = score_piece_sync(req(NO_KEYWORD))
    assert score.traits[Trait.IDEAS] >= 3
    assert "off_topic" not in score.flags
    # close to what the pack prompt, with its tags and picture, gives
    assert score.traits[Trait.IDEAS] >= ideas(NO_KEYWORD, PROMPTS["lighthouse-storm"]) - 1


def test_alt_text_alone_sets_the_topic() -> None:
    vague = Prompt(id="v", title="Picture prompt", text="Look at the picture. What happens next?")
    with_alt = Prompt(
        id="a",
        title="Picture prompt",
        text="Look at the picture. What happens next?",
        alt_text="A lighthouse on black rocks in a storm, with huge waves.",
    )
    assert "lighthous" in prompt_vocabulary(with_alt).anchors
    assert ideas(NO_KEYWORD, with_alt) >= 3
    assert not prompt_vocabulary(vague).topical  # only instructions: nothing to be off


@pytest.mark.parametrize(
    "prompt",
    [
        Prompt(id="w", title="", text="Write a story."),
        Prompt(id="w", title="Free writing", text="Write about anything you like."),
    ],
)
def test_a_prompt_without_a_topic_flags_nothing_off_topic(prompt: Prompt) -> None:
    score = score_piece_sync(req(PIECES[3].text, prompt))
    assert "off_topic" not in score.flags


@pytest.mark.parametrize("piece", TEACHER.pieces, ids=lambda p: p.id)
def test_teacher_set(piece: TeacherPiece) -> None:
    got = ideas(piece.text, TEACHER.prompts[piece.prompt_id])
    if piece.expect == "on_topic":
        assert got >= 3
    else:
        assert got <= 2


@pytest.mark.parametrize("piece_id", ["lh-4", "gh-5", "rb-4", "sc-4", "dd-4", "nm-4"])
def test_pack_pieces_stay_on_topic_against_the_prompt_sentence_alone(piece_id: str) -> None:
    piece = next(p for p in PIECES if p.id == piece_id)
    assert ideas(piece.text, thin(PROMPTS[piece.prompt_id])) >= 3


def test_keyword_sprinkled_over_another_topic_is_not_rewarded() -> None:
    stuffed = next(p for p in TEACHER.pieces if p.id == "t-lh-stuffed")
    assert ideas(stuffed.text) <= 2 < ideas(NO_KEYWORD)


# --- appending the prompt's words never pays ---------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "echo"),
    [
        ("Lighthouse.", True),
        ("The storm and the night.", True),
        ("Keeper. ", True),  # a related word of the prompt's
        ("The storm came at night.", False),  # "came": not an echo
        ("It was stormy.", False),  # a pronoun and a verb: a sentence, not a keyword
    ],
)
def test_short_sentences_of_prompt_words_are_set_aside(sentence: str, echo: bool) -> None:
    a = analyse(req(f"{NO_KEYWORD}\n\n{sentence}"))
    last = len(a.doc.sentences) - 1
    assert (last in a.padded) is echo


def test_prompt_words_after_an_unfinished_last_sentence_are_set_aside() -> None:
    text = NO_KEYWORD.removesuffix(".")
    a = analyse(req(f"{text} lighthouse stormy"))
    assert a.doc.sentences[-1].text.endswith("long time")
    assert a.features.padding_share > 0


_CASES = [(piece, PROMPTS[piece.prompt_id]) for piece in PIECES] + [
    (piece, TEACHER.prompts[piece.prompt_id]) for piece in TEACHER.pieces
]


@settings(max_examples=150, deadline=None, database=None)
@given(st.data())
def test_appending_a_prompt_word_never_raises_the_score(data: st.DataObject) -> None:
    piece, prompt = data.draw(st.sampled_from(_CASES))
    word = data.draw(st.sampled_from(perturb.prompt_words(prompt)))
    form = data.draw(st.sampled_from(perturb.APPEND_FORMS))
    text = piece.text
    if form == "sentence" and not text.rstrip().endswith((".", "!", "?", "…", '"', "”", "’")):
        form = "bare"  # a full stop would be a real fix, not a prompt word
    base = score_piece_detailed(PieceRequest(prompt=prompt, text=text, focus=prompt.focus))
    moved = score_piece_detailed(
        PieceRequest(prompt=prompt, text=perturb.append_word(text, word, form), focus=prompt.focus)
    )
    assert moved.overall <= base.overall
    assert moved.traits[Trait.IDEAS] <= base.traits[Trait.IDEAS]


@pytest.mark.parametrize("form", perturb.APPEND_FORMS)
def test_append_word_forms(form: str) -> None:
    out = perturb.append_word("The end.", "storm", form)
    assert out.startswith("The end.") and out.lower().rstrip(".").endswith("storm")
    with pytest.raises(ValueError):
        perturb.append_word("x", "y", "sideways")


def test_prompt_words_are_the_prompts_content_words() -> None:
    words = perturb.prompt_words(LIGHTHOUSE)
    assert "lighthouse" in words and "stormy" in words
    assert "a" not in words and "on" not in words
    assert {stem(w) for w in words} >= {"lighthous", "night"}

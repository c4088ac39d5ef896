"""Content loading, the evaluation's pieces (Spearman, perturbations) and a quick eval run."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from server.ai.content import (
    CONTENT_DIR,
    ContentError,
    load_eval_pieces,
    load_moderation_lists,
    load_prompts,
    load_review_pairs,
    load_rubrics,
    load_tutor_entries,
    prompt_image_path,
)
from server.ai.eval import format_report, passed, run_eval, spearman
from server.ai.offline import perturb
from server.ai.offline.text import split_document
from server.ai.types import Trait

# --- content ------------------------------------------------------------------------------


def test_prompts_have_images_and_metadata() -> None:
    prompts = load_prompts()
    assert len(prompts) >= 12
    for prompt in prompts.values():
        path = prompt_image_path(prompt)
        assert path.suffix == ".svg"
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert prompt.title and prompt.text and prompt.image_description
        assert len(prompt.tags) >= 5
    assert len({p.focus for p in prompts.values()}) >= 4


def test_rubrics_cover_every_trait_and_level() -> None:
    rubrics = load_rubrics()
    assert set(rubrics) == set(Trait)
    for rubric in rubrics.values():
        assert len(set(rubric.descriptors)) == 6
        assert rubric.descriptor(0) == rubric.descriptors[0]
        assert rubric.descriptor(9) == rubric.descriptors[5]


def test_eval_set_size_and_spread() -> None:
    pieces = load_eval_pieces()
    assert len(pieces) >= 40
    assert len({p.prompt_id for p in pieces}) >= 8
    assert {p.quality for p in pieces} == {1, 2, 3, 4, 5, 6}
    for piece in pieces:
        assert 40 <= len(piece.text.split()) <= 380
    assert len(load_review_pairs()) >= 20


def test_tutor_and_moderation_content() -> None:
    assert len(load_tutor_entries()) >= 30
    lists = load_moderation_lists()
    assert lists.profanity and lists.harassment and lists.self_harm and lists.allowlist


def test_content_root_can_be_overridden(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    (root / "prompts" / "prompts.toml").write_text(
        '[[prompt]]\nid = "x"\ntitle = "X"\ntext = "A test."\nimage = "missing.svg"\n'
        'image_description = "Nothing."\nlicence = "original, CC0"\n'
    )
    with pytest.raises(ContentError, match=r"missing\.svg"):
        load_prompts(root)


def test_malformed_content_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "ideas.toml").write_text('trait = "ideas"\nname = "Ideas"\n')
    with pytest.raises(ContentError, match=r"ideas\.toml"):
        load_rubrics(tmp_path)


# --- Spearman -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "rho"),
    [
        ([1, 2, 3, 4], [10, 20, 30, 40], 1.0),
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),
        ([1, 2, 3, 4], [1, 3, 2, 4], 0.8),
        ([1, 1, 2, 2], [1, 2, 3, 4], 0.894427),
        ([1, 2, 2, 3], [1, 2, 2, 3], 1.0),
        ([1, 2, 3], [5, 5, 5], 0.0),
        ([1], [2], 0.0),
    ],
)
def test_spearman(x: list[float], y: list[float], rho: float) -> None:
    assert spearman(x, y) == pytest.approx(rho, abs=1e-5)


def test_spearman_needs_equal_lengths() -> None:
    with pytest.raises(ValueError):
        spearman([1, 2], [1])


# --- perturbations ------------------------------------------------------------------------

TEXT = load_eval_pieces()[4].text


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: perturb.shuffle_sentences(t, 1),
        lambda t: perturb.misspell(t, 0.05, 1),
        lambda t: perturb.blandify(t, 0.4, 1),
        perturb.flatten,
        perturb.truncate,
        perturb.pad_repeat,
        lambda t: perturb.gibberish(t, 1),
    ],
)
def test_perturbations_are_deterministic_and_change_the_text(damage: object) -> None:
    first = damage(TEXT)  # type: ignore[operator]
    assert first == damage(TEXT)  # type: ignore[operator]
    assert first != TEXT


def test_shuffle_keeps_sentences_and_layout() -> None:
    shuffled = perturb.shuffle_sentences(TEXT, 5)
    before, after = split_document(TEXT), split_document(shuffled)
    assert sorted(s.text for s in before.sentences) == sorted(s.text for s in after.sentences)
    assert before.paragraphs == after.paragraphs


def test_more_misspellings_include_the_fewer() -> None:
    few = set(perturb.misspell(TEXT, 0.03, 7).split()) - set(TEXT.split())
    many = set(perturb.misspell(TEXT, 0.10, 7).split()) - set(TEXT.split())
    assert few and few <= many and len(many) > len(few)


def test_flatten_makes_sentences_alike() -> None:
    lengths = {len(s.words) for s in split_document(perturb.flatten(TEXT)).sentences}
    assert max(lengths) - min(lengths) <= 1


def test_truncate_keeps_about_a_third() -> None:
    kept = len(split_document(perturb.truncate(TEXT)).words)
    total = len(split_document(TEXT).words)
    assert total / 3 <= kept < total * 0.6


def test_unrelated_prompt_is_another_prompt() -> None:
    prompts = list(load_prompts().values())
    other = perturb.unrelated_prompt(prompts[0], prompts)
    assert other.id != prompts[0].id


# --- a quick evaluation run ---------------------------------------------------------------


def test_quick_eval_passes() -> None:
    result = run_eval(max_pieces=16, shuffles=3, bot_pieces=0, throughput_pieces=0)
    assert result["pieces"] == 16
    for name, rate in result["checks"].items():
        assert rate >= 0.9, (name, result["failures"].get(name))
    assert result["spearman_quality"] >= 0.8
    assert result["spearman_bot_skill"] is None
    assert result["pieces_per_s"] == 0.0
    assert passed(result)
    report = format_report(result)
    assert "shuffle_organization" in report and "PASS" in report


def test_bot_skill_is_reported_when_the_bot_writer_exists() -> None:
    result = run_eval(max_pieces=6, shuffles=1, bot_pieces=24, throughput_pieces=0)
    try:
        import server.ai.offline.bot_writer  # noqa: F401
    except ImportError:
        assert result["spearman_bot_skill"] is None
    else:
        assert result["spearman_bot_skill"] is not None
        assert result["bot_pieces"] == 24

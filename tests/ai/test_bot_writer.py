"""The offline bot writer: material, skill, typing timeline, determinism."""

from __future__ import annotations

import random
import re
import statistics
from pathlib import Path

import pytest

from server.ai.offline.bot_typing import (
    apply_event,
    replay,
    typing_timeline,
    word_budget,
    words_per_minute,
)
from server.ai.offline.bot_writer import (
    BOTS_DIR,
    MaterialError,
    OfflineBotWriter,
    load_material,
    tags_for,
    write_piece_sync,
)
from server.ai.types import BotPiece, BotPieceRequest, PieceRequest, Prompt, TypingEvent

PROMPTS = (
    Prompt(
        id="lighthouse-storm",
        title="The Keeper's Night",
        text="A lighthouse stands alone on a rocky point while a storm rolls in.",
        tags=("lighthouse", "storm", "sea", "night"),
        image_description="A tall white lighthouse stands on black rocks at night. Waves crash.",
    ),
    Prompt(
        id="night-market",
        title="Lanterns and Noodles",
        text="You are in the middle of a crowded night market.",
        tags=("market", "night", "food"),
    ),
    Prompt(
        id="robot-field",
        title="The Last Gardener",
        text="A small robot stands in a field of sunflowers.",
        tags=("robot", "field"),
    ),
    Prompt(id="odd", title="Untitled", text="Look closely.", tags=("zzz",)),
)
SKILLS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def piece(
    skill: float, seed: int = 0, prompt: Prompt = PROMPTS[0], seconds: float = 240.0
) -> BotPiece:
    return write_piece_sync(
        BotPieceRequest(prompt=prompt, skill=skill, seconds_allowed=seconds, seed=seed)
    )


def test_every_material_file_loads() -> None:
    material = load_material()
    expected = {
        "sea", "storm", "city", "night", "forest", "animals", "space", "robots", "market",
        "winter", "ruins", "family", "school", "sport", "music", "mystery", "generic",
    }  # fmt: skip
    assert expected <= set(material.scenes)
    for scene in material.scenes.values():
        assert len(scene.things) >= 5
        for tier in ("plain", "mid", "rich"):
            assert len(scene.sentences[tier]) >= 6


def test_a_broken_material_file_is_named(tmp_path: Path) -> None:
    root = tmp_path / "bots"
    (root / "tags").mkdir(parents=True)
    for name in ("common.toml", "aliases.toml"):
        (root / name).write_text((BOTS_DIR / name).read_text())
    (root / "tags" / "generic.toml").write_text('titles = ["x"]\n[words]\nadjs_plain = []\n')
    with pytest.raises(MaterialError, match=r"generic\.toml"):
        load_material(root)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [(PROMPTS[0], "sea"), (PROMPTS[1], "market"), (PROMPTS[2], "robots"), (PROMPTS[3], "generic")],
)
def test_prompt_tags_pick_the_material(prompt: Prompt, expected: str) -> None:
    assert expected in tags_for(prompt, load_material())


@pytest.mark.parametrize("prompt", PROMPTS, ids=lambda p: p.id)
@pytest.mark.parametrize("skill", SKILLS)
def test_replaying_the_timeline_gives_exactly_the_text(prompt: Prompt, skill: float) -> None:
    for seed in range(4):
        bot = piece(skill, seed, prompt)
        assert bot.text
        assert replay(bot.timeline) == bot.text
        assert bot.engine == "offline"
        assert not bot.provisional


@pytest.mark.parametrize("seconds", [240.0, 120.0, 30.0, 8.0])
@pytest.mark.parametrize("skill", [0.0, 0.5, 1.0])
def test_the_timeline_finishes_within_the_time_allowed(seconds: float, skill: float) -> None:
    for seed in range(5):
        timeline = piece(skill, seed, seconds=seconds).timeline
        times = [e.at for e in timeline]
        assert times == sorted(times)
        assert times[0] >= 0
        assert times[-1] <= seconds


def test_same_request_same_piece_and_other_seeds_differ() -> None:
    assert piece(0.6, seed=11) == piece(0.6, seed=11)
    assert len({piece(0.6, seed=s).text for s in range(6)}) == 6


async def test_the_async_writer_matches_the_sync_function() -> None:
    req = BotPieceRequest(prompt=PROMPTS[1], skill=0.7, seed=3)
    assert await OfflineBotWriter().write_piece(req) == write_piece_sync(req)


def test_typing_speed_fits_the_skill() -> None:
    assert words_per_minute(0.0) == 15
    assert words_per_minute(1.0) == 45
    for skill in (0.0, 0.5, 1.0):
        for seed in range(5):
            timeline = piece(skill, seed).timeline
            typed = sum(len(e.insert) for e in timeline)
            minutes = timeline[-1].at / 60
            # Including pauses the average is below the burst speed, never above it.
            assert typed / 5 / minutes <= words_per_minute(skill) * 1.2
            assert typed / 5 / minutes >= 0.4 * words_per_minute(skill)


def test_timelines_have_pauses_bursts_and_corrections() -> None:
    deletes = backtracks = 0
    for seed in range(20):
        bot = piece(0.8, seed)
        gaps = [b.at - a.at for a, b in zip(bot.timeline, bot.timeline[1:], strict=False)]
        assert max(gaps) >= 1.5  # pauses at sentence and paragraph starts
        assert any(len(e.insert.split()) >= 2 for e in bot.timeline)  # bursts of words
        text = ""
        for event in bot.timeline:
            deletes += event.delete > 0
            backtracks += event.pos < len(text) - event.delete
            text = apply_event(text, event)
    assert deletes >= 5
    assert backtracks >= 1  # went back to fix an earlier word


def test_apply_event_rejects_an_edit_outside_the_text() -> None:
    with pytest.raises(ValueError, match="outside"):
        apply_event("abc", TypingEvent(at=0, pos=2, delete=5))


def _features(bot: BotPiece) -> tuple[int, int, float, float]:
    text = bot.text
    words = text.split()
    paragraphs = len([p for p in text.split("\n\n") if p.strip()])
    sentences = re.findall(r"(?:^|[.!?]\s+)(\S)", text)
    lower_starts = sum(1 for s in sentences if s.islower()) / max(1, len(sentences))
    long_words = sum(1 for w in words if len(w.strip(".,;:!?\"'")) >= 7) / max(1, len(words))
    return len(words), paragraphs, lower_starts, long_words


def test_skill_drives_length_organisation_errors_and_vocabulary() -> None:
    means = []
    for skill in (0.0, 0.5, 1.0):
        feats = [_features(piece(skill, seed, PROMPTS[seed % 3])) for seed in range(24)]
        means.append(tuple(statistics.mean(f[i] for f in feats) for i in range(4)))
    (w0, p0, e0, v0), (w5, p5, e5, v5), (w1, p1, e1, v1) = means
    assert w0 < w5 < w1
    assert p0 < p5 < p1
    assert e0 > e5 > e1
    assert v0 < v5 < v1
    assert e1 < 0.02


def test_word_budget_matches_typing_speed() -> None:
    assert word_budget(0.0, 240) < word_budget(0.5, 240) < word_budget(1.0, 240)
    assert word_budget(1.0, 240) <= 45 * 4
    assert word_budget(0.5, 60) < word_budget(0.5, 240)


def test_typing_timeline_of_any_text_replays() -> None:
    text = "Hello there.\n\nA second paragraph, with   odd spacing! And more words here."
    for seed in range(10):
        timeline = typing_timeline(text, 0.9, 60.0, random.Random(seed))
        assert replay(timeline) == text
        assert timeline[-1].at <= 60.0
    assert typing_timeline("", 0.5, 60.0, random.Random(0)) == ()


async def test_skill_ordering_holds_under_the_offline_scorer() -> None:
    """Spearman(skill, overall) over bot pieces, as the eval computes it (here on 84 pieces)."""
    scorer_module = pytest.importorskip("server.ai.offline.scorer")
    scorer = scorer_module.OfflineScorer()
    skills: list[float] = []
    overall: list[float] = []
    for i in range(84):
        skill = (i % 21) / 20
        prompt = PROMPTS[i % 3]
        bot = piece(skill, i, prompt)
        result = await scorer.score_piece(PieceRequest(prompt=prompt, text=bot.text))
        skills.append(skill)
        overall.append(result.overall)
    assert _spearman(skills, overall) >= 0.8


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    var = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return float(cov / var)

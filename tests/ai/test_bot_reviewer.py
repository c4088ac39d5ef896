"""The offline bot reviewer: helpfulness follows skill; quotes are real; ratings are sane."""

from __future__ import annotations

import re
import statistics

import pytest

from server.ai.offline.bot_reviewer import (
    OfflineBotReviewer,
    load_phrases,
    read_piece,
    write_review_sync,
)
from server.ai.offline.bot_writer import load_material, write_piece_sync
from server.ai.types import (
    TRAITS,
    BotPieceRequest,
    BotReview,
    BotReviewRequest,
    Prompt,
    ReviewRequest,
    Trait,
)

PROMPT = Prompt(
    id="lighthouse-storm",
    title="The Keeper's Night",
    text="A lighthouse stands alone on a rocky point while a storm rolls in.",
    tags=("lighthouse", "storm", "sea"),
)
STRONG = write_piece_sync(BotPieceRequest(prompt=PROMPT, skill=1.0, seed=5)).text
WEAK = write_piece_sync(BotPieceRequest(prompt=PROMPT, skill=0.0, seed=5)).text


def review(piece: str, skill: float, seed: int = 0, focus: Trait = Trait.IDEAS) -> BotReview:
    return write_review_sync(
        BotReviewRequest(prompt=PROMPT, piece_text=piece, skill=skill, focus=focus, seed=seed)
    )


def quotes(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def test_a_skilled_reviewer_quotes_the_piece_and_gives_a_concrete_suggestion() -> None:
    for seed in range(10):
        for piece in (STRONG, WEAK):
            for focus in TRAITS:
                r = review(piece, 1.0, seed, focus)
                strength_quotes = quotes(r.strength)
                assert strength_quotes, r.strength
                assert all(q in piece for q in strength_quotes), (r.strength, piece)
                suggestion_quotes = [q for q in quotes(r.suggestion) if q not in ("I",)]
                piece_quotes = [q for q in suggestion_quotes if q in piece]
                assert piece_quotes, r.suggestion
                assert re.search(
                    r"\b(add|try|split|start|write|check|swap|read|replac)", r.suggestion, re.I
                )


def test_a_beginner_reviewer_is_generic() -> None:
    phrases = load_phrases()
    for seed in range(10):
        r = review(STRONG, 0.0, seed)
        assert r.strength in phrases.generic_strengths
        assert r.suggestion in phrases.generic_suggestions
        assert not quotes(r.strength)


def test_ratings_stay_in_range_and_skilled_ratings_follow_the_piece() -> None:
    for skill in (0.0, 0.5, 1.0):
        for seed in range(8):
            assert 1 <= review(WEAK, skill, seed).rating <= 6
    assert review(STRONG, 1.0).rating > review(WEAK, 1.0).rating
    low = [review(WEAK, 0.0, s).rating for s in range(20)]
    assert statistics.mean(low) >= 4  # beginners are generous whatever they read


def test_specificity_rises_with_skill() -> None:
    def quoting_share(skill: float) -> float:
        reviews = [review(STRONG, skill, seed) for seed in range(40)]
        return sum(1 for r in reviews if quotes(r.strength)) / len(reviews)

    assert quoting_share(0.0) < quoting_share(0.5) < quoting_share(1.0)
    assert quoting_share(1.0) == 1.0


def test_same_request_same_review() -> None:
    assert review(STRONG, 0.7, 3) == review(STRONG, 0.7, 3)


async def test_async_reviewer_and_empty_piece() -> None:
    req = BotReviewRequest(prompt=PROMPT, piece_text="", skill=0.9)
    r = await OfflineBotReviewer().write_review(req)
    assert r.rating == 1
    assert r.engine == "offline"
    assert r.strength and r.suggestion


def test_reading_notices_problems() -> None:
    reading = read_piece(
        "the boat is big. i see a big wave and it is big and it is nice", load_material()
    )
    assert reading.lowercase_starts
    assert reading.lowercase_i
    assert ("big", "the boat is big.") in reading.plain or any(w == "big" for w, _ in reading.plain)
    assert reading.estimate() <= 2


async def test_helpfulness_follows_skill_under_the_offline_judge() -> None:
    judge_module = pytest.importorskip("server.ai.offline.judge")
    judge = judge_module.OfflineJudge()
    by_skill: dict[float, list[int]] = {}
    for skill in (0.0, 1.0):
        for seed in range(12):
            r = review(STRONG if seed % 2 else WEAK, skill, seed)
            score = await judge.judge_review(
                ReviewRequest(
                    prompt=PROMPT,
                    piece_text=STRONG if seed % 2 else WEAK,
                    strength=r.strength,
                    suggestion=r.suggestion,
                    rating=r.rating,
                )
            )
            by_skill.setdefault(skill, []).append(score.helpfulness)
    assert statistics.mean(by_skill[1.0]) > statistics.mean(by_skill[0.0]) + 1

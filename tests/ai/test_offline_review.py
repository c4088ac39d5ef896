"""The offline review judge: specific, actionable, justified, kind feedback scores high."""

from __future__ import annotations

import pytest

from server.ai.content import load_eval_pieces, load_prompts, load_review_pairs
from server.ai.offline.judge import OfflineJudge, judge_review_sync
from server.ai.types import ReviewRequest, ReviewScore

PROMPTS = load_prompts()
PIECES = {p.id: p for p in load_eval_pieces()}
PIECE = PIECES["lh-4"]
PROMPT = PROMPTS[PIECE.prompt_id]

GOOD_STRENGTH = (
    "The line 'she had never heard the wind scream like this' hooked me because it tells me "
    "this storm is worse than normal."
)
GOOD_SUGGESTION = (
    "When Marta grabs the radio and only static answers, try adding what her hands do, for "
    "example 'her fingers shook on the dial', so the reader feels the danger."
)


def judge(strength: str, suggestion: str, rating: int = 4, piece: str = PIECE.text) -> ReviewScore:
    return judge_review_sync(
        ReviewRequest(
            prompt=PROMPT,
            piece_text=piece,
            strength=strength,
            suggestion=suggestion,
            rating=rating,
            focus=PROMPT.focus,
        )
    )


def _valid(score: ReviewScore) -> None:
    for value in (
        score.helpfulness,
        score.specificity,
        score.actionability,
        score.justification,
        score.tone,
    ):
        assert 1 <= value <= 6
    assert score.engine == "offline"


def test_good_review_scores_high() -> None:
    score = judge(GOOD_STRENGTH, GOOD_SUGGESTION)
    _valid(score)
    assert score.helpfulness >= 5
    assert score.specificity >= 4 and score.actionability >= 4 and score.justification >= 4
    assert "gives a concrete change" in score.reasons


@pytest.mark.parametrize(
    ("strength", "suggestion", "reason", "most"),
    [
        ("good job", "nice", "generic praise", 2),
        ("I liked it, it was great!", "Keep it up!", "generic praise", 2),
        ("idk", "...", "filler", 1),
        ("asdf asdf", "lol", "filler", 1),
        ("", "", "filler", 1),
        (
            "Rain hammered the windows as she climbed the spiral stairs, counting the steps.",
            "Then she saw it. A small sailboat with a single lantern was tossing in the waves.",
            "copies the piece's text",
            2,
        ),
        ("This is boring.", "You are bad at writing, just stop.", "rude or dismissive", 2),
        ("whatever", "this is trash, learn to write, idiot", "rude or dismissive", 2),
        (
            "I loved the robot watering the sunflowers in the field.",
            "Explain why the farmer left the robot behind.",
            "not about this piece",
            2,
        ),
    ],
)
def test_poor_reviews_score_low(strength: str, suggestion: str, reason: str, most: int) -> None:
    score = judge(strength, suggestion)
    _valid(score)
    assert reason in score.reasons
    assert score.helpfulness <= most
    assert score.helpfulness < judge(GOOD_STRENGTH, GOOD_SUGGESTION).helpfulness


def test_specific_beats_vague() -> None:
    vague = judge("Good descriptions.", "Add more details.")
    specific = judge(
        "The black rocks and the spray reaching the glass helped me see the storm.",
        "Add one detail about the sailboat, like its colour, so we care when it turns away.",
    )
    assert specific.specificity > vague.specificity
    assert specific.helpfulness > vague.helpfulness


def test_rating_far_from_the_piece_is_noted() -> None:
    weak = PIECES["lh-1"].text
    score = judge("The storm idea fits the picture.", "Add what the man sees.", 6, piece=weak)
    assert "rating far from the piece's level" in score.reasons


@pytest.mark.parametrize(
    "text",
    ["x" * 20000, "🌊" * 500, "ﷺ مرحبا", "a\x00b\u200bc", "GOOD JOB!!!!!!!!"],
)
def test_any_review_text_is_judged(text: str) -> None:
    _valid(judge(text, text))


def test_review_pairs_from_the_evaluation_set() -> None:
    pairs = load_review_pairs()
    assert len(pairs) >= 20
    right = 0
    for pair in pairs:
        piece = PIECES[pair.piece_id]
        prompt = PROMPTS[piece.prompt_id]
        scores = [
            judge_review_sync(
                ReviewRequest(
                    prompt=prompt,
                    piece_text=piece.text,
                    strength=r.strength,
                    suggestion=r.suggestion,
                    rating=r.rating,
                    focus=prompt.focus,
                )
            ).helpfulness
            for r in (pair.good, pair.poor)
        ]
        right += scores[0] > scores[1]
    assert right / len(pairs) >= 0.9


def test_deterministic() -> None:
    assert judge(GOOD_STRENGTH, GOOD_SUGGESTION) == judge(GOOD_STRENGTH, GOOD_SUGGESTION)


async def test_offline_judge_protocol() -> None:
    req = ReviewRequest(
        prompt=PROMPT,
        piece_text=PIECE.text,
        strength=GOOD_STRENGTH,
        suggestion=GOOD_SUGGESTION,
        rating=4,
    )
    assert await OfflineJudge().judge_review(req) == judge_review_sync(req)

"""Valid answers for Quill Arena's Claude tools, built from the request the fake received.

The schema-generated default of the fake satisfies each tool's JSON schema but not every
rule the engine checks (a suggestion must quote the piece, a mask phrase must be in the
text).  These responders read the ``<student_data>`` block of the user message and answer
like a well-behaved model would; tests register them with ``fake.respond(...)`` or all at
once with :func:`install`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.fake_anthropic import FakeAnthropic, Json

TRAIT_NAMES = (
    "ideas",
    "organization",
    "voice",
    "word_choice",
    "sentence_fluency",
    "conventions",
    "presentation",
)


def user_text(body: Json) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")


def block(body: Json, tag: str) -> Any:
    """The JSON inside ``<tag>…</tag>`` of the last user message."""
    match = re.search(rf"<{tag}>\n(.*?)\n</{tag}>", user_text(body), flags=re.S)
    if match is None:
        raise AssertionError(f"no <{tag}> block in the user message")
    return json.loads(match.group(1))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.!?\n]+[.!?]?", text) if s.strip()]


def score_answer(body: Json, level: int = 4) -> Json:
    piece = block(body, "student_data")["piece"]
    quoted = (sentences(piece) * 2)[:2]
    return {
        "traits": dict.fromkeys(TRAIT_NAMES, level),
        "overall": float(level),
        "rationale": "A clear scene with some vivid details; the ending is rushed.",
        "suggestions": [
            {"sentence": s, "advice": "Add a sound or a smell to this sentence."} for s in quoted
        ],
        "flags": [],
    }


def judge_answer(body: Json) -> Json:
    return {
        "helpfulness": 4,
        "specificity": 5,
        "actionability": 4,
        "justification": 3,
        "tone": 6,
        "reasons": ["Quotes the piece.", "The suggestion can be done right away."],
    }


def moderation_answer(body: Json) -> Json:
    return {"verdict": "allow", "reasons": [], "mask_phrases": [], "flag_teacher": False}


def tutor_answer(body: Json) -> Json:
    data = block(body, "student_data")
    writing = data.get("recent_writing") or []
    citations = []
    if writing:
        citations.append({"quote": sentences(writing[0])[0], "source": "student_writing"})
    return {
        "answer": "Start a new paragraph when the time, place or speaker changes.",
        "declined": False,
        "confidence": 0.9,
        "relevance": 0.9,
        "clarity": 0.9,
        "completeness": 0.8,
        "citations": citations,
    }


def bot_piece_answer(body: Json) -> Json:
    return {
        "text": "The lighthouse stands alone on the rocks.\n\nWaves crash below it, "
        "and the lamp turns slowly through the rain."
    }


def bot_review_answer(body: Json) -> Json:
    return {
        "strength": 'I like "the lamp turns slowly" because I can see it.',
        "suggestion": "Add what the keeper hears after the first sentence.",
        "rating": 4,
    }


RESPONDERS = {
    "record_piece_score": score_answer,
    "record_review_score": judge_answer,
    "record_moderation": moderation_answer,
    "record_tutor_answer": tutor_answer,
    "record_bot_piece": bot_piece_answer,
    "record_bot_review": bot_review_answer,
}


def install(fake: FakeAnthropic) -> None:
    for name, responder in RESPONDERS.items():
        fake.respond(name, responder)

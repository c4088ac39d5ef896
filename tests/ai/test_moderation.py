"""The offline moderator: verdicts, masking, obfuscations, personal data, no Scunthorpe."""

from __future__ import annotations

import pytest

from server.ai.offline.moderation import MAX_CHARS, OfflineModerator, moderate_sync, normalise
from server.ai.types import ModerationRequest, ModerationResult

CLASSMATES = ("Maria Lopez", "Sam O'Neil")


def moderate(text: str) -> ModerationResult:
    return moderate_sync(ModerationRequest(text=text, known_names=CLASSMATES))


@pytest.mark.parametrize(
    ("token", "normal"),
    [
        ("Sh1t", "shit"),
        ("@ss", "ass"),
        ("$hit", "shit"),
        ("Café", "cafe"),
        ("don't", "dont"),
        ("f*ck", "f*ck"),
    ],
)
def test_normalise(token: str, normal: str) -> None:
    assert normalise(token) == normal


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("This is fucking great", "This is **** great"),
        ("f.u.c.k this", "**** this"),
        ("F U C K", "****"),
        ("f-u-c-k it", "**** it"),
        ("sh1t happens", "**** happens"),
        ("what the $hit", "what the ****"),
        ("fuuuuuck", "****"),
        ("f*ck off", "**** off"),
        ("SHIIIT!", "****!"),
        ("what an ass", "what an ****"),
        ("ƒück this", "**** this"),
    ],
)
def test_profanity_is_masked(text: str, masked: str) -> None:
    result = moderate(text)
    assert result.verdict == "mask"
    assert result.text == masked
    assert "profanity" in result.reasons
    assert not result.flag_teacher


@pytest.mark.parametrize(
    "text",
    [
        "My class assessment in Scunthorpe went well.",
        "The assassin played bass in the grass.",
        "Hello! The peacock sat in the cockpit of the cocktail bar in Sussex.",
        "Dick ran home and the thorn pricked her finger.",
        "She passed the glass to the classic therapist.",
        "The stupid robot fell over in my story.",
        "The battery died and the plant was dying.",
        "I got an A in c l a s s, and a s s e s s m e n t was easy.",
        "This is a *really* good story.",
        "In 1961 the train left at 3:07 from platform 12.",
        "",
    ],
)
def test_innocent_text_is_allowed(text: str) -> None:
    result = moderate(text)
    assert result.verdict == "allow"
    assert result.text == text
    assert result.reasons == ()
    assert not result.flag_teacher


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("kill yourself", "harassment"),
        ("go kys loser", "harassment"),
        ("you are so stupid", "harassment"),
        ("you're an idiot", "harassment"),
        ("ur such a loser", "harassment"),
        ("nobody likes you", "harassment"),
        ("I will kill you", "harassment"),
        ("N1gger", "slur"),
        ("what a f a g g o t", "slur"),
    ],
)
def test_harassment_and_slurs_are_blocked(text: str, reason: str) -> None:
    result = moderate(text)
    assert result.verdict == "block"
    assert result.text == ""
    assert reason in result.reasons
    assert result.flag_teacher


@pytest.mark.parametrize(
    "text",
    [
        "I want to die",
        "sometimes I think about killing myself",
        "i wanna die lol",
        "I cut myself last night",
        "there is no reason to live anymore",
        "I've been thinking about suicide",
    ],
)
def test_self_harm_flags_the_teacher_and_keeps_the_words(text: str) -> None:
    result = moderate(text)
    assert result.flag_teacher
    assert "self_harm" in result.reasons
    assert result.verdict == "allow"
    assert result.text == text


def test_self_harm_with_profanity_is_masked_and_flagged() -> None:
    result = moderate("this shit is too much, I want to die")
    assert result.verdict == "mask"
    assert result.text == "this **** is too much, I want to die"
    assert result.flag_teacher


@pytest.mark.parametrize(
    ("text", "masked", "reason"),
    [
        ("email me: kid.writer@example.com", "email me: [email removed]", "email"),
        ("call 555-123-4567 tonight", "call [phone removed] tonight", "phone"),
        ("ring +44 20 7946 0958", "ring [phone removed]", "phone"),
        ("text me at (555) 123 4567!", "text me at [phone removed]!", "phone"),
        ("I live at 42 Oak Street.", "I live at [address removed]", "address"),
        ("my address is 7 maple avenue", "my address is [address removed]", "address"),
        ("Maria Lopez sat next to me", "[name removed] sat next to me", "name"),
        ("I told maria  lopez and SAM O'NEIL", "I told [name removed] and [name removed]", "name"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str, reason: str) -> None:
    result = moderate(text)
    assert result.verdict == "mask"
    assert result.text == masked
    assert reason in result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Maria waved at Lopez.",  # first and last name apart: not a full name
        "The date was 2024-05-01 and the score was 12-3.",
        "She counted 4,112 sunflowers.",
    ],
)
def test_not_personal_data(text: str) -> None:
    assert moderate(text).verdict == "allow"


def test_huge_text_is_refused_without_scanning() -> None:
    result = moderate("a" * (MAX_CHARS + 1))
    assert result.verdict == "block"
    assert result.reasons == ("too_long",)


@pytest.mark.parametrize(
    "text",
    ["x" * 100_000, "1-" * 20_000, "f u c k " * 2000, "🌊" * 5000, "a\x00\u200b" * 1000],
)
def test_large_and_odd_inputs_do_not_break(text: str) -> None:
    result = moderate(text)
    assert result.verdict in ("allow", "mask", "block")


def test_deterministic() -> None:
    text = "f.u.c.k, call 555-123-4567, Maria Lopez, I want to die"
    assert moderate(text) == moderate(text)


async def test_offline_moderator_protocol() -> None:
    req = ModerationRequest(text="what the $hit", known_names=CLASSMATES)
    result = await OfflineModerator().moderate(req)
    assert result == moderate_sync(req)
    assert result.engine == "offline"

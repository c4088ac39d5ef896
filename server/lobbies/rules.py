"""A lobby's round rules: parsed and checked once, stored as JSON, turned into match settings.

Pure: no I/O.  :func:`parse_rules` reads the ``settings`` object of a REST body on top
of the current rules (the ``[match]`` defaults for a new lobby) and returns every field
problem at once, keyed ``settings.<field>``, for a 422 like every other body.

The prompt is one of (``settings.prompt``):

- ``{"kind": "random"}`` — a prompt of the pack, a new one every round (the default);
- ``{"kind": "pack", "id": "lighthouse-storm"}`` — that prompt of the pack;
- ``{"kind": "level", "level": "middle"}`` — a prompt of that level, new every round;
- ``{"kind": "custom", "title": …, "text": …, "image_id": …, "image_description": …,
  "level": …}`` — the teacher's own words, maybe with an image they uploaded
  (``POST /api/v1/prompt-images``).  ``image_id`` is checked here for its form only (a
  uuid; ``image_description``, the alt text, is then required); that the image exists
  and is the teacher's is checked by the REST handler, which then fills in
  :attr:`PromptChoice.image`, the file name the round's prompt carries and
  ``/prompts/{image}`` serves.  A body that sends ``image`` itself is refused.

Every round of one lobby plays one prompt in all its parties, so the class can compare.

``class_may_watch`` is not a rule of the round but a permission read at each request
(``server/access/watch.py``): whether the lobby's class may watch its matches.  It is
parsed and shown with the other settings, but stored in its own column
(``lobbies.class_may_watch``, which the replay service reads), not in the settings JSON
(``server/lobbies/store.py``); it is the one setting that may change while a round plays
(:data:`ANYTIME_FIELDS`).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from server.ai.types import Level, Prompt, Trait
from server.config import MatchSettings
from server.game.plain import dump, load
from server.lobbies.parties import Split
from server.text import text_problem

PromptKind = Literal["random", "pack", "level", "custom"]
PARTY_MIN, PARTY_MAX = 4, 6  # the sizes of a match a lobby may ask for
TITLE_CHARS, TEXT_CHARS, ALT_CHARS = 80, 1000, 500
PHASES = ("lobby_seconds", "write_seconds", "feedback_seconds", "results_seconds")
LEVELS: tuple[str, ...] = get_args(Level)
RULE_FIELDS = frozenset(
    {
        *PHASES,
        "prompt",
        "focus",
        "reviews_per_piece",
        "party_min",
        "party_max",
        "bots",
        "ranked",
        "anonymous",
        "split",
        "class_may_watch",
    }
)
ANYTIME_FIELDS = frozenset({"class_may_watch"})
"""Settings a PATCH may change while a round plays: they do not shape a round."""


@dataclass(frozen=True, slots=True)
class PromptChoice:
    kind: PromptKind = "random"
    id: str = ""  # kind "pack"
    level: Level = "middle"  # kinds "level" and "custom"
    title: str = ""  # kind "custom"
    text: str = ""
    image_description: str = ""  # the image's alt text (required with an image)
    image_id: str = ""  # kind "custom": an uploaded image (server/uploads), or none
    image: str = ""  # its file name, "<image_id>.webp", set once the upload was found


@dataclass(frozen=True, slots=True)
class LobbyRules:
    lobby_seconds: float
    write_seconds: float
    feedback_seconds: float
    results_seconds: float
    reviews_per_piece: int
    prompt: PromptChoice = field(default_factory=PromptChoice)
    focus: Trait | None = None  # None: the prompt's own focus
    party_min: int = PARTY_MIN
    party_max: int = PARTY_MAX
    bots: bool = True
    ranked: bool = False  # practice by default: a lesson does not move ladder ratings
    anonymous: bool = True  # students see aliases; the teacher always sees names
    split: Split = "random"
    class_may_watch: bool = False  # the class may watch the matches (lobbies.class_may_watch)

    @classmethod
    def defaults(cls, match: MatchSettings, *, bots: bool) -> LobbyRules:
        return cls(
            lobby_seconds=match.lobby_seconds,
            write_seconds=match.write_seconds,
            feedback_seconds=match.feedback_seconds,
            results_seconds=match.results_seconds,
            reviews_per_piece=min(match.reviews_per_piece, PARTY_MIN - 1),
            bots=bots,
        )

    def plain(self) -> dict[str, Any]:
        data: dict[str, Any] = dump(self)
        return data

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> LobbyRules:
        return load(cls, dict(data))

    def match_settings(self, base: MatchSettings) -> MatchSettings:
        """The ``[match]`` settings with this lobby's phases and sizes."""
        return dataclasses.replace(
            base,
            lobby_seconds=self.lobby_seconds,
            write_seconds=self.write_seconds,
            feedback_seconds=self.feedback_seconds,
            results_seconds=self.results_seconds,
            reviews_per_piece=self.reviews_per_piece,
            min_players=min(self.party_min, base.max_players),
            max_players=max(self.party_max, base.max_players),
        )

    def prompt_for_round(self, prompts: Mapping[str, Prompt], lobby_id: str, seed: int) -> Prompt:
        """The round's prompt (raises ``LookupError`` when the pack lost it)."""
        choice = self.prompt
        if choice.kind == "custom":
            return Prompt(
                id=f"custom-{lobby_id[:8]}",
                title=choice.title,
                text=choice.text,
                image_description=choice.image_description,  # shown as the image's alt
                alt_text=choice.image_description,  # and what relevance is judged from
                focus=self.focus or Trait.IDEAS,
                level=choice.level,
                image=choice.image,
            )
        if choice.kind == "pack":
            if choice.id not in prompts:
                raise LookupError(f"the prompt {choice.id!r} is no longer in the pack")
            return prompts[choice.id]
        pool = sorted(
            p
            for p, prompt in prompts.items()
            if choice.kind != "level" or prompt.level == choice.level
        )
        if not pool:
            raise LookupError(f"no prompt of level {choice.level!r} in the pack")
        return prompts[random.Random(seed).choice(pool)]


def _bounds(name: str) -> tuple[float, float]:
    meta = next(f.metadata for f in dataclasses.fields(MatchSettings) if f.name == name)
    return float(meta["lo"]), float(meta["hi"])


def parse_rules(
    raw: Any, current: LobbyRules, prompts: Mapping[str, Prompt], *, bots_allowed: bool
) -> tuple[LobbyRules, dict[str, str]]:
    """``current`` with the fields of ``raw`` (a REST ``settings`` object) applied, and
    every problem by ``settings.<field>`` (nothing applied when there is one)."""
    problems: dict[str, str] = {}
    if raw is None:
        return current, problems
    if not isinstance(raw, dict):
        return current, {"settings": "must be an object"}
    for key in raw:
        if key not in RULE_FIELDS:
            problems[f"settings.{key}"] = "is not a known setting"
    changes: dict[str, Any] = {}

    def bad(name: str, message: str) -> None:
        problems.setdefault(f"settings.{name}", message)

    for name in PHASES:
        if name in raw:
            value, (lo, hi) = raw[name], _bounds(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                bad(name, f"must be a number of seconds from {lo:g} to {hi:g}")
            elif not lo <= value <= hi:
                bad(name, f"must be from {lo:g} to {hi:g} seconds")
            else:
                changes[name] = float(value)
    for name, lo, hi in (
        ("reviews_per_piece", 1, 5),
        ("party_min", PARTY_MIN, PARTY_MAX),
        ("party_max", PARTY_MIN, PARTY_MAX),
    ):
        if name in raw:
            value = raw[name]
            if type(value) is not int or not lo <= value <= hi:
                bad(name, f"must be an integer from {lo} to {hi}")
            else:
                changes[name] = value
    for name in ("bots", "ranked", "anonymous", "class_may_watch"):
        if name in raw:
            if not isinstance(raw[name], bool):
                bad(name, "must be true or false")
            else:
                changes[name] = raw[name]
    if changes.get("bots") and not bots_allowed:
        bad("bots", "bots are disabled on this server (bots.enabled)")
    if "split" in raw:
        if raw["split"] not in get_args(Split):
            bad("split", "must be 'random' or 'rating'")
        else:
            changes["split"] = raw["split"]
    if "focus" in raw:
        focus = raw["focus"]
        if focus is None:
            changes["focus"] = None
        elif isinstance(focus, str) and focus in {t.value for t in Trait}:
            changes["focus"] = Trait(focus)
        else:
            bad("focus", "must be null or one of " + ", ".join(t.value for t in Trait))
    if "prompt" in raw:
        choice = _prompt(raw["prompt"], prompts, bad)
        if choice is not None:
            changes["prompt"] = choice
    if problems:
        return current, problems
    rules = dataclasses.replace(current, **changes)
    if rules.party_min > rules.party_max:
        bad("party_min", f"must be at most party_max ({rules.party_max})")
    if rules.reviews_per_piece >= rules.party_min:
        bad(
            "reviews_per_piece",
            f"must be below party_min ({rules.party_min}) so nobody reviews their own piece",
        )
    return (current, problems) if problems else (rules, problems)


def _text(raw: dict[str, Any], name: str, hi: int, lo: int, bad: Any) -> str:
    value = raw.get(name, "")
    if not isinstance(value, str):
        bad(f"prompt.{name}", "must be a string")
        return ""
    value = value.strip()
    if not lo <= len(value) <= hi:
        bad(f"prompt.{name}", f"must be {lo}–{hi} characters")
    elif problem := text_problem(value):
        bad(f"prompt.{name}", problem)
    elif name == "title" and "\n" in value:
        bad("prompt.title", "must be one line")
    return value


def _prompt(raw: Any, prompts: Mapping[str, Prompt], bad: Any) -> PromptChoice | None:
    if not isinstance(raw, dict):
        bad("prompt", "must be an object with a kind: random, pack, level or custom")
        return None
    kind = raw.get("kind")
    allowed = {
        "random": {"kind"},
        "pack": {"kind", "id"},
        "level": {"kind", "level"},
        "custom": {"kind", "title", "text", "image_id", "image_description", "level"},
    }
    if not isinstance(kind, str) or kind not in allowed:
        bad("prompt.kind", "must be random, pack, level or custom")
        return None
    for key in raw:
        if key not in allowed[kind]:
            extra = (
                " (send image_id: the id of an image from POST /api/v1/prompt-images)"
                if key == "image"
                else ""
            )
            bad(f"prompt.{key}", f"is not a field of a {kind} prompt{extra}")
    level = raw.get("level", "middle")
    if kind in ("level", "custom") and level not in LEVELS:
        bad("prompt.level", "must be one of " + ", ".join(LEVELS))
        return None
    if kind == "pack":
        pid = raw.get("id")
        if not isinstance(pid, str) or pid not in prompts:
            bad("prompt.id", "must be the id of a prompt of the pack")
            return None
        return PromptChoice(kind="pack", id=pid)
    if kind == "level":
        if not any(p.level == level for p in prompts.values()):
            bad("prompt.level", f"the pack has no prompt of level {level!r}")
            return None
        return PromptChoice(kind="level", level=level)
    if kind == "custom":
        title = _text(raw, "title", TITLE_CHARS, 1, bad)
        text = _text(raw, "text", TEXT_CHARS, 1, bad)
        image_id = _image_id(raw.get("image_id"), bad)
        alt = _text(raw, "image_description", ALT_CHARS, 0, bad)
        if image_id and not alt:
            bad("prompt.image_description", "is required with an image: its alt text")
        return PromptChoice(
            kind="custom",
            level=level,
            title=title,
            text=text,
            image_description=alt,
            image_id=image_id,
        )
    return PromptChoice()


def _image_id(raw: Any, bad: Any) -> str:
    """The uploaded image's id in its canonical form, "" for none (absent or null)."""
    if raw is None or raw == "":
        return ""
    try:
        if not isinstance(raw, str):
            raise ValueError
        return str(uuid.UUID(raw))
    except ValueError:
        bad("prompt.image_id", "must be the id (uuid) of an image you uploaded, or null")
        return ""

"""The offline bot writer: a piece composed from ``content/bots/`` at a skill from 0 to 1.

The prompt's tags, title and text pick up to two material tags (through
``content/bots/aliases.toml``; ``generic`` when nothing matches).  Skill then sets:

- length: the typing model's word budget (15–45 words per minute, weaker writers stop
  earlier), see :mod:`server.ai.offline.bot_typing`;
- vocabulary: each sentence draws its tier — plain, mid or rich — with odds
  ``(1-s)²``, ``2s(1-s)``, ``s²``;
- sentence variety: tier templates and hand-written sentences of different shapes, voice
  lines; low skill sticks to one or two things and repeats them;
- organisation: 1 to 3 paragraphs, an opener, transitions and an ending, a title line at
  high skill; low skill may restate the picture and end with "The end.";
- errors: misspellings, missing capitals, a lowercase "i", run-on sentences, dropped
  commas and a missing last full stop, all at a rate falling with skill.

Everything is drawn from one ``random.Random`` seeded with the request's seed, prompt id
and skill, so a request always gives the same piece and the same timeline.
"""

from __future__ import annotations

import functools
import random
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.ai.offline.bot_typing import clamp, typing_timeline, word_budget
from server.ai.types import BotPiece, BotPieceRequest, Prompt

BOTS_DIR = Path(__file__).resolve().parents[3] / "content" / "bots"
TIERS = ("plain", "mid", "rich")
_WORD = re.compile(r"[A-Za-z']+")


class MaterialError(ValueError):
    """A file in ``content/bots/`` is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Thing:
    noun: str
    rich: str
    acts: tuple[str, ...]
    rich_acts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scene:
    """Material for one tag (or several merged)."""

    name: str
    titles: tuple[str, ...]
    adjs: Mapping[str, tuple[str, ...]]
    places: tuple[str, ...]
    sounds: tuple[str, ...]
    smells: tuple[str, ...]
    things: tuple[Thing, ...]
    sentences: Mapping[str, tuple[str, ...]]
    openers: Mapping[str, tuple[str, ...]]
    endings: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Material:
    templates: Mapping[str, tuple[str, ...]]
    anchors: Mapping[str, tuple[str, ...]]
    transitions: Mapping[str, tuple[str, ...]]
    voice: Mapping[str, tuple[str, ...]]
    openers: Mapping[str, tuple[str, ...]]
    endings: Mapping[str, tuple[str, ...]]
    plain_words: Mapping[str, tuple[str, ...]]
    misspellings: Mapping[str, str]
    aliases: Mapping[str, str]
    scenes: Mapping[str, Scene]


# -- loading ------------------------------------------------------------------------------------


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise MaterialError(f"{where}: {key} must be a non-empty list of strings")
    return tuple(value)


def _tiers(data: Mapping[str, Any], key: str, where: str) -> dict[str, tuple[str, ...]]:
    table = data.get(key)
    if not isinstance(table, Mapping):
        raise MaterialError(f"{where}: [{key}] is missing")
    return {tier: _strings(table, tier, f"{where} [{key}]") for tier in TIERS}


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MaterialError(f"{path}: {exc}") from None


def _scene(name: str, data: Mapping[str, Any], where: str) -> Scene:
    words = data.get("words")
    if not isinstance(words, Mapping):
        raise MaterialError(f"{where}: [words] is missing")
    things: list[Thing] = []
    for i, raw in enumerate(data.get("things") or []):
        at = f"{where} [[things]] #{i + 1}"
        if not isinstance(raw, Mapping):
            raise MaterialError(f"{at}: must be a table")
        for key in ("noun", "rich"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise MaterialError(f"{at}: {key} must be a string")
        things.append(
            Thing(
                raw["noun"],
                raw["rich"],
                _strings(raw, "acts", at),
                _strings(raw, "rich_acts", at),
            )
        )
    if not things:
        raise MaterialError(f"{where}: needs at least one [[things]] entry")
    return Scene(
        name=name,
        titles=_strings(data, "titles", where),
        adjs={t: _strings(words, f"adjs_{t}", f"{where} [words]") for t in TIERS},
        places=_strings(words, "places", f"{where} [words]"),
        sounds=_strings(words, "sounds", f"{where} [words]"),
        smells=_strings(words, "smells", f"{where} [words]"),
        things=tuple(things),
        sentences=_tiers(data, "sentences", where),
        openers=_tiers(data, "openers", where),
        endings=_tiers(data, "endings", where),
    )


@functools.cache
def load_material(root: Path = BOTS_DIR) -> Material:
    """Read and check every material file; raise :class:`MaterialError` naming a bad one."""
    common_path = root / "common.toml"
    common = _read(common_path)
    where = str(common_path)
    aliases = _read(root / "aliases.toml").get("aliases", {})
    plain_words = common.get("plain_words", {})
    misspellings = common.get("misspellings", {})
    if not isinstance(aliases, Mapping) or not isinstance(misspellings, Mapping):
        raise MaterialError(f"{root}: [aliases] and [misspellings] must be tables")
    scenes = {
        path.stem: _scene(path.stem, _read(path), str(path))
        for path in sorted((root / "tags").glob("*.toml"))
    }
    if "generic" not in scenes:
        raise MaterialError(f"{root / 'tags'}: generic.toml is required")
    unknown = sorted({tag for tag in aliases.values() if tag not in scenes})
    if unknown:
        raise MaterialError(f"{root / 'aliases.toml'}: aliases point at missing tags {unknown}")
    return Material(
        templates=_tiers(common, "templates", where),
        anchors=_tiers(common, "anchors", where),
        transitions=_tiers(common, "transitions", where),
        voice=_tiers(common, "voice", where),
        openers=_tiers(common, "openers", where),
        endings=_tiers(common, "endings", where),
        plain_words={k: _strings(plain_words, k, where) for k in plain_words},
        misspellings={str(k): str(v) for k, v in misspellings.items()},
        aliases={str(k).lower(): str(v) for k, v in aliases.items()},
        scenes=scenes,
    )


def tags_for(prompt: Prompt, material: Material, limit: int = 2) -> tuple[str, ...]:
    """Material tags for a prompt: its tags count most, then title words, then text words."""
    scores: dict[str, float] = {}
    sources: Sequence[tuple[Sequence[str], float]] = (
        (prompt.tags, 3.0),
        (_WORD.findall(prompt.title), 2.0),
        (_WORD.findall(prompt.text), 1.0),
    )
    for words, weight in sources:
        for word in words:
            tag = material.aliases.get(word.lower())
            if tag is None and word.lower() in material.scenes and word.lower() != "generic":
                tag = word.lower()
            if tag is not None:
                scores[tag] = scores.get(tag, 0.0) + weight
    ranked = sorted(scores, key=lambda t: (-scores[t], t))
    return tuple(ranked[:limit]) or ("generic",)


_NOT_NOUNS = frozenset(
    [
        "alone",
        "empty",
        "broken",
        "abandoned",
        "floating",
        "flying",
        "dark",
        "cold",
        "hot",
        "old",
        "new",
        "big",
        "small",
        "strange",
        "quiet",
        "lonely",
        "talk",
        "adventure",
        "summer",
        "winter",
        "night",
        "dawn",
        "sunset",
        "sunrise",
    ]
)


def prompt_nouns(prompt: Prompt) -> tuple[str, ...]:
    """Tags that read as things: no -ed/-ing/-ly words, no hyphens, no known adjectives."""
    out: list[str] = []
    for tag in prompt.tags:
        word = tag.strip().lower()
        last = word.split()[-1] if word else ""
        if (
            not word
            or "-" in word
            or last.endswith(("ed", "ing", "ly"))
            or word in _NOT_NOUNS
            or not all(part.isalpha() for part in word.split())
        ):
            continue
        out.append(word)
    return tuple(dict.fromkeys(out))


def scene_for(prompt: Prompt, material: Material) -> Scene:
    parts = [material.scenes[t] for t in tags_for(prompt, material)]
    if len(parts) == 1:
        return parts[0]

    def tiers(attr: str) -> dict[str, tuple[str, ...]]:
        return {t: tuple(x for p in parts for x in getattr(p, attr)[t]) for t in TIERS}

    return Scene(
        name="+".join(p.name for p in parts),
        titles=tuple(x for p in parts for x in p.titles),
        adjs=tiers("adjs"),
        places=tuple(x for p in parts for x in p.places),
        sounds=tuple(x for p in parts for x in p.sounds),
        smells=tuple(x for p in parts for x in p.smells),
        things=tuple(x for p in parts for x in p.things),
        sentences=tiers("sentences"),
        openers=tiers("openers"),
        endings=tiers("endings"),
    )


# -- composing ----------------------------------------------------------------------------------


def _capitalise(sentence: str) -> str:
    for i, ch in enumerate(sentence):
        if ch.isalpha():
            return sentence[:i] + ch.upper() + sentence[i + 1 :]
    return sentence


def _decapitalise(sentence: str) -> str:
    """Lower the first letter unless the first word is "I" (or I'm, I've…) or a name."""
    first = sentence.split(" ", 1)[0].strip("\"'")
    if first == "I" or first.startswith("I'") or (first[:1].isupper() and first[1:2].isupper()):
        return sentence
    if first in ("Dad", "Mum", "Mom", "Grandma", "Grandpa", "Pepper", "Coach", "Mr.", "Earth"):
        return sentence
    return sentence[:1].lower() + sentence[1:]


def _articles(sentence: str) -> str:
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", sentence)


def _words(text: str) -> int:
    return len(text.split())


class _Composer:
    def __init__(self, prompt: Prompt, skill: float, rng: random.Random, material: Material):
        self.prompt = prompt
        self.s = skill
        self.rng = rng
        self.m = material
        self.scene = scene_for(prompt, material)
        # Templates take their adjectives, places and sounds from the thing's own tag.
        self.parts = [material.scenes[t] for t in tags_for(prompt, material)]
        self.used: set[str] = set()
        self.last_thing: tuple[Scene, Thing] | None = None
        self.nouns = prompt_nouns(prompt)

    def tier(self) -> str:
        s = self.s
        return self.rng.choices(TIERS, weights=((1 - s) ** 2, 2 * s * (1 - s), s * s))[0]

    def pick(self, options: Sequence[str]) -> str:
        """A fresh option when possible; weaker writers repeat themselves more."""
        rng = self.rng
        fresh = [o for o in options if o not in self.used]
        if fresh and rng.random() > 0.35 * (1 - self.s):
            choice = rng.choice(fresh)
        else:
            choice = rng.choice(list(options))
        self.used.add(choice)
        return choice

    def thing(self) -> tuple[Scene, Thing]:
        if self.last_thing is not None and self.rng.random() < 0.6 * (1 - self.s):
            return self.last_thing
        scene = self.rng.choice(self.parts)
        self.last_thing = (scene, self.rng.choice(scene.things))
        return self.last_thing

    def template(self, tier: str) -> str:
        rng = self.rng
        scene, thing = self.thing()
        if tier == "plain":
            noun, acts = thing.noun, thing.acts
        elif tier == "mid":
            noun = thing.rich if rng.random() < 0.5 else thing.noun
            acts = thing.rich_acts if rng.random() < 0.5 else thing.acts
        else:
            noun, acts = thing.rich, thing.rich_acts
        adjs = list(scene.adjs[tier])
        rng.shuffle(adjs)
        adj_iter = iter(adjs * 2)
        text = self.pick(self.m.templates[tier])
        text = re.sub(r"\{adj\}", lambda _: next(adj_iter), text)
        filled = text.format(
            noun=noun,
            act=rng.choice(acts),
            place=rng.choice(scene.places),
            sound=rng.choice(scene.sounds),
            smell=rng.choice(scene.smells),
        )
        return _capitalise(_articles(filled))

    def anchor(self, tier: str) -> str:
        """A sentence about one of the prompt's own things."""
        kw, kw2 = (self.rng.sample(self.nouns, 2) if len(self.nouns) > 1 else self.nouns * 2)[:2]
        return self.pick(self.m.anchors[tier]).format(kw=kw, kw2=kw2)

    def body_sentence(self) -> str:
        tier = self.tier()
        roll = self.rng.random()
        if roll < 0.08 + 0.12 * self.s:
            return self.pick(self.m.voice[tier])
        if roll < 0.25 and self.nouns:
            return self.anchor(tier)
        if roll < 0.6:
            return self.pick(self.scene.sentences[tier])
        return self.template(tier)

    def opener(self) -> str:
        tier = self.tier()
        pool = self.scene.openers[tier] + (self.m.openers[tier] if self.s < 0.5 else ())
        return self.pick(pool)

    def ending(self) -> str:
        tier = self.tier()
        return self.pick(self.scene.endings[tier] + self.m.endings[tier])

    def transition(self, sentence: str) -> str:
        if "," in " ".join(sentence.split()[:4]):
            return sentence  # already opens with a phrase; a second one reads badly
        word = self.rng.choice(self.m.transitions[self.tier()])
        return f"{word} {_decapitalise(sentence)}"

    def restated_picture(self) -> str | None:
        desc = self.prompt.image_description.strip()
        if not desc:
            return None
        first = re.split(r"(?<=[.!?])\s", desc, maxsplit=1)[0].rstrip(".!? ")
        return f"In the picture, {_decapitalise(first)}."

    def compose(self, target_words: int) -> list[list[str]]:
        rng, s = self.rng, self.s
        paragraphs_wanted = 1 + round(2 * s + rng.uniform(-0.45, 0.45))
        paragraphs_wanted = max(1, min(3, paragraphs_wanted, 1 + target_words // 30))
        shares = {1: (1.0,), 2: (0.5, 0.5), 3: (0.3, 0.45, 0.25)}[paragraphs_wanted]
        wants_ending = rng.random() < 0.25 + 0.75 * s
        paragraphs: list[list[str]] = []
        total = 0
        for index, share in enumerate(shares):
            quota = max(6, round(target_words * share))
            last = index == len(shares) - 1
            sentences: list[str] = []
            if index == 0:
                if rng.random() < 0.45 * (1 - s) ** 1.5:
                    restated = self.restated_picture()
                    if restated:
                        sentences.append(restated)
                if rng.random() < 0.3 + 0.7 * s:
                    sentences.append(self.opener())
            elif rng.random() < 0.3 + 0.6 * s:
                sentences.append(self.transition(self.body_sentence()))
            ending = self.ending() if last and wants_ending else ""
            room = quota - _words(ending)
            while sum(_words(x) for x in sentences) < room and total < target_words + 8:
                sentence = self.body_sentence()
                if sentences and rng.random() < 0.15:
                    sentence = self.transition(sentence)
                if sentences and sum(_words(x) for x in sentences) + _words(sentence) > room + 5:
                    break
                sentences.append(sentence)
                total += _words(sentence)
            if ending:
                sentences.append(ending)
            if sentences:
                paragraphs.append(sentences)
        return paragraphs


# -- mistakes -----------------------------------------------------------------------------------


def _misspell(word: str, rng: random.Random, material: Material) -> str:
    known = material.misspellings.get(word.lower())
    if known:
        return known[:1].upper() + known[1:] if word[:1].isupper() else known
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.4 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped letters
    if op < 0.75:
        return word[:i] + word[i + 1 :]  # dropped letter
    return word[:i] + word[i] + word[i:]  # doubled letter


def _roughen(sentence: str, s: float, rng: random.Random, material: Material) -> str:
    e = (1 - s) ** 2
    sentence = _WORD.sub(
        lambda m: (
            _misspell(m.group(), rng, material)
            if rng.random() < (0.35 if m.group().lower() in material.misspellings else 0.1) * e
            else m.group()
        ),
        sentence,
    )
    if rng.random() < 0.6 * e:
        sentence = re.sub(r"\bI\b(?!')", "i", sentence)
    if rng.random() < 0.5 * e:
        sentence = sentence.replace(", ", " ")
    if rng.random() < 0.5 * e and sentence.split(" ", 1)[0] != "I":
        sentence = sentence[:1].lower() + sentence[1:]
    return sentence


def _join(sentences: list[str], s: float, rng: random.Random) -> str:
    e = (1 - s) ** 2
    out = ""
    for i, sentence in enumerate(sentences):
        if i == 0:
            out = sentence
        elif rng.random() < 0.35 * e and out.endswith("."):
            glue = rng.choice([" and ", " and then ", ", ", " "])
            out = out[:-1] + glue + _decapitalise(sentence)
        else:
            out += " " + sentence
    return out


def compose_text(
    prompt: Prompt, skill: float, target_words: int, rng: random.Random, material: Material
) -> str:
    s = clamp(skill)
    composer = _Composer(prompt, s, rng, material)
    paragraphs = composer.compose(target_words)
    blocks = [
        _join([_roughen(x, s, rng, material) for x in sentences], s, rng)
        for sentences in paragraphs
    ]
    if blocks and blocks[-1].endswith(".") and rng.random() < 0.4 * (1 - s) ** 2:
        blocks[-1] = blocks[-1][:-1]
    if s > 0.55 and rng.random() < (s - 0.55) * 2.0:
        blocks.insert(0, rng.choice(composer.scene.titles))
    return "\n\n".join(blocks)


# -- the engine ---------------------------------------------------------------------------------


def write_piece_sync(req: BotPieceRequest, material: Material | None = None) -> BotPiece:
    """Compose a piece and its typing timeline; the same request gives the same piece."""
    mat = material or load_material()
    s = clamp(req.skill)
    rng = random.Random(f"bot-writer|{req.seed}|{req.prompt.id}|{s:.4f}")
    text = compose_text(req.prompt, s, word_budget(s, req.seconds_allowed), rng, mat)
    timeline = typing_timeline(text, s, req.seconds_allowed, rng)
    return BotPiece(text=text, timeline=timeline, engine="offline")


class OfflineBotWriter:
    """:class:`~server.ai.types.BotWriter` from the material in ``content/bots/``."""

    def __init__(self, material: Material | None = None) -> None:
        self.material = material or load_material()

    async def write_piece(self, req: BotPieceRequest) -> BotPiece:
        return write_piece_sync(req, self.material)

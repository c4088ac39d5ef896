"""Loading the repository's ``content/`` folder: prompts, rubrics, tutor notes, word lists, eval set.

Every loader takes an optional ``root`` (the content folder); by default it is the
``content/`` folder next to the ``server`` package.  Files are read once per root and cached;
the loaders return fresh containers, so callers may modify what they get.  A malformed file
raises :class:`ContentError` naming the file and the entry.

Layout::

    content/prompts/prompts.toml   [[prompt]] id, title, text, tags, image_description,
                                   focus, level, image, licence  (+ the SVG files)
    content/rubrics/<trait>.toml   trait, name, summary, look_for, [descriptors] "1".."6"
    content/tutor/*.toml           [[entry]] id, title, trait?, keywords, text
    content/moderation/*.txt       one entry per line, # comments
    content/eval/pieces.toml       [[piece]] id, prompt, quality, level?, text
    content/eval/reviews.toml      [[pair]] id, piece, kind, good = {…}, poor = {…}
    content/eval/teacher.toml      [[prompt]] id, title, text, alt_text?;
                                   [[piece]] id, prompt, quality, expect, text | piece
    content/topics/related.toml    [related] topic word = "related words …"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import server
from server.ai.types import Level, Prompt, Trait
from server.errors import QuillError

CONTENT_DIR = Path(server.__file__).resolve().parent.parent / "content"
"""The repository's content folder."""

_LEVELS: tuple[str, ...] = get_args(Level)


class ContentError(QuillError):
    """A content file is missing or malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Rubric:
    """One trait's rubric: what it is about and a descriptor for each level 1..6."""

    trait: Trait
    name: str
    summary: str
    look_for: tuple[str, ...]
    descriptors: tuple[str, str, str, str, str, str]

    def descriptor(self, level: int) -> str:
        """The descriptor for ``level`` (clamped into 1..6)."""
        return self.descriptors[max(1, min(6, level)) - 1]


@dataclass(frozen=True, slots=True)
class TutorEntry:
    """One short answer in the tutor's knowledge base."""

    id: str
    title: str
    text: str
    keywords: tuple[str, ...] = ()
    trait: Trait | None = None


@dataclass(frozen=True, slots=True)
class ModerationLists:
    """The moderation word lists (see content/moderation/README.md)."""

    profanity: tuple[str, ...]
    slurs: tuple[str, ...]
    insults: tuple[str, ...]
    harassment: tuple[str, ...]
    self_harm: tuple[str, ...]
    allowlist: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EvalPiece:
    """A piece written for the evaluation, with the quality its author intended (1..6)."""

    id: str
    prompt_id: str
    quality: int
    text: str
    level: Level = "middle"


@dataclass(frozen=True, slots=True)
class EvalReview:
    strength: str
    suggestion: str
    rating: int


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """A good and a poor review of the same evaluation piece."""

    id: str
    piece_id: str
    kind: str
    good: EvalReview
    poor: EvalReview


def content_dir(root: Path | str | None = None) -> Path:
    """The content folder to read: ``root`` if given, else :data:`CONTENT_DIR`."""
    return Path(root).resolve() if root is not None else CONTENT_DIR


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ContentError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{path}: {exc}") from exc


def _str(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ContentError(f"{where}: '{key}' must be a non-empty string")
    return value


def _str_tuple(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _trait(value: object, where: str) -> Trait:
    try:
        return Trait(str(value))
    except ValueError as exc:
        raise ContentError(f"{where}: unknown trait {value!r}") from exc


def _level(value: object, where: str) -> Level:
    if value not in _LEVELS:
        raise ContentError(f"{where}: level must be one of {', '.join(_LEVELS)}")
    level: Level = value  # type: ignore[assignment]
    return level


# --- prompts -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _prompts(root: Path) -> tuple[Prompt, ...]:
    path = root / "prompts" / "prompts.toml"
    data = _read_toml(path)
    prompts: list[Prompt] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("prompt", [])):
        where = f"{path} prompt #{i + 1}"
        pid = _str(entry, "id", where)
        where = f"{path} prompt {pid!r}"
        if pid in seen:
            raise ContentError(f"{where}: duplicate id")
        seen.add(pid)
        image = _str(entry, "image", where)
        if not (root / "prompts" / image).is_file():
            raise ContentError(f"{where}: image {image!r} not found")
        _str(entry, "licence", where)
        prompts.append(
            Prompt(
                id=pid,
                title=_str(entry, "title", where),
                text=_str(entry, "text", where),
                tags=_str_tuple(entry, "tags", where),
                image_description=_str(entry, "image_description", where),
                focus=_trait(entry.get("focus", "ideas"), where),
                level=_level(entry.get("level", "middle"), where),
                image=image,
            )
        )
    if not prompts:
        raise ContentError(f"{path}: no [[prompt]] entries")
    return tuple(prompts)


def load_prompts(root: Path | str | None = None) -> dict[str, Prompt]:
    """All prompts by id, in file order."""
    return {p.id: p for p in _prompts(content_dir(root))}


def prompt_image_path(prompt: Prompt, root: Path | str | None = None) -> Path:
    """Where a prompt's image file lives."""
    return content_dir(root) / "prompts" / prompt.image


# --- rubrics -------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _rubrics(root: Path) -> tuple[Rubric, ...]:
    rubrics: list[Rubric] = []
    for trait in Trait:
        path = root / "rubrics" / f"{trait.value}.toml"
        data = _read_toml(path)
        where = str(path)
        if _trait(data.get("trait"), where) is not trait:
            raise ContentError(f"{where}: 'trait' must be {trait.value!r}")
        raw = data.get("descriptors")
        if not isinstance(raw, dict):
            raise ContentError(f"{where}: missing [descriptors]")
        descriptors = []
        for level in range(1, 7):
            text = raw.get(str(level))
            if not isinstance(text, str) or not text.strip():
                raise ContentError(f"{where}: descriptor {level} missing")
            descriptors.append(text)
        rubrics.append(
            Rubric(
                trait=trait,
                name=_str(data, "name", where),
                summary=_str(data, "summary", where),
                look_for=_str_tuple(data, "look_for", where),
                descriptors=(
                    descriptors[0],
                    descriptors[1],
                    descriptors[2],
                    descriptors[3],
                    descriptors[4],
                    descriptors[5],
                ),
            )
        )
    return tuple(rubrics)


def load_rubrics(root: Path | str | None = None) -> dict[Trait, Rubric]:
    """One rubric per trait."""
    return {r.trait: r for r in _rubrics(content_dir(root))}


# --- tutor ---------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _tutor_entries(root: Path) -> tuple[TutorEntry, ...]:
    folder = root / "tutor"
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ContentError(f"{folder}: no .toml files")
    entries: list[TutorEntry] = []
    seen: set[str] = set()
    for path in files:
        for i, entry in enumerate(_read_toml(path).get("entry", [])):
            where = f"{path} entry #{i + 1}"
            eid = _str(entry, "id", where)
            if eid in seen:
                raise ContentError(f"{where}: duplicate id {eid!r}")
            seen.add(eid)
            trait = entry.get("trait")
            entries.append(
                TutorEntry(
                    id=eid,
                    title=_str(entry, "title", where),
                    text=_str(entry, "text", where),
                    keywords=_str_tuple(entry, "keywords", where),
                    trait=_trait(trait, where) if trait is not None else None,
                )
            )
    return tuple(entries)


def load_tutor_entries(root: Path | str | None = None) -> tuple[TutorEntry, ...]:
    """The tutor's knowledge base, in file order."""
    return _tutor_entries(content_dir(root))


# --- moderation ----------------------------------------------------------------------------


def _read_list(path: Path) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ContentError(f"{path}: file not found") from exc
    entries = (line.split("#", 1)[0].strip().lower() for line in lines)
    return tuple(e for e in entries if e)


@lru_cache(maxsize=8)
def _moderation_lists(root: Path) -> ModerationLists:
    folder = root / "moderation"
    return ModerationLists(
        profanity=_read_list(folder / "profanity.txt"),
        slurs=_read_list(folder / "slurs.txt"),
        insults=_read_list(folder / "insults.txt"),
        harassment=_read_list(folder / "harassment.txt"),
        self_harm=_read_list(folder / "self_harm.txt"),
        allowlist=_read_list(folder / "allowlist.txt"),
    )


def load_moderation_lists(root: Path | str | None = None) -> ModerationLists:
    """The moderation word lists."""
    return _moderation_lists(content_dir(root))


# --- evaluation set ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _eval_pieces(root: Path) -> tuple[EvalPiece, ...]:
    path = root / "eval" / "pieces.toml"
    prompts = {p.id for p in _prompts(root)}
    pieces: list[EvalPiece] = []
    seen: set[str] = set()
    for i, entry in enumerate(_read_toml(path).get("piece", [])):
        where = f"{path} piece #{i + 1}"
        pid = _str(entry, "id", where)
        if pid in seen:
            raise ContentError(f"{where}: duplicate id {pid!r}")
        seen.add(pid)
        prompt_id = _str(entry, "prompt", where)
        if prompt_id not in prompts:
            raise ContentError(f"{where}: unknown prompt {prompt_id!r}")
        quality = entry.get("quality")
        if not isinstance(quality, int) or not 1 <= quality <= 6:
            raise ContentError(f"{where}: quality must be an integer 1..6")
        pieces.append(
            EvalPiece(
                id=pid,
                prompt_id=prompt_id,
                quality=quality,
                text=_str(entry, "text", where),
                level=_level(entry.get("level", "middle"), where),
            )
        )
    return tuple(pieces)


def load_eval_pieces(root: Path | str | None = None) -> tuple[EvalPiece, ...]:
    """The evaluation pieces, in file order."""
    return _eval_pieces(content_dir(root))


def _review(entry: object, where: str) -> EvalReview:
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: must be a table with strength, suggestion, rating")
    rating = entry.get("rating")
    if not isinstance(rating, int) or not 1 <= rating <= 6:
        raise ContentError(f"{where}: rating must be an integer 1..6")
    return EvalReview(
        strength=_str(entry, "strength", where),
        suggestion=_str(entry, "suggestion", where),
        rating=rating,
    )


@lru_cache(maxsize=8)
def _review_pairs(root: Path) -> tuple[ReviewPair, ...]:
    path = root / "eval" / "reviews.toml"
    pieces = {p.id for p in _eval_pieces(root)}
    pairs: list[ReviewPair] = []
    for i, entry in enumerate(_read_toml(path).get("pair", [])):
        where = f"{path} pair #{i + 1}"
        piece_id = _str(entry, "piece", where)
        if piece_id not in pieces:
            raise ContentError(f"{where}: unknown piece {piece_id!r}")
        pairs.append(
            ReviewPair(
                id=_str(entry, "id", where),
                piece_id=piece_id,
                kind=_str(entry, "kind", where),
                good=_review(entry.get("good"), f"{where} good"),
                poor=_review(entry.get("poor"), f"{where} poor"),
            )
        )
    return tuple(pairs)


def load_review_pairs(root: Path | str | None = None) -> tuple[ReviewPair, ...]:
    """Good/poor review pairs for the review-judging evaluation."""
    return _review_pairs(content_dir(root))


# --- related words (relevance to prompts without tags) -------------------------------------


@lru_cache(maxsize=8)
def _related_words(root: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    path = root / "topics" / "related.toml"
    table = _read_toml(path).get("related")
    if not isinstance(table, dict) or not table:
        raise ContentError(f"{path}: a non-empty [related] table is required")
    entries: list[tuple[str, tuple[str, ...]]] = []
    for key, value in table.items():
        where = f"{path} related {key!r}"
        words = value.split() if isinstance(value, str) else None
        if not words or not all(w.isalpha() and w.islower() for w in [key, *words]):
            raise ContentError(f"{where}: must be lower-case words separated by spaces")
        entries.append((key, tuple(words)))
    return tuple(entries)


def load_related_words(root: Path | str | None = None) -> dict[str, tuple[str, ...]]:
    """Topic word -> the words a piece on that topic uses instead (``content/topics/``)."""
    return dict(_related_words(content_dir(root)))


# --- teacher-style prompts for the evaluation ----------------------------------------------

EXPECTATIONS: tuple[str, ...] = ("on_topic", "off_topic", "stuffed")
"""What a teacher-set piece should get against its prompt: ``on_topic`` pieces ideas 3 or
more, ``off_topic`` and ``stuffed`` (keywords sprinkled over another topic) 2 or less."""


@dataclass(frozen=True, slots=True)
class TeacherPiece:
    """A piece scored against a teacher's prompt, with what the score should say."""

    id: str
    prompt_id: str  # a prompt of content/eval/teacher.toml
    quality: int
    expect: str  # one of EXPECTATIONS
    text: str
    level: Level = "middle"


@dataclass(frozen=True, slots=True)
class TeacherSet:
    prompts: dict[str, Prompt]
    pieces: tuple[TeacherPiece, ...]


@lru_cache(maxsize=8)
def _teacher_set(root: Path) -> tuple[tuple[Prompt, ...], tuple[TeacherPiece, ...]]:
    path = root / "eval" / "teacher.toml"
    data = _read_toml(path)
    prompts: dict[str, Prompt] = {}
    for i, entry in enumerate(data.get("prompt", [])):
        where = f"{path} prompt #{i + 1}"
        pid = _str(entry, "id", where)
        if pid in prompts:
            raise ContentError(f"{where}: duplicate id {pid!r}")
        if "tags" in entry or "image_description" in entry:
            raise ContentError(f"{where}: a teacher's prompt has no tags or image description")
        prompts[pid] = Prompt(
            id=pid,
            title=_str(entry, "title", where, required=False),
            text=_str(entry, "text", where),
            alt_text=_str(entry, "alt_text", where, required=False),
            focus=_trait(entry.get("focus", "ideas"), where),
            level=_level(entry.get("level", "middle"), where),
        )
    reusable = {p.id: p for p in _eval_pieces(root)}
    pieces: list[TeacherPiece] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("piece", [])):
        where = f"{path} piece #{i + 1}"
        pid = _str(entry, "id", where)
        if pid in seen:
            raise ContentError(f"{where}: duplicate id {pid!r}")
        seen.add(pid)
        prompt_id = _str(entry, "prompt", where)
        if prompt_id not in prompts:
            raise ContentError(f"{where}: unknown prompt {prompt_id!r}")
        expect = _str(entry, "expect", where)
        if expect not in EXPECTATIONS:
            raise ContentError(f"{where}: expect must be one of {', '.join(EXPECTATIONS)}")
        source = entry.get("piece")
        if source is not None:  # a piece of pieces.toml, scored against this prompt
            if source not in reusable:
                raise ContentError(f"{where}: unknown piece {source!r}")
            base = reusable[source]
            text, quality, level = base.text, base.quality, base.level
        else:
            text = _str(entry, "text", where)
            quality = entry.get("quality")
            if not isinstance(quality, int) or not 1 <= quality <= 6:
                raise ContentError(f"{where}: quality must be an integer 1..6")
            level = _level(entry.get("level", "middle"), where)
        pieces.append(TeacherPiece(pid, prompt_id, quality, expect, text, level))
    if not prompts or not pieces:
        raise ContentError(f"{path}: needs [[prompt]] and [[piece]] entries")
    return tuple(prompts.values()), tuple(pieces)


def load_teacher_set(root: Path | str | None = None) -> TeacherSet:
    """Teacher-style prompts (no tags, no image description) and pieces to score against them."""
    prompts, pieces = _teacher_set(content_dir(root))
    return TeacherSet(prompts={p.id: p for p in prompts}, pieces=pieces)

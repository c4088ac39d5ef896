"""The replay document of a match log: keyframes, per-seat edits, phases, reviews, scores.

Pure: no I/O.  :func:`build_core` reads a match log once (the records of
``server/game/match.py``) into a :class:`Core` that does not depend on who watches;
:func:`project` turns a core into the document one viewer gets (names, hidden seats,
keyframe spacing thinned to fit a size bound).  :func:`seek` is the reference seek of
docs/replays.md: what a client does with the document to show any moment.

Times are the server's own times (Unix seconds, float64, exactly as in the log), so that a
seek compares the same numbers as :func:`server.game.replay.drafts_at` on the raw log.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.game.assign import make_aliases
from server.game.draft import EditRecord, apply_ops
from server.game.replay import Log, seat_edits
from server.types import PlayerId

FORMAT = "quill.replay"
VERSION = 1
KEYFRAME_OVERHEAD = 16  # bytes a keyframe costs besides its texts (estimate)

Edit = list[Any]  # [at, seq, ops | None, snapshot | None, paste]; ops = [[pos, delete, insert]]


@dataclass(frozen=True, slots=True)
class Keyframe:
    at: float
    texts: tuple[str, ...]  # per seat
    next: tuple[int, ...]  # per seat: the index of its first edit after ``at``

    @property
    def size(self) -> int:
        return KEYFRAME_OVERHEAD + sum(len(t.encode()) + 8 for t in self.texts)


@dataclass(frozen=True, slots=True)
class Core:
    """A match log read once, for every viewer (cached for finished matches)."""

    match_id: str
    ranked: bool
    focus: str
    prompt: dict[str, str]
    start: float
    end: float
    players: tuple[PlayerId, ...]
    bots: tuple[bool, ...]
    aliases: tuple[str, ...]  # the seed's aliases
    shown: tuple[str, ...]  # what the match called each seat (lobby names or aliases)
    edits: tuple[tuple[Edit, ...], ...]  # per seat
    keyframe_seconds: float
    keyframes: tuple[Keyframe, ...]
    phases: tuple[dict[str, Any], ...]
    results_at: float | None
    provisional: bool
    scores: tuple[dict[str, Any], ...]  # per seat, by player id ("player" key)
    reviews: tuple[dict[str, Any], ...]  # shown reviews: writer (player id), texts, rating
    withheld: tuple[bool, ...]  # per seat: a non-empty piece withheld by moderation
    edits_size: int  # bytes the edits take, roughly (for the size bound and the cache)

    @property
    def finished(self) -> bool:
        return self.results_at is not None

    @property
    def size(self) -> int:
        return self.edits_size + sum(k.size for k in self.keyframes)


def _edit(e: EditRecord) -> Edit:
    ops = None if e.ops is None else [[o.pos, o.delete, o.insert] for o in e.ops]
    return [e.at, e.seq, ops, e.snapshot, e.paste]


def _edit_size(e: EditRecord) -> int:
    if e.snapshot is not None:
        return 40 + len(e.snapshot.encode())
    return 30 + sum(12 + len(o.insert.encode()) for o in e.ops or ())


def keyframes(
    edits: Sequence[Sequence[EditRecord]], start: float, every: float
) -> tuple[Keyframe, ...]:
    """A keyframe at ``start + k * every`` for k = 0, 1, … up to the first one after the
    last edit: each seat's text with every edit at or before that time applied."""
    last = max((e[-1].at for e in edits if e), default=None)
    count = 1 if last is None else int((last - start) // every) + 2
    texts = [""] * len(edits)
    index = [0] * len(edits)
    out = []
    for k in range(count):
        at = start + k * every
        for s, seat in enumerate(edits):
            i, text = index[s], texts[s]
            while i < len(seat) and seat[i].at <= at:
                e = seat[i]
                if e.snapshot is not None:
                    text = e.snapshot
                else:
                    applied = apply_ops(text, e.ops or ())
                    if applied is None:
                        raise ValueError(f"edit log is inconsistent at seq {e.seq}")
                    text = applied
                i += 1
            index[s], texts[s] = i, text
        out.append(Keyframe(at, tuple(texts), tuple(index)))
    return tuple(out)


def prompt_of(config: Mapping[str, Any]) -> dict[str, str]:
    """The prompt of a match config (its create record) as watchers see it."""
    prompt = config["prompt"]
    return {
        "id": str(prompt.get("id", "")),
        "title": str(prompt.get("title", "")),
        "text": str(prompt.get("text", "")),
        "image": str(prompt.get("image", "")),
        "image_description": str(prompt.get("image_description", "")),
    }


def focus_of(config: Mapping[str, Any]) -> str:
    return str(config.get("focus") or config["prompt"].get("focus") or "ideas")


def seat_names(config: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each seat's alias (from the seed) and what the match called it (a lobby's names,
    else the alias)."""
    players = [str(s["player"]) for s in config["seats"]]
    aliases = make_aliases([PlayerId(p) for p in players], config["seed"])
    names = list(config.get("names") or ())
    shown = tuple(
        (names[i] if i < len(names) and names[i] else aliases[PlayerId(p)])
        for i, p in enumerate(players)
    )
    return tuple(aliases[PlayerId(p)] for p in players), shown


def build_core(log: Log, keyframe_seconds: float, upto: float | None = None) -> Core:
    """Read ``log`` (only its records at or before ``upto`` when given: a running match
    seen with a delay) into a :class:`Core`."""
    if not log or log[0]["k"] != "create":
        raise ValueError("a match log starts with its create record")
    if upto is not None:
        log = [r for r in log if r["at"] <= upto]
    first = log[0]
    config = first["d"]["config"]
    start = float(first["at"])
    seats = config["seats"]
    players = tuple(PlayerId(s["player"]) for s in seats)
    aliases, shown = seat_names(config)
    by_player = seat_edits(log)
    seat_list = [by_player.get(p, []) for p in players]
    lobby_seconds = config.get("settings", {}).get("lobby_seconds")
    phases: list[dict[str, Any]] = [  # a match is created in the lobby: no record says so
        {
            "at": start,
            "phase": "lobby",
            "deadline": None if lobby_seconds is None else start + lobby_seconds,
        }
    ]
    results: Mapping[str, Any] | None = None
    results_at: float | None = None
    for rec in log:
        if rec["k"] == "phase":
            d = rec["d"]
            phases.append({"at": rec["at"], "phase": d["phase"], "deadline": d.get("deadline")})
        elif rec["k"] == "results":
            results, results_at = rec["d"], float(rec["at"])
    scores, reviews, withheld, provisional = read_results(results, players)
    return Core(
        match_id=str(config["match_id"]),
        ranked=bool(config.get("ranked", True)),
        focus=focus_of(config),
        prompt=prompt_of(config),
        start=start,
        end=float(upto) if upto is not None else float(log[-1]["at"]),
        players=players,
        bots=tuple(bool(s.get("is_bot")) for s in seats),
        aliases=aliases,
        shown=shown,
        edits=tuple(tuple(_edit(e) for e in seat) for seat in seat_list),
        keyframe_seconds=keyframe_seconds,
        keyframes=keyframes(seat_list, start, keyframe_seconds),
        phases=tuple(phases),
        results_at=results_at,
        provisional=provisional,
        scores=tuple(scores),
        reviews=tuple(reviews),
        withheld=tuple(withheld),
        edits_size=sum(_edit_size(e) for seat in seat_list for e in seat),
    )


def read_results(
    results: Mapping[str, Any] | None, players: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[bool], bool]:
    """A ``results`` record read for watchers: per-seat scores and the reviews the writers
    were shown (by player id), which seats' pieces moderation withheld, provisional."""
    scores: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    withheld = [False] * len(players)
    if results is None:
        return scores, reviews, withheld, False
    index = {p: i for i, p in enumerate(players)}
    for s in results["seats"]:
        ps = s.get("piece_score")
        if s.get("withheld") and not s.get("empty") and s["player"] in index:
            withheld[index[s["player"]]] = True
        scores.append(
            {
                "player": s["player"],
                "rank": s["rank"],
                "score": s["score"],
                "writing": s["writing"],
                "review": s["review"],
                "words": s["words"],
                "empty": s["empty"],
                "overall": None if ps is None else ps["overall"],
                "traits": {} if ps is None else {str(k): v for k, v in ps["traits"].items()},
            }
        )
    for r in results["reviews"]:
        if r.get("withheld"):
            continue  # the writer never saw it
        reviews.append(
            {
                "writer": r["writer"],
                "strength": r["shown_strength"],
                "suggestion": r["shown_suggestion"],
                "rating": r["rating"],
            }
        )
    return scores, reviews, withheld, bool(results.get("provisional"))


@dataclass(frozen=True, slots=True)
class SeatView:
    """One seat as a viewer gets it (from ``server.access.watch``)."""

    alias: str
    name: str | None
    you: bool
    text: bool  # its keystrokes are shown


def stride_for(core: Core, max_bytes: int) -> int:
    """Take every ``stride``-th keyframe (1, 2, 4, …) so the document stays within
    ``max_bytes``; the edits themselves are never dropped (the first keyframe stays)."""
    stride = 1
    frames = core.keyframes
    while stride < len(frames):
        size = core.edits_size + sum(k.size for k in frames[::stride])
        if size <= max_bytes:
            break
        stride *= 2
    return stride


def project(
    core: Core, seats: Sequence[SeatView], *, status: str, max_bytes: int
) -> dict[str, Any]:
    """The document one viewer gets (docs/replays.md): seat names and hidden seats as
    ``seats`` says, keyframes thinned to fit ``max_bytes``."""
    hidden = [not s.text for s in seats]
    stride = stride_for(core, max_bytes)
    frames = core.keyframes[::stride]
    seat_of = {p: i for i, p in enumerate(core.players)}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "match_id": core.match_id,
        "status": status,
        "ranked": core.ranked,
        "focus": core.focus,
        "prompt": core.prompt,
        "start": core.start,
        "end": core.end,
        "keyframe_seconds": core.keyframe_seconds * stride,
        "seats": [
            {
                "seat": i,
                "alias": v.alias,
                "name": v.name,
                "bot": core.bots[i],
                "you": v.you,
                "text_shown": v.text,
            }
            for i, v in enumerate(seats)
        ],
        "phases": list(core.phases),
        "keyframes": [
            {
                "at": k.at,
                "texts": ["" if hidden[s] else t for s, t in enumerate(k.texts)],
                "next": [0 if hidden[s] else n for s, n in enumerate(k.next)],
            }
            for k in frames
        ],
        "edits": [[] if hidden[s] else list(e) for s, e in enumerate(core.edits)],
        "reviews": None,
        "scores": None,
    }
    if core.results_at is not None:
        doc["reviews"] = {
            "at": core.results_at,
            "items": [
                {
                    "writer": seat_of[r["writer"]],
                    "strength": r["strength"],
                    "suggestion": r["suggestion"],
                    "rating": r["rating"],
                }
                for r in core.reviews
                if r["writer"] in seat_of and not hidden[seat_of[r["writer"]]]
            ],
        }
        doc["scores"] = {
            "at": core.results_at,
            "provisional": core.provisional,
            "seats": sorted(
                (
                    {"seat": seat_of[s["player"]], **{k: v for k, v in s.items() if k != "player"}}
                    for s in core.scores
                    if s["player"] in seat_of
                ),
                key=lambda x: x["seat"],
            ),
        }
    return doc


def seek(doc: Mapping[str, Any], at: float) -> list[str]:
    """Every seat's text at server time ``at`` from a replay document (docs/replays.md):
    the last keyframe at or before ``at``, then that seat's edits up to ``at``."""
    frames = doc["keyframes"]
    i = bisect.bisect_right([k["at"] for k in frames], at) - 1
    seats = len(doc["seats"])
    texts = list(frames[i]["texts"]) if i >= 0 else [""] * seats
    nexts = list(frames[i]["next"]) if i >= 0 else [0] * seats
    for s in range(seats):
        text = texts[s]
        for e in doc["edits"][s][nexts[s] :]:
            if e[0] > at:
                break
            if e[3] is not None:
                text = e[3]
            else:
                for pos, delete, insert in e[2]:
                    text = text[:pos] + insert + text[pos + delete :]
        texts[s] = text
    return texts

"""A match's spectator feed, read from its log records: pure, no I/O, no clock.

:class:`Transformer` turns log records (``server/game/match.py``) into the events of
``spectate.events`` (docs/protocol.md#spectator-events); it keeps each seat's draft the
way :func:`server.game.replay.seat_edits` does, so a spectator sees exactly the edits a
replay of the match holds.  :class:`View` is what spectators have been shown so far —
the fold of the events released to them — and draws ``spectate.state``.

Both are built from the match's ``create`` record; both are the same for every
spectator (names and hidden text are the viewer's, added by the caller).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from server.game.draft import apply_ops
from server.game.inputs import EditDraft, Leave, SubmitReview
from server.game.replay import EditFold
from server.protocol.client import EditOp
from server.replays.build import focus_of, prompt_of, read_results, seat_names

Event = dict[str, Any]


def _clock(phase: str, deadline: float | None, paused_at: float | None) -> dict[str, Any]:
    if paused_at is None:
        return {"phase": phase, "deadline": deadline, "paused": False, "remaining": None}
    remaining = None if deadline is None else max(0.0, deadline - paused_at)
    return {"phase": phase, "deadline": None, "paused": True, "remaining": remaining}


class Transformer:
    """Log records → spectator events, in log order (feed every record, once)."""

    def __init__(self, create: Mapping[str, Any], hidden: frozenset[int] = frozenset()) -> None:
        self.fold = EditFold(create)
        config = create["d"]["config"]
        self.players = [str(s["player"]) for s in config["seats"]]
        self.seat_of = {p: i for i, p in enumerate(self.players)}
        self.hidden = hidden  # seats whose text nobody is shown (a deleted account's)

    def events(self, rec: Mapping[str, Any]) -> list[Event]:
        kind, at = rec["k"], float(rec["at"])
        d = rec["d"]
        if kind == EditDraft.KIND:
            edit = self.fold.apply(rec)
            seat = self.seat_of.get(str(d["player"])) if edit is not None else None
            if edit is None or seat is None or seat in self.hidden:
                return []
            ops = None if edit.ops is None else [[o.pos, o.delete, o.insert] for o in edit.ops]
            return [
                {
                    "k": "edit",
                    "at": edit.at,
                    "seat": seat,
                    "ops": ops,
                    "snapshot": edit.snapshot,
                    "paste": edit.paste,
                }
            ]
        if rec.get("out"):
            if kind == "phase":
                return [{"k": "phase", "at": at, **_clock(d["phase"], d.get("deadline"), None)}]
            if kind == "clock":
                clock = _clock(d["phase"], d.get("deadline"), d.get("paused_at"))
                return [{"k": "phase", "at": at, **clock}]
            if kind == "results":
                return [self._results(d, at)]
            if kind == "closed":
                return [{"k": "closed", "at": at}]
            return []
        if kind in (Leave.KIND, SubmitReview.KIND):
            seat = self.seat_of.get(str(d.get("player")))
            if seat is None:
                return []
            return [{"k": "left" if kind == Leave.KIND else "reviewed", "at": at, "seat": seat}]
        return []

    def _results(self, d: Mapping[str, Any], at: float) -> Event:
        scores, reviews, withheld, provisional = read_results(d, self.players)
        seat_of = self.seat_of
        return {
            "k": "results",
            "at": at,
            "provisional": provisional,
            "scores": sorted(
                (
                    {"seat": seat_of[s["player"]], **{k: v for k, v in s.items() if k != "player"}}
                    for s in scores
                    if s["player"] in seat_of
                ),
                key=lambda x: x["seat"],
            ),
            "reviews": [
                {
                    "writer": seat_of[r["writer"]],
                    "strength": r["strength"],
                    "suggestion": r["suggestion"],
                    "rating": r["rating"],
                }
                for r in reviews
                if r["writer"] in seat_of and seat_of[r["writer"]] not in self.hidden
            ],
            # every withheld seat; each group of spectators turns it into its ``hide``
            "withheld": [i for i, w in enumerate(withheld) if w],
        }


def for_viewers(event: Event, sees_withheld: bool) -> Event:
    """The event as a group of spectators gets it: a results event says which seats'
    text to drop (``hide``) instead of which were withheld."""
    if event["k"] != "results":
        return event
    out = {k: v for k, v in event.items() if k != "withheld"}
    out["hide"] = [] if sees_withheld else list(event["withheld"])
    return out


class View:
    """What spectators have been shown: the fold of the events released to them."""

    def __init__(self, create: Mapping[str, Any]) -> None:
        config = create["d"]["config"]
        seats = config["seats"]
        self.match_id = str(config["match_id"])
        self.ranked = bool(config.get("ranked", True))
        self.focus = focus_of(config)
        self.prompt = prompt_of(config)
        self.start = float(create["at"])
        self.aliases, self.shown = seat_names(config)
        self.bots = tuple(bool(s.get("is_bot")) for s in seats)
        lobby_seconds = config.get("settings", {}).get("lobby_seconds")
        deadline = None if lobby_seconds is None else self.start + lobby_seconds
        self.clock = _clock("lobby", deadline, None)
        self.texts = [""] * len(seats)
        self.left = [False] * len(seats)
        self.reviews_given = [0] * len(seats)
        self.results: Event | None = None
        self.withheld: frozenset[int] = frozenset()
        self.closed = False

    def copy(self) -> View:
        return _copy_view(self)

    def apply(self, event: Event) -> None:
        kind = event["k"]
        if kind == "edit":
            seat = event["seat"]
            if event["snapshot"] is not None:
                self.texts[seat] = event["snapshot"]
            else:
                ops = (EditOp(pos=p, delete=n, insert=t) for p, n, t in event["ops"])
                text = apply_ops(self.texts[seat], ops)
                if text is None:  # the fold applied it to the same text: cannot happen
                    raise ValueError(f"spectator feed out of step at seat {seat}")
                self.texts[seat] = text
        elif kind == "phase":
            self.clock = {k: event[k] for k in ("phase", "deadline", "paused", "remaining")}
        elif kind == "left":
            self.left[event["seat"]] = True
        elif kind == "reviewed":
            self.reviews_given[event["seat"]] += 1
        elif kind == "results":
            self.results = {k: v for k, v in event.items() if k not in ("k", "withheld")}
            self.withheld = frozenset(event["withheld"])
        elif kind == "closed":
            self.closed = True

    def state(
        self,
        labels: Sequence[tuple[str, str | None]],
        visible: Sequence[bool],
        *,
        delay: float,
        at: float,
        spectators: int,
    ) -> dict[str, Any]:
        """``spectate.state`` for one viewer: each seat's ``(alias, name)`` and whether its
        text is shown to them (``visible``: not a deleted account's, not a withheld piece
        they may not see)."""
        results = self.results
        if results is not None:
            hide = sorted(i for i in self.withheld if not visible[i])
            results = {**results, "hide": hide}
        return {
            "match_id": self.match_id,
            "delay": delay,
            "at": at,
            "ranked": self.ranked,
            "focus": self.focus,
            "prompt": self.prompt,
            "start": self.start,
            **self.clock,
            "seats": [
                {
                    "seat": i,
                    "alias": labels[i][0],
                    "name": labels[i][1],
                    "bot": self.bots[i],
                    "text_shown": visible[i],
                    "text": self.texts[i] if visible[i] else "",
                    "left": self.left[i],
                    "reviews_given": self.reviews_given[i],
                }
                for i in range(len(self.texts))
            ],
            "results": results,
            "closed": self.closed,
            "spectators": spectators,
        }


def _copy_view(view: View) -> View:
    out = copy.copy(view)
    out.texts = list(view.texts)
    out.left = list(view.left)
    out.reviews_given = list(view.reviews_given)
    out.clock = dict(view.clock)
    return out

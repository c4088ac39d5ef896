"""A match played on the engine with a fake clock, with edits of every kind: inserts in
the middle, deletions, a paste, a gap answered with a snapshot, edits exactly on keyframe
boundaries and a burst between two of them."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import asyncpg

from server.game import EditDraft, MatchFinished, Persist, SeatSpec
from server.game.replay import seat_edits
from server.protocol.client import EditOp
from server.storage.matches import save_outcome, save_replay
from server.types import MatchId, PlayerId
from tests.game.helpers import T0, Driver, config

WORDS = [
    "the",
    "keeper",
    "climbed",
    "stairs",
    "while",
    "storm",
    "waves",
    "broke",
    "on",
    "dark",
    "rocks",
    "below",
]


def play(
    seats: Sequence[PlayerId],
    *,
    ranked: bool = True,
    names: Sequence[str] = (),
    edits: int = 40,
    seed: int = 3,
    blocked: Sequence[int] = (),
) -> Driver:
    """Play a whole match (closed); ``blocked``: seats whose piece moderation blocks."""
    specs = tuple(SeatSpec(p, is_bot=p.startswith("bot:")) for p in seats)
    cfg = replace(
        config(len(seats)),
        match_id=MatchId(str(uuid.uuid4())),
        seats=specs,
        ranked=ranked,
        names=tuple(names),
    )
    d = Driver.start(cfg)
    d.lobby()
    start = d.match.log[0]["at"]
    assert start == T0
    rng = random.Random(seed)
    texts = {p: "" for p in seats}
    for p in seats:
        if p.startswith("bot:"):
            continue
        # on a keyframe boundary (start + 10 s) exactly, just after, and a burst between
        d.now = start + 10.0
        _append(d, p, "On the boundary. ")
    for i in range(edits):
        for n, p in enumerate(seats):
            if p.startswith("bot:"):
                continue
            d.now = start + 10.0 + 0.37 * (i + 1) + 0.01 * n
            draft = d.match.seats[p].draft
            text = draft.text
            roll = rng.random()
            if roll < 0.2 and len(text) > 5:
                pos = rng.randrange(len(text) - 3)
                op = EditOp(pos=pos, insert="", delete=rng.randint(1, 3))
            elif roll < 0.35 and text:
                op = EditOp(pos=rng.randrange(len(text)), insert=rng.choice(WORDS) + " ")
            else:
                op = EditOp(pos=len(text), insert=rng.choice(WORDS) + " ")
            d.handle(EditDraft(p, draft.seq + 1, ops=(op,)))
    first = next(p for p in seats if not p.startswith("bot:"))
    d.now = start + 30.0
    d.write(first, " A pasted paragraph that is long enough to count as a paste. " * 2)
    draft = d.match.seats[first].draft
    d.now = start + 31.0
    d.handle(EditDraft(first, draft.seq + 5, ops=(EditOp(pos=0, insert="gap"),)))  # a gap
    d.now = start + 31.5
    d.handle(EditDraft(first, draft.seq + 6, snapshot=draft.text + " Rewritten after a gap."))
    for i in blocked:
        d.blocked.add(d.match.seats[seats[i]].draft.text)
    del texts
    d.advance(243)
    d.review_all()
    d.advance(40)
    return d


def _append(d: Driver, player: PlayerId, text: str) -> None:
    draft = d.match.seats[player].draft
    op = EditOp(pos=len(draft.text), insert=text)
    d.handle(EditDraft(player, draft.seq + 1, ops=(op,)))


def persisted(d: Driver) -> list[dict[str, Any]]:
    """The match log as the runner persisted it."""
    return [e.record for e in d.effects if isinstance(e, Persist)]


def independent_seek(doc: Mapping[str, Any], at: float) -> list[str]:
    """Seeking as docs/replays.md tells a client to, written from the document alone."""
    frame = None
    for k in doc["keyframes"]:
        if k["at"] <= at:
            frame = k
        else:
            break
    out = []
    for s, edits in enumerate(doc["edits"]):
        text, start = ("", 0) if frame is None else (frame["texts"][s], frame["next"][s])
        for at_, _seq, ops, snapshot, _paste in edits[start:]:
            if at_ > at:
                break
            if snapshot is not None:
                text = snapshot
            else:
                for pos, delete, insert in ops:
                    text = text[:pos] + insert + text[pos + delete :]
        out.append(text)
    return out


async def store(database: str, d: Driver) -> str:
    """Save the outcome and the replay of a played match as the runner does."""
    log = persisted(d)
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        mode = "ranked" if d.match.config.ranked else "practice"
        assert await save_outcome(
            pool, finished.outcome, node_id="n1", mode=mode, edits=seat_edits(log)
        )
        await save_replay(pool, d.match.config.match_id, log)
    finally:
        await pool.close()
    return str(d.match.config.match_id)

"""Seeking a replay document gives every piece as ``drafts_at`` gives it from the raw log."""

from __future__ import annotations

from typing import Any

import msgpack
import orjson
import pytest

from server.game.replay import drafts_at, seat_edits
from server.replays.build import SeatView, build_core, project, seek, stride_for
from server.types import PlayerId
from tests.replays.helpers import independent_seek, persisted, play

SEATS = [PlayerId(f"00000000-0000-4000-8000-00000000000{i}") for i in range(4)] + [
    PlayerId("bot:1")
]


def seconds(log: list[dict[str, Any]], every: float) -> list[float]:
    """Offsets to seek to: every half second, each keyframe boundary and a hair either
    side of it, every edit's own time and a hair either side of it."""
    start = float(log[0]["at"])
    end = float(log[-1]["at"])
    out = {start + 0.5 * i for i in range(int((end - start) / 0.5) + 2)}
    for k in range(int((end - start) // every) + 2):
        at = start + k * every
        out |= {at, at - 1e-6, at + 1e-6}
    for edits in seat_edits(log).values():
        for e in edits:
            out |= {e.at, e.at - 1e-6, e.at + 1e-6}
    out.add(start - 1.0)
    return sorted(out)


def views(n: int) -> list[SeatView]:
    return [SeatView(f"seat {i}", None, False, True) for i in range(n)]


@pytest.mark.parametrize("every", [1.0, 3.0, 10.0, 60.0])
def test_seeking_matches_drafts_at(every: float) -> None:
    log = persisted(play(SEATS))
    doc = project(build_core(log, every), views(len(SEATS)), status="finished", max_bytes=1 << 30)
    decoded = [orjson.loads(orjson.dumps(doc)), msgpack.unpackb(msgpack.packb(doc), raw=False)]
    times = seconds(log, every)
    assert len(times) > 500
    for at in times:
        expected = drafts_at(log, at)
        want = [expected.get(p, "") for p in SEATS]
        assert seek(doc, at) == want, at
        for d in decoded:
            assert independent_seek(d, at) == want, at


def test_keyframes_hold_the_text_at_their_time() -> None:
    log = persisted(play(SEATS))
    core = build_core(log, 10.0)
    assert core.keyframes[0].at == core.start
    assert all(t == "" for t in core.keyframes[0].texts)
    for k in core.keyframes:
        expected = drafts_at(log, k.at)
        assert list(k.texts) == [expected.get(p, "") for p in SEATS]
    last_edit = max(e[-1][0] for e in core.edits if e)
    assert core.keyframes[-1].at > last_edit  # the last keyframe is the final text
    assert core.keyframes[-2].at <= last_edit


def test_a_size_bound_thins_keyframes_and_keeps_every_edit() -> None:
    log = persisted(play(SEATS, edits=120))
    core = build_core(log, 1.0)
    full = project(core, views(len(SEATS)), status="finished", max_bytes=1 << 30)
    limit = core.edits_size + sum(k.size for k in core.keyframes) // 3
    stride = stride_for(core, limit)
    assert stride >= 4
    thin = project(core, views(len(SEATS)), status="finished", max_bytes=limit)
    assert thin["keyframe_seconds"] == stride * 1.0
    assert len(thin["keyframes"]) == len(full["keyframes"][::stride])
    assert thin["edits"] == full["edits"]
    for at in seconds(log, 1.0)[::7]:
        assert seek(thin, at) == seek(full, at)


def test_hidden_seats_have_no_text() -> None:
    log = persisted(play(SEATS))
    core = build_core(log, 10.0)
    seats = views(len(SEATS))
    seats[1] = SeatView("seat 1", None, False, False)
    doc = project(core, seats, status="finished", max_bytes=1 << 30)
    assert doc["edits"][1] == []
    assert all(k["texts"][1] == "" and k["next"][1] == 0 for k in doc["keyframes"])
    assert all(r["writer"] != 1 for r in doc["reviews"]["items"])
    assert seek(doc, core.end)[1] == ""


def test_a_running_match_is_cut_at_the_delay() -> None:
    log = persisted(play(SEATS))
    start = float(log[0]["at"])
    upto = start + 20.0
    core = build_core(log, 10.0, upto=upto)
    assert core.end == upto and core.results_at is None
    doc = project(core, views(len(SEATS)), status="running", max_bytes=1 << 30)
    assert doc["reviews"] is None and doc["scores"] is None
    assert all(e[0] <= upto for seat in doc["edits"] for e in seat)
    assert [p["phase"] for p in doc["phases"]] == ["lobby", "write"]
    expected = drafts_at(log, upto)
    assert seek(doc, upto + 100) == [expected.get(p, "") for p in SEATS]

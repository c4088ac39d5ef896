"""The spectator feed read from a match log (pure): what spectators are shown at any
moment is what a replay of the same log shows, whatever the delay and however the log
arrives (all at once as a backfill, or record by record)."""

from __future__ import annotations

from typing import Any

import pytest

from server.game.inputs import Extend, Pause, Resume
from server.game.replay import drafts_at
from server.spectate.feed import Transformer, View, for_viewers
from server.spectate.room import Backfill
from server.types import PlayerId
from tests.replays.helpers import persisted, play

SEATS = [PlayerId(f"p{i}") for i in range(3)] + [PlayerId("bot:1")]


@pytest.fixture(scope="module")
def log() -> list[dict[str, Any]]:
    return persisted(play(SEATS))


def fold(log: list[dict[str, Any]], upto: float) -> View:
    transformer, view = Transformer(log[0]), View(log[0])
    for rec in log:
        for event in transformer.events(rec):
            if event["at"] <= upto:
                view.apply(event)
    return view


def test_every_moment_matches_the_replay(log: list[dict[str, Any]]) -> None:
    start, end = log[0]["at"], log[-1]["at"]
    moments = [start + i * (end - start) / 97 for i in range(98)]
    for at in moments:
        view = fold(log, at)
        drafts = drafts_at(log, at)
        assert view.texts == [drafts[p] for p in SEATS], at


def test_events_come_in_time_order_with_the_documented_fields(
    log: list[dict[str, Any]],
) -> None:
    transformer = Transformer(log[0])
    events = [e for rec in log for e in transformer.events(rec)]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    fields = {
        "edit": {"k", "at", "seat", "ops", "snapshot", "paste"},
        "phase": {"k", "at", "phase", "deadline", "paused", "remaining"},
        "reviewed": {"k", "at", "seat"},
        "left": {"k", "at", "seat"},
        "results": {"k", "at", "provisional", "scores", "reviews", "withheld"},
        "closed": {"k", "at"},
    }
    for e in events:
        assert set(e) == fields[e["k"]], e
    kinds = [e["k"] for e in events]
    assert kinds.count("results") == 1 and kinds[-1] == "closed"
    # reviews are only in the results, which come once the feedback phase has ended
    results = next(e for e in events if e["k"] == "results")
    feedback_over = next(
        e["at"] for e in events if e["k"] == "phase" and e["phase"] in ("scoring", "results")
    )
    assert results["at"] >= feedback_over
    assert results["reviews"], "the reviews the writers were shown"
    assert any(e["paste"] for e in events if e["k"] == "edit")
    assert any(e["snapshot"] is not None for e in events if e["k"] == "edit")
    assert not any(e["k"] == "edit" and e["seat"] == 3 for e in events)  # the bot wrote none


def test_a_backfill_then_records_equals_one_fold(log: list[dict[str, Any]]) -> None:
    """A room made mid-match: the log so far at once, then the rest record by record."""
    delay = 30.0
    for cut in (1, len(log) // 3, len(log) // 2, len(log) - 1):
        now = log[cut - 1]["at"]
        backfill = Backfill.read(log[:cut], frozenset(), delay, now)
        assert all(e["at"] + delay > now for e in backfill.held)
        view = backfill.view
        events = list(backfill.held)
        for rec in log[cut:]:
            events.extend(backfill.transformer.events(rec))
        for e in events:
            view.apply(e)
        assert view.texts == fold(log, log[-1]["at"]).texts
        assert view.closed and view.results is not None


def test_hidden_seats_get_no_edits_and_no_reviews(log: list[dict[str, Any]]) -> None:
    transformer = Transformer(log[0], hidden=frozenset({1}))
    events = [e for rec in log for e in transformer.events(rec)]
    assert not any(e["k"] == "edit" and e["seat"] == 1 for e in events)
    results = next(e for e in events if e["k"] == "results")
    assert all(r["writer"] != 1 for r in results["reviews"])


def test_withheld_pieces_are_hidden_only_from_those_who_may_not_see_them() -> None:
    log = persisted(play(SEATS, blocked=[0]))
    transformer = Transformer(log[0])
    results = next(e for rec in log for e in transformer.events(rec) if e["k"] == "results")
    assert results["withheld"] == [0]
    assert for_viewers(results, sees_withheld=False)["hide"] == [0]
    assert for_viewers(results, sees_withheld=True)["hide"] == []
    assert "withheld" not in for_viewers(results, sees_withheld=False)
    view = fold(log, log[-1]["at"])
    labels = [("a", None)] * 4
    state = view.state(labels, [False, True, True, True], delay=0, at=0, spectators=1)
    assert state["seats"][0]["text"] == "" and not state["seats"][0]["text_shown"]
    assert state["results"]["hide"] == [0]
    assert state["seats"][1]["text"] == view.texts[1] != ""


def test_pause_resume_and_extend_reach_spectators_as_phase_events() -> None:
    d = play_until_write()
    at = d.now
    d.handle(Pause())
    d.now += 5
    d.handle(Resume())
    d.now += 1
    d.handle(Extend(30.0))
    log = persisted(d)
    transformer = Transformer(log[0])
    clocks = [
        e for rec in log for e in transformer.events(rec) if e["k"] == "phase" and e["at"] >= at
    ]
    paused, resumed, extended = clocks[-3:]
    assert paused["paused"] and paused["deadline"] is None and paused["remaining"] > 0
    assert not resumed["paused"] and resumed["remaining"] is None
    assert resumed["deadline"] == pytest.approx(resumed["at"] + paused["remaining"])
    assert extended["deadline"] == pytest.approx(resumed["deadline"] + 30.0)
    view = fold(log, log[-1]["at"])
    assert view.clock["deadline"] == extended["deadline"]


def play_until_write() -> Any:
    from tests.game.helpers import Driver, config

    d = Driver.start(config(3))
    d.lobby()
    d.advance(5)
    return d

"""Table tests of the load test's pure parts: percentiles, histograms, scenarios, typing,
and a simulated player's bookkeeping between rounds."""

from __future__ import annotations

import random
from pathlib import Path

import aiohttp
import pytest

from loadtest.__main__ import cpus, loopback
from loadtest.player import Context, Player
from loadtest.scenario import ScenarioError, load, parse
from loadtest.stats import Histogram, Tally, bucket, percentile
from loadtest.typist import Op, Typist, apply


@pytest.mark.parametrize(
    ("values", "q", "want"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 99, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 75, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 76, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([float(i) for i in range(1, 101)], 95, 95.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, want: float | None) -> None:
    assert percentile(values, q) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [(0.0, 0.0), (0.04, 0.0), (3.27, 3.3), (9.96, 10.0), (12.34, 12.3), (123.4, 123.0),
     (1234.5, 1230.0), (98765.0, 98800.0), (-3.27, -3.3), (-42.0, -42.0)],
)  # fmt: skip
def test_bucket(value: float, want: float) -> None:
    assert bucket(value) == want


def test_histogram_matches_exact_percentiles_within_a_bucket() -> None:
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(2.0, 1.0) for _ in range(5000))
    h = Histogram()
    for v in values:
        h.add(v)
    for q in (50, 95, 99):
        exact = percentile(values, q)
        assert exact is not None
        got = h.percentile(q)
        assert got == bucket(exact)
    assert h.max == values[-1]
    assert h.n == 5000


def test_histograms_and_tallies_merge_across_the_process_boundary() -> None:
    a, b = Tally(), Tally()
    for v in (1.0, 2.0, 3.0):
        a.hist["ack_ms"].add(v)
    b.hist["ack_ms"].add(100.0)
    a.errors["bad_value"] += 1
    b.errors["bad_value"] += 2
    a.completed.add("m1")
    b.closed |= {"m1", "m2"}
    b.expected.add(("m1", "p1"))
    merged = Tally()
    merged.merge_dump(a.dump())
    merged.merge_dump(b.dump())
    assert merged.hist["ack_ms"].n == 4
    assert merged.hist["ack_ms"].max == 100.0
    assert merged.hist["ack_ms"].percentile(50) == 2.0
    assert merged.errors == {"bad_value": 3}
    assert merged.aborted == {"m2"}
    assert merged.expected == {("m1", "p1")}


def test_the_shipped_scenarios_parse() -> None:
    smoke = load("smoke")
    assert smoke.queue == "quickplay"
    assert smoke.env()["QUILL_MATCH__WRITE_SECONDS"] == "8.0"
    default = load("default")
    assert default.queue == "ranked"
    assert default.env()["QUILL_MATCHMAKER__BOT_FILL_AFTER_SECONDS"] == "10.0"
    assert set(default.typing) == {"type", "pause", "correct", "insert_middle"}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"queue": "casual"}, "x.queue: 'casual' is not one of"),
        ({"drop_share": 1.5}, "x.drop_share: 1.5 is outside 0..1"),
        ({"msgpack_share": "half"}, "x.msgpack_share: expected a number"),
        ({"ramp_up_seconds": -1}, "x.ramp_up_seconds: -1 is outside"),
        ({"typing": {"type": 1, "dance": 1}}, "x.typing.dance: unknown key"),
        ({"typing": {"pause": 1}}, "x.typing.type: must be above 0"),
        ({"match": {"write_seconds": True}}, "x.match.write_seconds: expected a number"),
        ({"match": 3}, "x.match: expected a table"),
        ({"players": 10}, "x.players: unknown key"),
    ],
)
def test_bad_scenarios_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse("x", table)


def test_unknown_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("[a]\nqueue = 'ranked'\n")
    assert load("a", path).queue == "ranked"
    with pytest.raises(ScenarioError, match="no scenario 'b'"):
        load("b", path)


@pytest.mark.parametrize(
    ("text", "ops", "want"),
    [
        ("", [Op(0, insert="a😀b")], "a😀b"),
        ("a😀b", [Op(2, insert="c")], "a😀cb"),  # code points: b is at 2
        ("a😀b", [Op(1, delete=1)], "ab"),
        ("hello", [Op(1, delete=3, insert="ipp")], "hippo"),
        ("ab", [Op(2, insert="c"), Op(0, delete=1)], "bc"),
    ],
)
def test_apply_counts_code_points(text: str, ops: list[Op], want: str) -> None:
    assert apply(text, ops) == want


@pytest.mark.parametrize("ops", [[Op(3, insert="x")], [Op(1, delete=2)], [Op(-1)]])
def test_apply_refuses_ops_past_the_text(ops: list[Op]) -> None:
    with pytest.raises(ValueError, match="reaches past"):
        apply("ab", ops)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_typist_edits_replay_to_its_text(seed: int) -> None:
    weights = {"type": 0.7, "pause": 0.1, "correct": 0.15, "insert_middle": 0.05}
    typist = Typist(random.Random(seed), weights)
    replay, delays = "", []
    kinds: set[str] = set()
    for _ in range(300):
        delay, ops = typist.step()
        assert ops
        delays.append(delay)
        for op in ops:
            assert 0 <= op.pos <= len(replay) and op.pos + op.delete <= len(replay)
            kinds.add("delete" if op.delete else "end" if op.pos == len(replay) else "middle")
            replay = apply(replay, [op])
        assert replay.strip(), "once something is written the draft never goes blank"
        wire = [op.wire() for op in ops]
        assert all(set(w) <= {"pos", "delete", "insert"} and len(w) >= 2 for w in wire)
    assert replay == typist.text
    assert kinds == {"delete", "end", "middle"}
    assert 0.3 <= min(delays) < 0.6  # bursts
    assert max(delays) > 2.0  # pauses
    assert 0.8 < sorted(delays)[len(delays) // 2] < 1.4  # about one edit a second


def test_typist_is_reproducible_with_a_seed() -> None:
    weights = {"type": 1.0}
    a, b = Typist(random.Random(5), weights), Typist(random.Random(5), weights)
    assert [a.step() for _ in range(50)] == [b.step() for _ in range(50)]


@pytest.mark.parametrize(
    ("text", "want"),
    [(None, None), ("", None), ("1", (1,)), ("0,2", (0, 2)), ("0-3", (0, 1, 2, 3))],
)
def test_cpus(text: str | None, want: tuple[int, ...] | None) -> None:
    assert cpus(text) == want


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://127.8.9.1:1/", "http://localhost:80", "http://[::1]:8080"],
)
def test_loopback_targets_are_accepted(url: str) -> None:
    assert loopback(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:8080",
        "http://example.com",
        "ftp://127.0.0.1",
        "http://[::2]:1",
        "127.0.0.1",
    ],
)
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="--target must"):
        loopback(url)


async def test_a_player_who_queued_again_ignores_the_last_matchs_end() -> None:
    """The last match's closing and ``match.saved`` can arrive after the player queued
    again; taken for the new round's end, they made it queue twice (``already_queued``)."""
    async with aiohttp.ClientSession() as http:
        ctx = Context(
            base_urls=("http://127.0.0.1:9",),
            scenario=load("default"),
            tally=Tally(),
            http=http,
            stop_at=0.0,
            hard_stop=0.0,
        )
        player = Player(ctx, 0, random.Random(1))
        closed = {"match_id": "m-old", "phase": "closed", "reason": "closed", "deadline": None}
        await player.on_match_phase(closed)
        await player.on_saved({"match_id": "m-old", "saved": True})
        assert not player.done
        player.match_id = "m-new"
        await player.on_saved({"match_id": "m-old", "saved": True})
        assert not player.done
        await player.on_saved({"match_id": "m-new", "saved": True})
        assert player.done and not ctx.tally.errors

"""Pure parts of the bots: timeline grouping, backoff, drafts, pacing, tokens, the wire."""

from __future__ import annotations

import random

import pytest

from bots.backoff import Backoff
from bots.draft import DraftSync
from bots.pace import Pace
from bots.timeline import TimedEdit, continue_after, debounce, text_after
from bots.tokens import BOT_ROLE, BotTokens
from bots.wire import WireError, decode_event, socket_url
from server.accounts.tokens import TokenError, TokenSigner
from server.ai.content import load_prompts
from server.ai.offline.bot_writer import write_piece_sync
from server.ai.types import BotPieceRequest, TypingEvent
from server.protocol import Codec, Message, encode_event
from server.protocol import events as ev
from server.protocol.client import MAX_OPS, EditOp

# --- timeline grouping ---------------------------------------------------------------------


def typed(*times: float) -> list[TypingEvent]:
    """One-letter inserts at the given times (each after the text so far)."""
    return [TypingEvent(at=t, pos=i, insert="x") for i, t in enumerate(times)]


@pytest.mark.parametrize(
    ("times", "quiet", "max_wait", "expected"),
    [
        ((), 0.5, 2.0, []),
        ((1.0,), 0.5, 2.0, [(1.5, 1)]),
        # A burst, a silence longer than quiet, another burst.
        ((1.0, 1.2, 1.4, 3.0, 3.1), 0.5, 2.0, [(1.9, 3), (3.6, 2)]),
        # Exactly quiet apart: the first edit is due as the next key lands.
        ((1.0, 1.5), 0.5, 2.0, [(1.5, 1), (2.0, 1)]),
        # Steady typing never quiet: max_wait cuts it.
        ((0.0, 0.3, 0.6, 0.9, 1.2, 1.5), 0.5, 1.0, [(1.0, 4), (2.0, 2)]),
        # No debounce at all: one edit per event, sent when typed.
        ((0.0, 0.1, 0.2), 0.0, 0.0, [(0.0, 1), (0.1, 1), (0.2, 1)]),
    ],
)
def test_debounce_table(
    times: tuple[float, ...],
    quiet: float,
    max_wait: float,
    expected: list[tuple[float, int]],
) -> None:
    edits = debounce(typed(*times), quiet, max_wait)
    assert [(round(e.at, 6), len(e.ops)) for e in edits] == expected


def test_debounce_never_sends_more_than_max_ops() -> None:
    events = typed(*[i * 0.001 for i in range(MAX_OPS * 2 + 5)])
    edits = debounce(events, quiet=10.0, max_wait=10.0)
    assert [len(e.ops) for e in edits] == [MAX_OPS, MAX_OPS, 5]
    assert text_after(edits) == "x" * (MAX_OPS * 2 + 5)


@pytest.mark.parametrize("skill", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("seconds", [4.0, 240.0])
def test_debounced_writer_timeline_rebuilds_the_piece(skill: float, seconds: float) -> None:
    prompt = sorted(load_prompts().values(), key=lambda p: p.id)[0]
    piece = write_piece_sync(BotPieceRequest(prompt, skill, seconds, seed=11))
    edits = debounce(piece.timeline)
    assert text_after(edits) == piece.text
    assert [e.at for e in edits] == sorted(e.at for e in edits)
    # An edit never goes out before the keystrokes in it, and is not a paste.
    ops_at = iter(event.at for event in piece.timeline)
    for edit in edits:
        for op in edit.ops:
            assert next(ops_at) <= edit.at
            assert len(op.insert) < 60
    assert len(edits) > 1


@pytest.mark.parametrize(
    ("existing", "expected"),
    [("", "abc"), ("Hello", "Hello abc"), ("Hello ", "Hello abc"), ("Hi\n", "Hi\nabc")],
)
def test_continue_after_types_behind_existing_text(existing: str, expected: str) -> None:
    plan = [
        TimedEdit(1.0, (EditOp(pos=0, insert="ab"),)),
        TimedEdit(2.0, (EditOp(pos=2, insert="c"),)),
    ]
    assert text_after(continue_after(plan, existing), existing) == expected


# --- backoff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "draw", "pause"),
    [
        (0, 0.0, 0.25),
        (0, 0.5, 0.1875),
        (1, 0.0, 0.5),
        (2, 0.5, 0.75),
        (3, 0.0, 2.0),
        (4, 0.0, 2.0),  # capped
        (9, 1.0, 1.0),  # capped, full draw of half jitter
    ],
)
def test_backoff_table(attempt: int, draw: float, pause: float) -> None:
    backoff = Backoff(first=0.25, factor=2.0, cap=2.0, attempts=10, jitter=0.5)
    assert backoff.pause(attempt, draw) == pytest.approx(pause)


def test_backoff_schedule_is_bounded_and_jittered() -> None:
    backoff = Backoff(first=0.1, factor=2.0, cap=1.0, attempts=6, jitter=0.5)
    pauses = list(backoff.delays(random.Random(3)))
    assert len(pauses) == 6
    for k, pause in enumerate(pauses):
        assert backoff.base(k) * 0.5 <= pause <= backoff.base(k)
    assert pauses != list(
        Backoff(first=0.1, factor=2.0, cap=1.0, attempts=6, jitter=0).delays(random.Random(3))
    )


@pytest.mark.parametrize(
    "kwargs", [{"first": -1.0}, {"factor": 0.5}, {"attempts": 0}, {"jitter": 1.5}]
)
def test_backoff_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]


# --- the draft ---------------------------------------------------------------------------------


def op(pos: int, insert: str = "", delete: int = 0) -> tuple[EditOp, ...]:
    return (EditOp(pos=pos, insert=insert, delete=delete),)


def test_draft_numbers_edits_and_forgets_acked_ones() -> None:
    d = DraftSync()
    first = d.type(op(0, "The keeper"))
    second = d.type(op(10, " climbed."))
    assert (first.seq, second.seq, d.text) == (1, 2, "The keeper climbed.")
    d.acked(1)
    assert [p.seq for p in d.pending] == [2]
    d.acked(2)
    assert d.pending == [] and d.acked_seq == 2


def test_rebase_adopts_the_server_draft_when_the_bot_never_typed() -> None:
    d = DraftSync()
    assert d.rebase(7, "Someone started this.") is None
    assert (d.text, d.seq, d.touched) == ("Someone started this.", 7, False)
    assert d.type(op(21, " Then more.")).seq == 8


def test_rebase_with_equal_text_carries_on_from_the_server_seq() -> None:
    d = DraftSync()
    d.type(op(0, "ab"))
    d.type(op(2, "c"))
    d.type(op(2, "", delete=1))  # typed and taken back: text "ab" again
    assert d.rebase(1, "ab") is None
    assert (d.seq, d.pending) == (1, [])


def test_rebase_resends_unacked_edits_as_one_edit_after_the_server_seq() -> None:
    d = DraftSync()
    d.type(op(0, "The keeper"))
    d.type(op(10, " climbed"))
    d.type(op(18, " the stairs."))
    d.acked(1)
    edit = d.rebase(1, "The keeper")
    assert edit is not None and edit.seq == 2 and edit.snapshot is None
    assert edit.ops == (*op(10, " climbed"), *op(18, " the stairs."))
    assert d.text == "The keeper climbed the stairs."
    assert d.type(op(0, "")).seq == 3  # the next edit follows on


def test_rebase_falls_back_to_a_snapshot_numbered_above_everything() -> None:
    d = DraftSync()
    d.type(op(0, "mine"))
    d.type(op(4, " too"))
    edit = d.rebase(5, "something else")
    assert edit is not None and edit.ops is None
    assert edit.snapshot == "mine too" and edit.seq == 6


def test_snapshot_request_and_stalled_edits() -> None:
    d = DraftSync()
    pending = d.type(op(0, "abc"))
    assert not d.stalled(10.0, 1.0)  # never sent
    d.sent(pending, 10.0)
    assert not d.stalled(10.5, 1.0) and d.stalled(11.0, 1.0)
    assert not d.snapshot_in_flight()
    snap = d.snapshot(at_least=4)
    assert (snap.seq, snap.snapshot, [p.seq for p in d.pending]) == (5, "abc", [5])
    assert d.snapshot_in_flight()  # later requests for the same divergence are not re-answered
    d.acked(5)
    assert not d.snapshot_in_flight()


def test_type_refuses_ops_outside_the_text() -> None:
    with pytest.raises(ValueError):
        DraftSync().type(op(3, "x"))


# --- pace ------------------------------------------------------------------------------------------


def test_reviews_take_human_time_within_the_phase() -> None:
    pace = Pace(jitter=0.0, review_floor=4.0, review_share=0.5)
    slow = pace.review_seconds(words=120, review_chars=150, skill=0.0)
    fast = pace.review_seconds(words=120, review_chars=150, skill=1.0)
    assert slow > fast > 30.0  # reading and typing a review is not instant
    rng = random.Random(1)
    # Human time when it fits; never later than k/n of half the phase.
    assert pace.review_times([10.0, 10.0], feedback_left=120.0, rng=rng) == [10.0, 20.0]
    assert pace.review_times([fast, fast], feedback_left=120.0, rng=rng) == [30.0, 60.0]
    short = pace.review_times([fast, fast, fast], feedback_left=6.0, rng=rng)
    assert short == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]
    assert pace.review_times([0.5, 0.5], None, rng) == [4.0, 8.0]  # never sooner than the floor


def test_ready_delay_fits_the_lobby() -> None:
    pace = Pace(ready=(5.0, 5.0), ready_share=0.4)
    rng = random.Random(0)
    assert pace.ready_delay(None, rng) == 5.0
    assert pace.ready_delay(2.0, rng) == pytest.approx(0.8)


# --- tokens -------------------------------------------------------------------------------------


def test_minted_token_verifies_as_a_bot() -> None:
    signer = TokenSigner(b"k" * 32)
    tokens = BotTokens(signer, ttl=60, clock=lambda: 1_000.0)
    token = tokens.mint("bot:7")
    claims = signer.verify(token, 1_059.0)
    assert claims.user_id == "bot:7" and claims.role == BOT_ROLE == "bot"
    assert claims.guest is False
    assert (claims.issued_at, claims.expires_at) == (1_000, 1_060)
    assert claims.session_id != signer.verify(tokens.mint("bot:7"), 1_001.0).session_id
    with pytest.raises(TokenError) as expired:
        signer.verify(token, 1_060.0)
    assert expired.value.code == "token_expired"
    with pytest.raises(TokenError) as forged:
        TokenSigner(b"o" * 32).verify(token, 1_001.0)
    assert forged.value.code == "invalid_token"


async def test_token_source_mints_a_fresh_token_each_time() -> None:
    now = [1_000.0]
    tokens = BotTokens(TokenSigner(b"k" * 32), ttl=60, clock=lambda: now[0])
    source = tokens.source("bot:3")
    first = await source()
    now[0] += 120
    second = await source()
    assert TokenSigner(b"k" * 32).verify(second, now[0]).user_id == "bot:3"
    assert first != second


# --- the wire ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "token", "url"),
    [
        ("http://127.0.0.1:8080", None, "ws://127.0.0.1:8080/ws"),
        ("https://node-2.quill.example/", "a.b+c", "wss://node-2.quill.example/ws?token=a.b%2Bc"),
        ("ws://node:81/ws", "t", "ws://node:81/ws?token=t"),
        ("wss://node/base", None, "wss://node/base/ws"),
    ],
)
def test_socket_url_table(given: str, token: str | None, url: str) -> None:
    assert socket_url(given, token) == url


def test_socket_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError):
        socket_url("ftp://node")


STATE = ev.MatchState(
    match_id="m1",
    phase="feedback",
    deadline=1_700_000_240_000,
    remaining_ms=140_000,
    paused=False,
    you="Coral Crane",
    ranked=True,
    seats=(
        ev.SeatView(alias="Coral Crane", you=True, connected=True, ready=True, left=False, words=3),
    ),
    prompt=ev.PromptView(
        id="lighthouse",
        title="The Lighthouse",
        text="Describe it.",
        image="l.jpg",
        image_description="A lighthouse.",
        focus="voice",
        tags=("sea",),
    ),
    draft=ev.DraftView(seq=3, text="The old keeper", locked=True),
    assignments=(ev.AssignmentView(assignment_id="a1", alias="Hidden Seal", text="Glass."),),
    results=ev.MatchResults(
        match_id="m1",
        focus="voice",
        ranked=True,
        provisional=False,
        ranking=(
            ev.ResultRow(
                alias="Coral Crane",
                rank=1,
                score=4.5,
                writing=4.4,
                review=5.0,
                traits={"voice": 5, "ideas": 4},
                words=3,
                empty=False,
                left=False,
                provisional=False,
                rating=ev.RatingView(
                    mu_before=25.0,
                    sigma_before=8.3,
                    mu_after=27.0,
                    sigma_after=7.9,
                    display_before=0.1,
                    display_after=3.3,
                ),
            ),
        ),
    ),
)


@pytest.mark.parametrize("codec", list(Codec))
@pytest.mark.parametrize(
    "event",
    [
        STATE,
        ev.MatchProgress(words={"Coral Crane": 3, "Hidden Seal": 0}),
        ev.Ack(id=4, seq=None),
        ev.ErrorEvent(code="bad_seat", message="no", ref=2),
        ev.DraftSnapshotNeeded(have_seq=2, reason="gap"),
    ],
)
def test_decode_event_round_trips_what_the_server_encodes(codec: Codec, event: Message) -> None:
    assert decode_event(encode_event(event, codec, 1_700_000_000_000), codec) == event


def test_decode_event_is_lenient_with_the_new_and_strict_with_the_broken() -> None:
    newer = '{"t": "ack", "ts": 1, "d": {"id": 3, "seq": 1, "extra": true}}'
    assert decode_event(newer, Codec.JSON) == ev.Ack(id=3, seq=1)
    assert decode_event('{"t": "match.confetti", "ts": 1, "d": {}}', Codec.JSON) is None
    for bad in ('{"t": "ack", "d": {}}', '{"t": "ack", "d": {"id": "3"}}', "[1]", "{not json"):
        with pytest.raises(WireError):
            decode_event(bad, Codec.JSON)
    with pytest.raises(WireError):
        decode_event(b"\x93\x01", Codec.JSON)

"""The text rule over real sockets: refused text is ``bad_value`` and play goes on; a match
played with the worst *accepted* text is saved in PostgreSQL exactly as sent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.config import Settings
from server.game.draft import word_count
from server.http.state import REALTIME
from server.protocol import Codec
from server.text import is_acceptable
from tests.realtime.client import Client
from tests.realtime.helpers import (
    FAST,
    fetch,
    http_for,
    no_matches,
    replay_stored,
    running_node,
)
from tests.realtime.players import Player

DRAFT_CHARS = 4000  # small enough that a whole draft of astral characters fits one frame

ODDITIES = [
    "\tTab-led line,\ttabs inside.\n",
    "Emoji 😀🫠, a ZWJ family 👩\u200d👩\u200d👧, a flag 🏳️\u200d🌈, skin tone 👋🏽.\n",
    "Combining: e\u0301 a\u0300\u0301\u0302\u0303\u0304 (stacked), n\u0303.\n",
    "Bidi: \u202eright-to-left override\u202c, isolates \u2067שלום\u2069, marks \u200f\u200e.\n",
    "Zero width: a\u200bb\u200cc\u200dd\u2060e\ufeff, soft\u00adhyphen, no\u00a0break.\n",
    "Private use \ue000\uf8ff\U000f0000\U0010fffd, replacement \ufffd, max scalar-ish.\n",
    "Astral 𝒜𝔅𝕮 𓀀 𠀋, CJK 中文没有空格, Arabic مرحبا, Devanagari नमस्ते.\n",
    "Separators \u2028line\u2029paragraph, variation \u2764\ufe0f, tags \U0001f3f4\U000e0067\U000e0062\U000e007f.\n",
    "  leading and trailing spaces stay  \n",
]


def worst_text(length: int) -> str:
    """Every accepted oddity, repeated to exactly ``length`` code points."""
    base = "".join(ODDITIES)
    text = (base * (length // len(base) + 1))[:length]
    assert is_acceptable(text) and len(text) == length
    return text


async def refusal(client: Client, ref: int) -> dict[str, Any]:
    """The ``error`` answering envelope ``ref`` (and no ack for it)."""
    event = await client.wait("error", lambda d: d["ref"] == ref)
    assert client.find("ack", lambda d: d["id"] == ref) is None
    data: dict[str, Any] = event["d"]
    return data


async def refused_with_bad_value(client: Client, t: str, d: dict[str, Any], path: str) -> None:
    ref = await client.send(t, d)
    error = await refusal(client, ref)
    assert (error["code"], error["path"]) == ("bad_value", path), error
    assert " U+" in error["message"]  # names the character


@pytest.mark.parametrize("codec", [Codec.JSON, Codec.MSGPACK])
async def test_refused_text_and_a_match_of_worst_accepted_text(
    settings: Settings, database: str, redis_url: str, codec: Codec
) -> None:
    settings = settings.replace(
        match={**FAST, "write_seconds": 5.0, "feedback_seconds": 8.0},
        limits={"draft_chars": DRAFT_CHARS},
    )
    async with running_node(settings, database, redis_url) as node:
        user = await http_for(node).register()
        human = Player("human", user.id, user.token, node.url, codec)
        await human.connect()
        c = human.c
        # Tokens are strings like any other: a control character is refused, not looked up.
        await refused_with_bad_value(
            c, "session.resume", {"session_token": "st\x00x"}, "d.session_token"
        )
        await refused_with_bad_value(c, "match.join", {"seat_token": "seat\r"}, "d.seat_token")

        await c.send("match.quickplay")
        matched = (await c.wait("queue.status"))["d"]
        assert matched["status"] == "matched"
        state = await human.join(matched["seat_token"])
        me = state["you"]
        await human.ready()
        await c.wait("match.phase", lambda d: d["phase"] == "write")

        # (a) U+0000 and CR in a snapshot and in an op insert: bad_value, nothing changes.
        for bad in ("A\x00B", "line\r\nend"):
            await refused_with_bad_value(c, "draft.edit", {"seq": 1, "snapshot": bad}, "d.snapshot")
            await refused_with_bad_value(
                c,
                "draft.edit",
                {"seq": 1, "ops": [{"pos": 0, "insert": bad}]},
                "d.ops[0].insert",
            )
        # ... and the socket and the match go on: seq 1 was not used up by the refusals.
        first = "".join(ODDITIES)
        ref = await c.send("draft.edit", {"seq": 1, "ops": [{"pos": 0, "insert": first}]})
        assert (await c.ack(ref))["d"]["seq"] == 1

        # (b) The worst accepted text, at the maximum length, as a snapshot ...
        text = worst_text(DRAFT_CHARS)
        ref = await c.send("draft.edit", {"seq": 2, "snapshot": text})
        assert (await c.ack(ref))["d"]["seq"] == 2
        # ... then ops that keep it at the maximum: replace the last characters.
        tail = "👩\u200d👩\u200d👧\u202e\ufffd\U0010fffd\t\n"
        ops = [{"pos": DRAFT_CHARS - len(tail), "delete": len(tail), "insert": tail}]
        ref = await c.send("draft.edit", {"seq": 3, "ops": ops})
        assert (await c.ack(ref))["d"]["seq"] == 3
        text = text[: DRAFT_CHARS - len(tail)] + tail
        # One more character is over the limit (the engine's refusal; seq 4 stays free).
        ref = await c.send("draft.edit", {"seq": 4, "ops": [{"pos": 0, "insert": "x"}]})
        assert (await refusal(c, ref))["code"] == "draft_too_long"

        # Reviews: refused with a control character, accepted with every oddity.
        assignments = (await c.wait("review.assignments"))["d"]["assignments"]
        assert assignments, "the human has pieces to review"
        a0 = assignments[0]["assignment_id"]
        good = {"assignment_id": a0, "rating": 4}
        await refused_with_bad_value(
            c,
            "review.submit",
            {**good, "strength": "Nice\x00", "suggestion": "More."},
            "d.strength",
        )
        await refused_with_bad_value(
            c,
            "review.submit",
            {**good, "strength": "Nice.", "suggestion": "More\r\n"},
            "d.suggestion",
        )
        sent_reviews: dict[str, tuple[str, str]] = {}
        refs = []
        for i, a in enumerate(assignments):
            strength = f"{ODDITIES[i % len(ODDITIES)]}Strong image."
            suggestion = f"Try {ODDITIES[(i + 3) % len(ODDITIES)]}\u202eslower\u202c."
            sent_reviews[a["assignment_id"]] = (strength, suggestion)
            review = {**good, "assignment_id": a["assignment_id"]}
            refs.append(
                await c.send(
                    "review.submit", {**review, "strength": strength, "suggestion": suggestion}
                )
            )
        for ref in refs:
            await c.ack(ref)

        results = (await c.wait("match.results"))["d"]
        row = next(r for r in results["ranking"] if r["alias"] == me)
        assert row["words"] == word_count(text) and not row["empty"]
        await c.wait("match.phase", lambda d: d["phase"] == "closed")

        # PostgreSQL has the outcome, the text exactly as sent.
        match_id = uuid.UUID(matched["match_id"])
        await replay_stored(database, matched["match_id"])
        subs = await fetch(
            database,
            "SELECT text, words FROM submissions WHERE match_id = $1 AND player_id = $2",
            match_id,
            user.id,
        )
        assert [(r["text"], r["words"]) for r in subs] == [(text, word_count(text))]
        reviews = await fetch(
            database,
            "SELECT strength, suggestion FROM reviews WHERE match_id = $1 AND reviewer_id = $2",
            match_id,
            user.id,
        )
        assert sorted((r["strength"], r["suggestion"]) for r in reviews) == sorted(
            sent_reviews.values()
        )

        # The player is free again: a second quick play is matched, not already_queued.
        await no_matches(node.app[REALTIME])
        again = await c.send("match.quickplay")
        second = await c.wait("queue.status", lambda d: d["match_id"] != matched["match_id"])
        assert second["d"]["status"] == "matched"
        assert c.find("error", lambda d: d["ref"] == again) is None
        await c.close()

"""Reports and queue actions with any note text, on a real node: 201/200 with the note
as sent (trimmed), or 422 in the one error shape, never a 5xx.  One node serves the
module from its own loop; hypothesis drives it with a blocking HTTP client."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import Settings
from server.game import MatchFinished
from server.game.replay import seat_edits
from server.http.state import PG
from server.storage.matches import save_outcome
from server.text import text_problem
from tests.conftest import UNTHROTTLED, ThreadedNode
from tests.replays.helpers import persisted
from tests.reports.helpers import play_texts

notes = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(max_codepoint=0x9F), max_size=30),
    st.text(min_size=990, max_size=1010),
    st.sampled_from(["<script>alert(1)</script>", "  ", "\t\n", "'; DROP TABLE reports; --"]),
)


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(
        limits={**UNTHROTTLED, "report_writes_per_account_per_minute": 100_000}
    )


@pytest.fixture(scope="module")
def target(threaded_node: ThreadedNode) -> tuple[ThreadedNode, str, str]:
    """A stored ranked match of two writers; the public id of one piece, an admin."""
    node = threaded_node
    writers = [node.user(), node.user()]
    d = play_texts({w: f"Piece of {w[:6]}." for w in writers})
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    node.call(
        save_outcome(
            node.app[PG],
            finished.outcome,
            node_id="n1",
            mode="ranked",
            edits=seat_edits(persisted(d)),
        )
    )
    match_id = str(d.match.config.match_id)
    alias = node.call(
        node.app[PG].fetchval(
            "SELECT alias FROM seats WHERE match_id = $1::uuid AND player_id = $2",
            match_id,
            writers[0],
        )
    )
    admin = node.user("admin")
    return node, f"{match_id}/{alias}", node.token(admin, "admin")


def send(node: ThreadedNode, path: str, token: str, body: Any) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def expect(status: int, answer: Any, note: str, most: int, ok: int) -> str | None:
    """The note as stored when accepted, None when refused (checked either way)."""
    acceptable = len(note) <= most and text_problem(note) is None
    if acceptable:
        assert status == ok, answer
        return note.strip()
    assert status == 422, answer
    assert set(answer["error"]) == {"code", "message", "details", "request_id"}
    assert "note" in answer["error"]["details"]["fields"]
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(note=notes)
def test_any_note_on_a_report_and_an_action(
    target: tuple[ThreadedNode, str, str], note: str
) -> None:
    node, piece, admin = target
    reporter = node.token(node.user())
    body = {"target": {"kind": "piece", "id": piece}, "reason": "other", "note": note}
    status, answer = send(node, "/api/v1/reports", reporter, body)
    stored = expect(status, answer, note, 1000, 201)
    if stored is None:
        return
    assert answer["note"] == stored
    status, acted = send(
        node, f"/api/v1/reports/{answer['id']}/actions", admin, {"action": "dismiss", "note": note}
    )
    kept = expect(status, acted, note, 500, 200)
    if kept is not None:
        assert acted["report"]["note"] == stored and acted["report"]["action_note"] == kept

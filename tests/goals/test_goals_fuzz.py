"""Any text in a goal's fields: a 201 when it happens to be valid, else a 422 naming the
field, never a 5xx (hypothesis, against one node on its own loop)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import Settings
from tests.conftest import UNTHROTTLED, ThreadedNode


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(limits={**UNTHROTTLED, "goal_writes_per_account_per_minute": 100_000})


def post(node: ThreadedNode, token: str, body: Any) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/v1/goals/me",
            body=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


texts = st.one_of(st.text(max_size=30), st.sampled_from(["voice", "2027-06-01", "\x00", "\ud800"]))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    trait=texts,
    due=st.one_of(st.none(), texts),
    target=st.one_of(st.floats(), st.integers(), texts),
)
def test_any_text_in_a_goal(
    threaded_node: ThreadedNode, trait: str, due: str | None, target: Any
) -> None:
    token = threaded_node.token(threaded_node.user())
    status, body = post(threaded_node, token, {"trait": trait, "target": target, "due": due})
    assert status in (201, 400, 422), body
    if status == 422:
        assert body["error"]["code"] == "validation_failed" and body["error"]["details"]["fields"]

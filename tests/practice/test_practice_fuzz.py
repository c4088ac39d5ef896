"""Any text as a practice draft, on a real node: saved (and read back the same) or a 422
in the one error shape naming the field; never a 5xx.  One node serves the module from
its own loop; hypothesis runs in the test's thread with a blocking HTTP client."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import Settings
from tests.conftest import UNTHROTTLED, ThreadedNode


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(
        limits={**UNTHROTTLED, "draft_chars": 2000},
        practice={"writes_per_account_per_minute": 100_000, "write_seconds": 3600},
    )


def send(node: ThreadedNode, method: str, path: str, token: str, body: Any) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        data = None if body is None else orjson.dumps(body)
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, orjson.loads(resp.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def round_path(threaded_node: ThreadedNode) -> tuple[ThreadedNode, str, str]:
    user = threaded_node.user()
    token = threaded_node.token(user)
    status, body = send(threaded_node, "POST", "/api/v1/practice", token, None)
    assert status == 201, body
    return threaded_node, f"/api/v1/practice/{body['id']}", token


SEQ = iter(range(1, 10**9))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(st.text(max_size=300), st.text(st.characters(max_codepoint=0x9F))))
def test_any_draft_text(round_path: tuple[ThreadedNode, str, str], text: str) -> None:
    node, path, token = round_path
    try:
        orjson.dumps(text)
    except TypeError:  # lone surrogates cannot be sent as JSON by this client
        return
    status, body = send(node, "PUT", path + "/draft", token, {"text": text, "seq": next(SEQ)})
    assert status < 500, body
    if status == 200:
        status, got = send(node, "GET", path, token, None)
        assert status == 200 and got["draft"] == text
    else:
        assert status == 422 and body["error"]["code"] == "validation_failed", body
        assert "text" in body["error"]["details"]["fields"]

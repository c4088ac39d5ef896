"""Any Unicode as a tutor question, on a real node: a question that follows the text rule,
is not blank and has at most 2,000 characters is answered (201) and stored exactly as
sent (an escaped surrogate pair is the one character JSON makes of it); anything else is
422 ``validation_failed`` (400 ``invalid_json`` for a lone surrogate the JSON cannot
carry) — never a 5xx.  One node serves the module from its own
loop; hypothesis runs in the test's thread with a blocking HTTP client."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.config import Settings
from server.text import is_acceptable
from tests.conftest import UNTHROTTLED, ThreadedNode

ODD = [
    "\x00", "\t", "\n", "\r", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\xa0", "\u0301",
    "\u200b", "\u200d", "\u202e", "\u2028", "\ufeff", "\ufdd0", "\ufffd", "\ufffe", "\uffff",
    "\U0001f600", "\U0010fffd", "\U0010ffff", "\ud800", "\udfff",
]  # fmt: skip
chars = st.one_of(
    st.characters(),
    st.characters(codec=None, categories=["Cs"]),
    st.characters(max_codepoint=0x9F),
    st.sampled_from(ODD),
)
questions = st.one_of(
    st.lists(chars, max_size=60).map("".join),
    st.text(max_size=80),
    st.builds(
        lambda c, n: c * n,
        st.lists(chars, min_size=1, max_size=2).map("".join),
        st.integers(990, 1010),
    ),
)


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(
        limits=UNTHROTTLED,
        tutor={"questions_per_day": 10_000, "writes_per_account_per_minute": 100_000},
    )


@pytest.fixture(scope="module")
def student(threaded_node: ThreadedNode) -> str:
    return threaded_node.token(threaded_node.user())


def post(node: ThreadedNode, token: str, raw: bytes) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        conn.request(
            "POST",
            "/api/v1/tutor/threads",
            body=raw,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=questions, escaped=st.booleans())
@example(question="\ud800\udc00" * 1000, escaped=True)  # 2,000 halves, 1,000 characters
@example(question="\ud800\udc00", escaped=False)  # the halves as UTF-8: not UTF-8
def test_any_question(
    threaded_node: ThreadedNode, student: str, question: str, escaped: bool
) -> None:
    raw = json.dumps({"question": question}, ensure_ascii=escaped).encode("utf-8", "surrogatepass")
    status, body = post(threaded_node, student, raw)
    assert status < 500, body
    # What the node reads: escaped, a high and a low surrogate side by side are one
    # character in JSON (\ud800\udc00 is U+10000), which may be a fine question.
    sent = json.loads(raw)["question"] if escaped else question
    fine = is_acceptable(sent) and sent.strip() != "" and len(sent) <= 2000
    if fine:
        assert status == 201, body
        assert body["messages"][0]["text"] == sent
        assert body["messages"][1]["author"] == "tutor"
    else:
        assert status in (400, 422), body
        assert body["error"]["code"] in ("validation_failed", "invalid_json")

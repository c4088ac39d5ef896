"""The CSV import with any text and any bytes, on a real node: a report or a 4xx in the
one error shape, never a 5xx; every line is accounted for once.

The file goes both ways the route takes it: as JSON (``{"csv": …}``, where the text rule
refuses a body with a control character whole) and as ``text/csv`` bytes (where it is
applied line by line).  One node serves the module from its own loop; hypothesis runs in
the test's thread with a blocking HTTP client.  Most runs are dry runs (no hashing);
some create students, until the class is full.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.classes import store as cstore
from server.config import Settings
from server.http.state import PG
from tests.conftest import UNTHROTTLED, ThreadedNode

NAMES = ["Maria Lopez", "Ali Hassan,ali.h", "Zoë Ng", "", ",", '"', "Admin", "name,username"]
line = st.one_of(
    st.sampled_from(NAMES),
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x9F), max_size=40),
)
texts = st.one_of(
    st.lists(line, max_size=40).map("\n".join),
    st.text(max_size=300),
    st.lists(line, max_size=40).map("\r\n".join),
)
raw = st.one_of(st.binary(max_size=600), texts.map(lambda t: t.encode("utf-8", "surrogatepass")))


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(
        limits={
            **UNTHROTTLED,
            "class_writes_per_account_per_minute": 100_000,
            "roster_import_lines": 60,
            "class_students": 40,
        }
    )


@pytest.fixture(scope="module")
def target(threaded_node: ThreadedNode) -> tuple[ThreadedNode, str, str]:
    teacher = threaded_node.user("teacher")
    klass = threaded_node.call(
        cstore.create_class(
            threaded_node.app[PG],
            teacher_id=teacher,
            name="Fuzz",
            grade_level=5,
            students_may_set_password=False,
        )
    )
    return threaded_node, klass.id, threaded_node.token(teacher, "teacher")


def send(
    node: ThreadedNode, path: str, token: str, body: bytes, content_type: str
) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, orjson.loads(resp.read())
    finally:
        conn.close()


def check(status: int, body: Any, lines: int | None) -> None:
    assert status < 500, body
    if status != 200:
        assert status in (400, 413, 422), body
        assert set(body["error"]) == {"code", "message", "details", "request_id"}
        return
    numbers = [s["line"] for s in body["students"]] + [r["line"] for r in body["rejected"]]
    assert len(numbers) == len(set(numbers))
    if lines is not None:
        assert lines - 1 <= len(numbers) <= lines
    for r in body["rejected"]:
        assert r["reason"] and r["message"] and len(r["text"]) <= 80


def count_lines(data: bytes) -> int:
    parts = data.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if parts and parts[-1] in (b"", b"\r"):
        parts.pop()
    return len(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=raw, dry_run=st.integers(0, 9))
def test_any_bytes_as_text_csv(
    target: tuple[ThreadedNode, str, str], data: bytes, dry_run: int
) -> None:
    node, class_id, token = target
    path = f"/api/v1/classes/{class_id}/students/import" + ("?dry_run=true" if dry_run else "")
    status, body = send(node, path, token, data, "text/csv")
    lines = count_lines(data)
    check(status, body, lines if lines <= 60 else None)
    if lines > 60:
        assert status == 422


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=texts, dry_run=st.integers(0, 9))
def test_any_text_as_json(target: tuple[ThreadedNode, str, str], text: str, dry_run: int) -> None:
    node, class_id, token = target
    body = json.dumps({"csv": text, "dry_run": bool(dry_run)}, ensure_ascii=True).encode()
    status, answer = send(
        node, f"/api/v1/classes/{class_id}/students/import", token, body, "application/json"
    )
    check(status, answer, None)

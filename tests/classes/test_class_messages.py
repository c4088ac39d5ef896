"""A teacher's message to a class: every student of it gets a ``teacher_message``
notification (listed, and pushed when connected); who may send; bad text; the limit."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.config import Settings
from server.text import text_problem
from tests.classes.helpers import (
    admin_token,
    call,
    error_of,
    new_class,
    new_student,
    ok,
    register,
    student_sign_in,
)
from tests.conftest import Node, start_node


async def student_token(node: Node, teacher: str, class_id: str, name: str) -> str:
    made = await new_student(node, teacher, class_id, name)
    signed = await ok(await student_sign_in(node, made["student"]["username"], made["code"]))
    token: str = signed["access_token"]
    return token


async def inbox(node: Node, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await ok(await call(node, "GET", "/api/v1/notifications", token))
    )["items"]
    return items


async def send(node: Node, token: str, class_id: str, body: Any) -> Any:
    return await call(node, "POST", f"/api/v1/classes/{class_id}/messages", token, body)


async def test_every_student_of_the_class_is_told(node: Node) -> None:
    teacher = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, teacher)
    other = await new_class(node, teacher, "8A English", 8)
    ana = await student_token(node, teacher, klass["id"], "Ana Ruiz")
    ben = await student_token(node, teacher, klass["id"], "Ben Okafor")
    elsewhere = await student_token(node, teacher, other["id"], "Cy Diaz")
    sent = await ok(await send(node, teacher, klass["id"], {"text": "  Bring a notebook.  "}), 201)
    assert sent == {"sent": 2}
    for token in (ana, ben):
        (note,) = await inbox(node, token)
        assert note["kind"] == "teacher_message" and note["read"] is False
        assert note["data"] == {
            "text": "Bring a notebook.",
            "class_id": klass["id"],
            "class_name": "7B English",
        }
    assert await inbox(node, elsewhere) == []
    assert await inbox(node, teacher) == []  # the sender is not a member
    admin = (await admin_token(node))[1]
    assert (await ok(await send(node, admin, other["id"], {"text": "Hello 8A"}), 201))["sent"] == 1


async def test_only_the_class_teacher_or_an_admin_may_send(node: Node) -> None:
    teacher = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, teacher)
    student = await student_token(node, teacher, klass["id"], "Ana Ruiz")
    stranger = (await register(node, "teacher"))["access_token"]
    player = (await register(node))["access_token"]
    for token in (student, stranger, player):
        status, code, _ = await error_of(await send(node, token, klass["id"], {"text": "hi"}))
        assert (status, code) == (404, "class_not_found")
    for bad_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        status, code, _ = await error_of(await send(node, teacher, bad_id, {"text": "hi"}))
        assert (status, code) == (404, "class_not_found")
    assert (await send(node, None, klass["id"], {"text": "hi"})).status == 401  # type: ignore[arg-type]
    assert await inbox(node, student) == []


async def test_bad_messages_are_refused_by_field(node: Node) -> None:
    teacher = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, teacher)
    for body in (
        {},
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 501},
        {"text": 5},
        {"text": "bell\x07"},
        {"text": "hi", "extra": 1},
    ):
        status, code, details = await error_of(await send(node, teacher, klass["id"], body))
        assert (status, code) == (422, "validation_failed"), body
        assert details["fields"], body


_CLASSES: dict[int, tuple[str, str]] = {}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=520))
async def test_any_text_is_sent_or_refused_by_the_text_rule(node: Node, text: str) -> None:
    if id(node) not in _CLASSES:  # one class per node: sign-ups are rate limited
        teacher = (await register(node, "teacher"))["access_token"]
        _CLASSES[id(node)] = (teacher, (await new_class(node, teacher))["id"])
    teacher, class_id = _CLASSES[id(node)]
    resp = await send(node, teacher, class_id, {"text": text})
    good = text.strip() and len(text) <= 500 and text_problem(text) is None
    if good:
        assert resp.status == 201, await resp.text()
    else:
        status, code, _ = await error_of(resp)
        assert (status, code) == (422, "validation_failed"), repr(text)


async def test_messages_count_in_the_class_write_limit(
    settings: Settings, database: str, redis_url: str
) -> None:
    tight = settings.replace(limits={"class_writes_per_account_per_minute": 2})
    runner, node = await start_node(tight, database, redis_url)
    try:
        teacher = (await register(node, "teacher"))["access_token"]
        klass = await new_class(node, teacher)  # one write
        await ok(await send(node, teacher, klass["id"], {"text": "one"}), 201)
        status, code, _ = await error_of(await send(node, teacher, klass["id"], {"text": "two"}))
        assert (status, code) == (429, "rate_limited")
    finally:
        await node.http.close()
        await runner.cleanup()

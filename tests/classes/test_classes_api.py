"""Classes and student accounts over REST, on real PostgreSQL and Redis: success,
validation, who may see what, rate limits, CSV import, a student's sign-in, reset,
rename and remove."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from server.classes.codes import ALPHABET
from server.config import Settings
from tests.classes.helpers import (
    PASSWORD,
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

CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


async def audit_actions(database: str) -> list[str]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("SELECT action FROM audit_log ORDER BY id")
    finally:
        await conn.close()
    return [r["action"] for r in rows]


async def test_a_teacher_makes_a_class_and_a_student_signs_in(node: Node, database: str) -> None:
    teacher = await register(node, "teacher")
    token = teacher["access_token"]
    klass = await new_class(node, token)
    assert klass["name"] == "7B English" and klass["grade_level"] == 7
    assert re.fullmatch(rf"[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}", klass["code"])
    assert klass["teacher"]["id"] == teacher["user"]["id"] and klass["student_count"] == 0
    made = await new_student(node, token, klass["id"], "  María  López ")
    student, code = made["student"], made["code"]
    assert student["name"] == "María López" and student["username"] == "maria.l"
    assert CODE.fullmatch(code) and made["sheet"] == {
        "codes": [{"student_id": student["id"], "code": code}]
    }
    assert student["has_code"] and not student["has_password"]
    # The code is typed the way a child types it: any case, spaces for the dash.
    resp = await student_sign_in(node, "MARIA.L", code.lower().replace("-", " "))
    signed = await ok(resp)
    assert signed["token_type"] == "Bearer" and signed["user"]["handle"] == "maria.l"
    assert signed["user"]["role"] == "player" and signed["user"]["guest"] is False
    me = await ok(await call(node, "GET", "/api/v1/auth/me", signed["access_token"]))
    assert me["id"] == student["id"]
    # The code stays the student's until it is reset: a second device, a lost token.
    assert (await student_sign_in(node, "maria.l", code)).status == 200
    refreshed = await node.post("/api/v1/auth/refresh", {"refresh_token": signed["refresh_token"]})
    assert refreshed.status == 200
    # The roster shows the student, and when they last signed in; never the code.
    roster = await ok(await call(node, "GET", f"/api/v1/classes/{klass['id']}/students", token))
    assert roster["class"]["student_count"] == 1
    (listed,) = roster["students"]
    assert listed["last_sign_in_at"] is not None and code not in str(roster)
    # The code is stored as an argon2id hash, and no password was made up.
    conn = await asyncpg.connect(database)
    try:
        row = await conn.fetchrow(
            "SELECT s.code_hash, u.password_hash, u.is_student FROM students s "
            "JOIN users u ON u.id = s.user_id"
        )
    finally:
        await conn.close()
    assert (
        row["code_hash"].startswith("$argon2id$") and code.replace("-", "") not in row["code_hash"]
    )
    assert row["password_hash"] is None and row["is_student"] is True
    assert await audit_actions(database) == [
        "user.register",
        "class.create",
        "class.student.create",
        "student.sign_in",
        "student.sign_in",
    ]


async def test_wrong_and_malformed_codes(node: Node) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    made = await new_student(node, token, klass["id"], "Ali Hassan")
    username = made["student"]["username"]
    wrong = "".join(ALPHABET[(ALPHABET.index(c) + 1) % 31] if c != "-" else c for c in made["code"])
    assert (await error_of(await student_sign_in(node, username, wrong)))[:2] == (
        401,
        "invalid_credentials",
    )
    assert (await error_of(await student_sign_in(node, "nobody.here", made["code"])))[:2] == (
        401,
        "invalid_credentials",
    )
    status, code, details = await error_of(await student_sign_in(node, username, "ABCD-EFG0"))
    assert (status, code) == (422, "validation_failed") and "0" in details["fields"]["code"]
    # A student account has no password: the password login never opens it.
    resp = await node.post("/api/v1/auth/login", {"handle": username, "password": made["code"]})
    assert (await error_of(resp))[:2] == (401, "invalid_credentials")
    for body in ({}, {"username": username}, {"username": username, "code": 5}, {"x": 1}):
        resp = await node.post("/api/v1/auth/student", body)
        assert (await error_of(resp))[:2] == (422, "validation_failed"), body


ROSTER = "\n".join(
    [
        "name,username",  # header: skipped
        "Maria Lopez",
        "Ali Hassan,ali.hassan",
        "Zoë Ng",
        "Nguyễn Văn An",
        "王小明",
        "",  # 7: empty
        "Sam O'Neil",
        "Kim Park",
        "Lee Chan",
        "Bob <b>",  # 11: bad characters
        "Priya Patel",
        "Tom Berg",
        "A" * 40,  # 14: name too long
        "Ann Lee",
        "Maria Lopez",  # 16: the same name again, without a username
        "Sara Ek,ali.hassan",  # 17: the same username again
        "Admin",  # 18: reserved
        "Jon Snow,jon snow",  # 19: bad username
        "Ivan Petrov",
        "Eve Adams,a,b",  # 21: too many columns
        "Mia Wong",
        "Noah Kim",
    ]
)


async def test_import_fourteen_students_with_rejected_lines(node: Node, database: str) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    path = f"/api/v1/classes/{klass['id']}/students/import"
    dry = await ok(await call(node, "POST", path, token, {"csv": ROSTER, "dry_run": True}))
    assert dry["dry_run"] and len(dry["students"]) == 14 and dry["sheet"] == {"codes": []}
    assert all(s["id"] is None and s["code"] is None for s in dry["students"])
    report = await ok(await call(node, "POST", path, token, {"csv": ROSTER}))
    assert not report["dry_run"]
    students = report["students"]
    assert len(students) == 14
    assert [(s["line"], s["username"]) for s in students][:5] == [
        (2, "maria.l"),
        (3, "ali.hassan"),
        (4, "zoe.n"),
        (5, "nguyen.a"),
        (6, "student"),
    ]
    assert all(CODE.fullmatch(s["code"]) for s in students)
    assert len({s["code"] for s in students}) == 14
    assert [s["generated_username"] for s in students][:2] == [True, False]
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (7, "empty"),
        (11, "bad_characters"),
        (14, "name_too_long"),
        (16, "duplicate_name"),
        (17, "duplicate_username"),
        (18, "bad_name"),
        (19, "bad_username"),
        (21, "too_many_columns"),
    ]
    assert all(r["message"] for r in report["rejected"])
    assert report["sheet"]["codes"] == [
        {"student_id": s["id"], "code": s["code"]} for s in students
    ]
    # Every student signs in with their own code, and only with it.
    first, second = students[0], students[1]
    assert (await student_sign_in(node, first["username"], first["code"])).status == 200
    assert (await student_sign_in(node, first["username"], second["code"])).status == 401
    roster = await ok(await call(node, "GET", f"/api/v1/classes/{klass['id']}/students", token))
    assert len(roster["students"]) == 14 and roster["class"]["student_count"] == 14
    # The same file again adds nobody twice.
    again = await ok(await call(node, "POST", path, token, {"csv": ROSTER}))
    assert again["students"] == []
    reasons = {r["reason"] for r in again["rejected"]}
    assert reasons >= {"duplicate_name", "username_taken"}
    assert (await audit_actions(database)).count("class.student.import") == 2


async def test_import_a_csv_file_as_sent_by_a_spreadsheet(node: Node) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    body = b"\xef\xbb\xbfMaria Lopez;maria.lz\r\nAli Hassan\r\nBad\xff name\r\n\r\n"
    resp = await call(
        node,
        "POST",
        f"/api/v1/classes/{klass['id']}/students/import",
        token,
        data=body,
        headers={"Content-Type": "text/csv"},
    )
    report = await ok(resp)
    assert [s["username"] for s in report["students"]] == ["maria.lz", "ali.h"]
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (3, "not_utf8"),
        (4, "empty"),
    ]


async def test_import_validation(settings: Settings, database: str, redis_url: str) -> None:
    runner, node = await start_node(
        settings.replace(limits={"roster_import_lines": 5, "class_students": 3}),
        database,
        redis_url,
    )
    try:
        token = (await register(node, "teacher"))["access_token"]
        klass = await new_class(node, token)
        path = f"/api/v1/classes/{klass['id']}/students/import"
        resp = await call(node, "POST", path, token, {"csv": "Ann Lee\n" * 6})
        status, code, details = await error_of(resp)
        assert (status, code) == (422, "validation_failed") and "at most 5" in details["fields"][
            "csv"
        ]
        for body in ({}, {"csv": 5}, {"csv": "Ann Lee", "dry_run": "yes"}, {"csv": "a\rb"}):
            resp = await call(node, "POST", path, token, body)
            assert (await error_of(resp))[:2] == (422, "validation_failed"), body
        resp = await call(
            node, "POST", path, token, data=b"[1]", headers={"Content-Type": "text/plain"}
        )
        assert resp.status == 415
        csv = "Ann Lee\nBo Chan\nCy Dee\nDi Eck\nEd Fox\n"
        report = await ok(await call(node, "POST", path, token, {"csv": csv}))
        assert len(report["students"]) == 3
        assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
            (4, "class_full"),
            (5, "class_full"),
        ]
        resp = await call(
            node, "POST", f"/api/v1/classes/{klass['id']}/students", token, {"name": "Gil Ho"}
        )
        assert (await error_of(resp))[:2] == (409, "class_full")
    finally:
        await node.http.close()
        await runner.cleanup()


CLASS_BAD: list[tuple[dict[str, Any], str]] = [
    ({"grade_level": 7}, "name"),
    ({"name": "7B"}, "grade_level"),
    ({"name": "", "grade_level": 7}, "name"),
    ({"name": "   ", "grade_level": 7}, "name"),
    ({"name": "x" * 61, "grade_level": 7}, "name"),
    ({"name": "a\tb", "grade_level": 7}, "name"),
    ({"name": "a\x00b", "grade_level": 7}, "name"),
    ({"name": "7B", "grade_level": 14}, "grade_level"),
    ({"name": "7B", "grade_level": -1}, "grade_level"),
    ({"name": "7B", "grade_level": "7"}, "grade_level"),
    ({"name": "7B", "grade_level": True}, "grade_level"),
    ({"name": "7B", "grade_level": 7.0}, "grade_level"),
    (
        {"name": "7B", "grade_level": 7, "students_may_set_password": "no"},
        "students_may_set_password",
    ),
    ({"name": "7B", "grade_level": 7, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), CLASS_BAD)
async def test_class_validation(node: Node, body: dict[str, Any], field: str) -> None:
    token = (await register(node, "teacher"))["access_token"]
    status, code, details = await error_of(await call(node, "POST", "/api/v1/classes", token, body))
    assert (status, code) == (422, "validation_failed") and field in details["fields"]


STUDENT_BAD: list[tuple[dict[str, Any], str]] = [
    ({}, "name"),
    ({"name": "X"}, "name"),
    ({"name": "Bob <b>"}, "name"),
    ({"name": "Admin"}, "name"),
    ({"name": "A" * 33}, "name"),
    ({"name": 5}, "name"),
    ({"name": "Ann Lee", "username": "ab"}, "username"),
    ({"name": "Ann Lee", "username": "has space"}, "username"),
    ({"name": "Ann Lee", "username": "moderator"}, "username"),
    ({"name": "Ann Lee", "code": "ABCD-EFGH"}, "code"),
]


@pytest.mark.parametrize(("body", "field"), STUDENT_BAD)
async def test_student_validation(node: Node, body: dict[str, Any], field: str) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    resp = await call(node, "POST", f"/api/v1/classes/{klass['id']}/students", token, body)
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed") and field in details["fields"]


async def test_a_taken_username_is_a_conflict(node: Node) -> None:
    teacher = await register(node, "teacher")
    token = teacher["access_token"]
    klass = await new_class(node, token)
    resp = await call(
        node,
        "POST",
        f"/api/v1/classes/{klass['id']}/students",
        token,
        {"name": "Ann Lee", "username": teacher["user"]["handle"].upper()},
    )
    assert (await error_of(resp))[:2] == (409, "handle_taken")


@pytest.fixture
async def two_classes(node: Node) -> AsyncIterator[dict[str, Any]]:
    """Teachers A and B with a class and a student each, a player, and an admin."""
    a = (await register(node, "teacher"))["access_token"]
    b = (await register(node, "teacher"))["access_token"]
    class_a, class_b = await new_class(node, a, "A class"), await new_class(node, b, "B class")
    made_a = await new_student(node, a, class_a["id"], "Ann Lee")
    made_b = await new_student(node, b, class_b["id"], "Bo Chan")
    student_a = await ok(await student_sign_in(node, made_a["student"]["username"], made_a["code"]))
    player = (await register(node))["access_token"]
    _, admin = await admin_token(node)
    yield {
        "a": a,
        "b": b,
        "class_a": class_a,
        "class_b": class_b,
        "made_a": made_a,
        "made_b": made_b,
        "student_a": student_a["access_token"],
        "player": player,
        "admin": admin,
    }


def _managing_routes(class_id: str, student_id: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/classes/{class_id}"
    one = f"{base}/students/{student_id}"
    return [
        ("PATCH", base, {"name": "Mine now"}),
        ("GET", f"{base}/students", None),
        ("POST", f"{base}/students", {"name": "Eve Adams"}),
        ("POST", f"{base}/students/import", {"csv": "Eve Adams\n"}),
        ("PATCH", one, {"name": "Renamed Kid"}),
        ("POST", f"{one}/code", None),
        ("DELETE", one, None),
        ("GET", f"{base}/roster.html", None),
        (
            "POST",
            f"{base}/roster.html",
            {"codes": [{"student_id": student_id, "code": "ABCD-EFGH"}]},
        ),
    ]


async def test_what_each_caller_may_see(node: Node, two_classes: dict[str, Any]) -> None:
    t = two_classes
    class_a, class_b = t["class_a"]["id"], t["class_b"]["id"]
    student_a = t["made_a"]["student"]["id"]
    # Teacher B, the student of class A and a player get 404 for everything of class A.
    for who in ("b", "student_a", "player"):
        resp = (
            await call(node, "GET", f"/api/v1/classes/{class_a}", t[who])
            if who != "student_a"
            else None
        )
        if resp is not None:
            assert (await error_of(resp))[:2] == (404, "class_not_found"), who
        for method, path, body in _managing_routes(class_a, student_a):
            resp = await call(node, method, path, t[who], body)
            assert (await error_of(resp))[:2] == (404, "class_not_found"), (who, method, path)
    # The student sees their own class, and only it.
    mine = await ok(await call(node, "GET", f"/api/v1/classes/{class_a}", t["student_a"]))
    assert mine["id"] == class_a
    listed = await ok(await call(node, "GET", "/api/v1/classes", t["student_a"]))
    assert [k["id"] for k in listed["items"]] == [class_a]
    resp = await call(node, "GET", f"/api/v1/classes/{class_b}", t["student_a"])
    assert (await error_of(resp))[:2] == (404, "class_not_found")
    # Each teacher lists their own; a player none; an admin all (or one teacher's).
    for who, expected in (("a", [class_a]), ("b", [class_b]), ("player", [])):
        listed = await ok(await call(node, "GET", "/api/v1/classes", t[who]))
        assert [k["id"] for k in listed["items"]] == expected, who
    listed = await ok(await call(node, "GET", "/api/v1/classes", t["admin"]))
    assert {k["id"] for k in listed["items"]} == {class_a, class_b}
    teacher_b = t["class_b"]["teacher"]["id"]
    listed = await ok(
        await call(node, "GET", f"/api/v1/classes?teacher_id={teacher_b}", t["admin"])
    )
    assert [k["id"] for k in listed["items"]] == [class_b]
    resp = await call(node, "GET", "/api/v1/classes?teacher_id=nope", t["admin"])
    assert (await error_of(resp))[:2] == (422, "validation_failed")
    # A student of class B through class A's path: not found either.
    student_b = t["made_b"]["student"]["id"]
    resp = await call(node, "POST", f"/api/v1/classes/{class_a}/students/{student_b}/code", t["a"])
    assert (await error_of(resp))[:2] == (404, "student_not_found")
    for bad in ("nope", "00000000-0000-0000-0000-000000000000", "%00"):
        resp = await call(node, "GET", f"/api/v1/classes/{bad}", t["a"])
        assert (await error_of(resp))[:2] == (404, "class_not_found"), bad
    # Players and students cannot create classes; no token is a 401.
    for who in ("player", "student_a"):
        resp = await call(node, "POST", "/api/v1/classes", t[who], {"name": "x", "grade_level": 3})
        assert (await error_of(resp))[:2] == (403, "not_a_teacher")
    resp = await call(node, "GET", "/api/v1/classes")
    assert (await error_of(resp))[:2] == (401, "missing_token")


async def test_an_admin_manages_every_class(
    node: Node, two_classes: dict[str, Any], database: str
) -> None:
    t = two_classes
    class_a = t["class_a"]["id"]
    student_a = t["made_a"]["student"]["id"]
    roster = await ok(await call(node, "GET", f"/api/v1/classes/{class_a}/students", t["admin"]))
    assert [s["id"] for s in roster["students"]] == [student_a]
    reset = await ok(
        await call(node, "POST", f"/api/v1/classes/{class_a}/students/{student_a}/code", t["admin"])
    )
    assert CODE.fullmatch(reset["code"])
    patched = await ok(
        await call(node, "PATCH", f"/api/v1/classes/{class_a}", t["admin"], {"grade_level": 8})
    )
    assert patched["grade_level"] == 8 and patched["name"] == "A class"
    assert (await audit_actions(database))[-2:] == ["class.student.reset_code", "class.update"]


async def test_reset_rename_and_remove(node: Node, database: str) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    made = await new_student(node, token, klass["id"], "Ann Lee")
    sid, username, old_code = made["student"]["id"], made["student"]["username"], made["code"]
    signed = await ok(await student_sign_in(node, username, old_code))
    one = f"/api/v1/classes/{klass['id']}/students/{sid}"
    # Reset: a new code, the old one stops working, the student's sessions end.
    reset = await ok(await call(node, "POST", f"{one}/code", token))
    assert reset["code"] != old_code and reset["student"]["id"] == sid
    assert reset["sheet"]["codes"] == [{"student_id": sid, "code": reset["code"]}]
    assert (await student_sign_in(node, username, old_code)).status == 401
    resp = await call(node, "GET", "/api/v1/auth/me", signed["access_token"])
    assert (await error_of(resp))[:2] == (401, "session_revoked")
    signed = await ok(await student_sign_in(node, username, reset["code"]))
    # Rename: a new name and a new username; the code stays.
    renamed = await ok(
        await call(node, "PATCH", one, token, {"name": "Ann  Lee-Smith", "username": "ann.ls"})
    )
    assert renamed["name"] == "Ann Lee-Smith" and renamed["username"] == "ann.ls"
    assert (await student_sign_in(node, "ann.ls", reset["code"])).status == 200
    assert (await student_sign_in(node, username, reset["code"])).status == 401
    for body, field in (
        ({"name": "X"}, "name"),
        ({"username": "a b"}, "username"),
        ({"id": 1}, "id"),
    ):
        status, code, details = await error_of(await call(node, "PATCH", one, token, body))
        assert (status, code) == (422, "validation_failed") and field in details["fields"]
    # Remove: the account is gone, its sessions end, the roster no longer lists it.
    assert (await call(node, "DELETE", one, token)).status == 204
    assert (await student_sign_in(node, "ann.ls", reset["code"])).status == 401
    resp = await call(node, "GET", "/api/v1/auth/me", signed["access_token"])
    assert (await error_of(resp))[:2] == (401, "session_revoked")
    roster = await ok(await call(node, "GET", f"/api/v1/classes/{klass['id']}/students", token))
    assert roster["students"] == [] and roster["class"]["student_count"] == 0
    assert (await error_of(await call(node, "DELETE", one, token)))[:2] == (
        404,
        "student_not_found",
    )
    # The username is free again.
    again = await new_student(node, token, klass["id"], "Ann Lee", username="ann.ls")
    assert again["student"]["username"] == "ann.ls"
    actions = await audit_actions(database)
    for action in ("class.student.reset_code", "class.student.rename", "class.student.remove"):
        assert action in actions


async def test_the_printable_sheet(node: Node) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token, "Mrs. <b>Ng</b>'s class")
    path = f"/api/v1/classes/{klass['id']}/students/import"
    report = await ok(
        await call(node, "POST", path, token, {"csv": "Ann Lee\nBo Chan\nCy O'Dee\n"})
    )
    resp = await call(
        node, "POST", f"/api/v1/classes/{klass['id']}/roster.html", token, report["sheet"]
    )
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "style-src 'sha256-" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"
    page = await resp.text()
    assert page.count('class="card"') == 3 and "@media print" in page and "<script" not in page
    for s in report["students"]:
        assert s["code"] in page and s["username"] in page
    assert "&lt;b&gt;Ng&lt;/b&gt;" in page and "<b>Ng" not in page and "Cy O&#x27;Dee" in page
    # Without codes: the same cards with a box to write one in, and no code anywhere.
    blank = await (
        await call(node, "GET", f"/api/v1/classes/{klass['id']}/roster.html", token)
    ).text()
    assert blank.count('class="card"') == 3 and 'class="blank"' in blank
    assert not any(s["code"] in blank for s in report["students"])
    # Codes may be sent as typed; bad ones and strangers are refused.
    first = report["students"][0]
    one = {"codes": [{"student_id": first["id"], "code": first["code"].lower().replace("-", "")}]}
    resp = await call(node, "POST", f"/api/v1/classes/{klass['id']}/roster.html", token, one)
    assert first["code"] in await resp.text()
    other = await new_class(node, token, "Other")
    stranger = await new_student(node, token, other["id"], "Dee Eff")
    for body, field in (
        ({"codes": []}, "codes"),
        ({"codes": [{"student_id": first["id"], "code": "ABCD-EFG0"}]}, "codes[0].code"),
        ({"codes": [{"student_id": "x", "code": "ABCD-EFGH"}]}, "codes[0].student_id"),
        ({"codes": [{"student_id": first["id"]}]}, "codes[0]"),
        ({"codes": [one["codes"][0], one["codes"][0]]}, "codes[1].student_id"),
        (stranger["sheet"], "codes[0].student_id"),
    ):
        resp = await call(node, "POST", f"/api/v1/classes/{klass['id']}/roster.html", token, body)
        status, code, details = await error_of(resp)
        assert (status, code) == (422, "validation_failed") and field in details["fields"], body


async def test_rate_limits(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(
        limits={"class_writes_per_account_per_minute": 3, "student_signin_per_ip_per_minute": 2}
    )
    runner, node = await start_node(limited, database, redis_url)
    try:
        token = (await register(node, "teacher"))["access_token"]
        klass = await new_class(node, token)  # 1
        made = await new_student(node, token, klass["id"], "Ann Lee")  # 2
        await ok(await call(node, "PATCH", f"/api/v1/classes/{klass['id']}", token, {"name": "7C"}))
        resp = await call(
            node, "POST", f"/api/v1/classes/{klass['id']}/students", token, {"name": "Bo Chan"}
        )
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "classes.write"
        assert int(resp.headers["Retry-After"]) >= 1
        # Reading is not a write.
        assert (
            await call(node, "GET", f"/api/v1/classes/{klass['id']}/students", token)
        ).status == 200
        # Another teacher has buckets of their own.
        other = (await register(node, "teacher"))["access_token"]
        await new_class(node, other)
        username = made["student"]["username"]
        assert (await student_sign_in(node, username, made["code"])).status == 200
        assert (await student_sign_in(node, username, "ABCD-EFGH")).status == 401
        status, code, details = await error_of(await student_sign_in(node, username, made["code"]))
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "auth.student.ip"
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_an_admin_makes_a_teacher(node: Node, database: str) -> None:
    player = await register(node)
    token, user_id = player["access_token"], player["user"]["id"]
    resp = await call(node, "POST", "/api/v1/classes", token, {"name": "7B", "grade_level": 7})
    assert (await error_of(resp))[:2] == (403, "not_a_teacher")
    admin_id, admin = await admin_token(node)
    path = f"/api/v1/admin/users/{user_id}/role"
    # Only an admin may.
    assert (await error_of(await call(node, "POST", path, token, {"role": "teacher"})))[:2] == (
        403,
        "forbidden",
    )
    done = await ok(await call(node, "POST", path, admin, {"role": "teacher"}))
    assert done == {"user_id": user_id, "role": "teacher", "previous_role": "player"}
    # At once, with the token the player already holds: the role is read from the database.
    klass = await new_class(node, token)
    # A teacher with classes stays one; admins and students cannot be changed here.
    assert (await error_of(await call(node, "POST", path, admin, {"role": "player"})))[:2] == (
        409,
        "teacher_has_classes",
    )
    resp = await call(
        node, "POST", f"/api/v1/admin/users/{admin_id}/role", admin, {"role": "player"}
    )
    assert (await error_of(resp))[:2] == (409, "role_locked")
    made = await new_student(node, token, klass["id"], "Ann Lee")
    resp = await call(
        node,
        "POST",
        f"/api/v1/admin/users/{made['student']['id']}/role",
        admin,
        {"role": "teacher"},
    )
    assert (await error_of(resp))[:2] == (409, "role_locked")
    for bad in ("nope", "00000000-0000-0000-0000-000000000000"):
        resp = await call(
            node, "POST", f"/api/v1/admin/users/{bad}/role", admin, {"role": "teacher"}
        )
        assert (await error_of(resp))[:2] == (404, "user_not_found")
    for body in ({"role": "admin"}, {}, {"role": 1}, {"role": "teacher", "x": 1}):
        resp = await call(node, "POST", path, admin, body)
        assert (await error_of(resp))[:2] == (422, "validation_failed"), body
    # The next token says so too.
    refreshed = await ok(
        await node.post("/api/v1/auth/refresh", {"refresh_token": player["refresh_token"]})
    )
    assert refreshed["user"]["role"] == "teacher"
    assert "user.role" in await audit_actions(database)


async def test_a_student_sets_a_password_when_the_class_allows(node: Node) -> None:
    token = (await register(node, "teacher"))["access_token"]
    klass = await new_class(node, token)
    made = await new_student(node, token, klass["id"], "Ann Lee")
    username, code = made["student"]["username"], made["code"]
    student = (await ok(await student_sign_in(node, username, code)))["access_token"]
    path = "/api/v1/auth/student/password"
    resp = await call(node, "POST", path, student, {"password": PASSWORD})
    assert (await error_of(resp))[:2] == (403, "passwords_not_allowed")
    await ok(
        await call(
            node,
            "PATCH",
            f"/api/v1/classes/{klass['id']}",
            token,
            {"students_may_set_password": True},
        )
    )
    resp = await call(node, "POST", path, student, {"password": "short"})
    assert (await error_of(resp))[:2] == (422, "validation_failed")
    assert (await call(node, "POST", path, student, {"password": PASSWORD})).status == 204
    assert (
        await node.post("/api/v1/auth/login", {"handle": username, "password": PASSWORD})
    ).status == 200
    assert (await student_sign_in(node, username, code)).status == 401  # the card is retired
    roster = await ok(await call(node, "GET", f"/api/v1/classes/{klass['id']}/students", token))
    assert roster["students"][0]["has_password"] and not roster["students"][0]["has_code"]
    # A reset is how a student who forgot the password gets back in.
    reset = await ok(
        await call(
            node,
            "POST",
            f"/api/v1/classes/{klass['id']}/students/{made['student']['id']}/code",
            token,
        )
    )
    assert (await student_sign_in(node, username, reset["code"])).status == 200
    assert (
        await node.post("/api/v1/auth/login", {"handle": username, "password": PASSWORD})
    ).status == 401
    # Not a student account: refused.
    teacher_resp = await call(node, "POST", path, token, {"password": PASSWORD + "x"})
    assert (await error_of(teacher_resp))[:2] == (403, "not_a_student")

"""Content reports and the review queue over REST on real PostgreSQL and Redis: filing,
who may report what, the queue of a teacher and of an admin, dismiss/hide/warn with their
effects (results, replays, portfolios, notifications, the audit log), validation and
rate limits.  Reporters are never revealed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from server.config import Settings
from tests.classes.helpers import admin_token, call, error_of, ok
from tests.conftest import UNTHROTTLED, Node, start_node
from tests.reports.helpers import (
    Person,
    class_of,
    match_of,
    person,
    review_to,
    seat_alias,
    sql,
    strength_of,
)


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(limits=UNTHROTTLED)
    runner, n = await start_node(settings, database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


async def report(
    node: Node, who: Person | str, kind: str, target: str, reason: str = "bullying", **extra: Any
) -> Any:
    token = who if isinstance(who, str) else who.token
    body = {"target": {"kind": kind, "id": target}, "reason": reason, **extra}
    return await call(node, "POST", "/api/v1/reports", token, body)


async def queue(node: Node, token: str, **query: str) -> Any:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return await ok(await call(node, "GET", "/api/v1/reports" + (f"?{q}" if q else ""), token))


async def notifications(database: str, p: Person) -> list[dict[str, Any]]:
    """The notifications stored for ``p`` (what GET /notifications lists)."""
    rows = await sql(
        database, "SELECT kind, data FROM notifications WHERE user_id = $1", uuid.UUID(p.id)
    )
    return [{"kind": r["kind"], "data": orjson.loads(r["data"])} for r in rows]


async def some_review(
    database: str, match_id: str, writer: Person, others: list[Person]
) -> tuple[str, Person]:
    for o in others:
        found = await review_to(database, match_id, writer.id, o.id)
        if found:
            return found, o
    raise AssertionError("no human reviewed the piece")


class World:
    """A teacher with a class of a, b, c; d outside it; another teacher; an admin; one
    ranked match of a, b, c (with a bot) and the review b... wrote on a's piece."""

    teacher: Person
    other_teacher: Person
    a: Person
    b: Person
    c: Person
    d: Person
    admin: str
    admin_id: str
    match_id: str
    review: str
    reviewer: Person


@pytest.fixture
async def world(node: Node, database: str) -> World:
    w = World()
    w.teacher, w.other_teacher = await person(node, "teacher"), await person(node, "teacher")
    w.a, w.b, w.c, w.d = [await person(node) for _ in range(4)]
    w.admin_id, w.admin = await admin_token(node)
    await class_of(node, database, w.teacher, [w.a, w.b, w.c])
    w.match_id = await match_of(database, [w.a, w.b, w.c])
    w.review, w.reviewer = await some_review(database, w.match_id, w.a, [w.b, w.c])
    return w


async def test_a_player_reports_a_review_and_the_teacher_hides_it(
    node: Node, database: str, world: World
) -> None:
    w = world
    detail = await ok(await call(node, "GET", f"/api/v1/me/matches/{w.match_id}", w.a.token))
    received = [r["id"] for r in detail["report"]["reviews_received"]]
    assert w.review in received
    filed = await ok(
        await report(node, w.a, "review", w.review, "bullying", note="  It mocks my name.  "),
        201,
    )
    assert filed["status"] == "open" and filed["note"] == "It mocks my name."
    assert filed["target"] == {"kind": "review", "id": w.review}
    status, code, _ = await error_of(await report(node, w.a, "review", w.review, "spam"))
    assert (status, code) == (409, "already_reported")
    # The teacher's queue shows it with the content and its author, never the reporter.
    body = await queue(node, w.teacher.token)
    (entry,) = body["items"]
    assert entry["id"] == filed["id"] and entry["content"]["strength"] == strength_of(w.reviewer.id)
    assert entry["author"] == {"user_id": w.reviewer.id, "display_name": w.reviewer.name}
    assert w.a.id not in str(body) and w.a.handle not in str(body)
    # Another teacher's queue does not have it, and they cannot act on it.
    assert (await queue(node, w.other_teacher.token))["items"] == []
    resp = await call(
        node,
        "POST",
        f"/api/v1/reports/{filed['id']}/actions",
        w.other_teacher.token,
        {"action": "hide"},
    )
    assert (await error_of(resp))[:2] == (404, "report_not_found")
    # A student has no queue.
    for s in (w.a, w.reviewer):
        resp = await call(node, "GET", "/api/v1/reports", s.token)
        assert (await error_of(resp))[:2] == (403, "not_moderator")
        resp = await call(
            node, "POST", f"/api/v1/reports/{filed['id']}/actions", s.token, {"action": "hide"}
        )
        assert (await error_of(resp))[:2] == (403, "not_moderator")
    replay_before = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.d.token))
    acted = await ok(
        await call(
            node,
            "POST",
            f"/api/v1/reports/{filed['id']}/actions",
            w.teacher.token,
            {"action": "hide", "note": "Unkind."},
        )
    )
    assert acted["report"]["status"] == "hidden" and acted["report"]["hidden"] is True
    assert acted["closed"] == [filed["id"]]
    resp = await call(
        node,
        "POST",
        f"/api/v1/reports/{filed['id']}/actions",
        w.teacher.token,
        {"action": "dismiss"},
    )
    assert (await error_of(resp))[:2] == (409, "report_closed")
    # Gone from the writer's results and portfolio; the reviewer sees it marked hidden.
    detail = await ok(await call(node, "GET", f"/api/v1/me/matches/{w.match_id}", w.a.token))
    assert w.review not in [r["id"] for r in detail["report"]["reviews_received"]]
    mine = await ok(await call(node, "GET", "/api/v1/portfolio/me", w.a.token))
    assert w.review not in str(mine)
    theirs = await ok(await call(node, "GET", "/api/v1/portfolio/me", w.reviewer.token))
    given = [r for p in theirs["items"] for r in p["reviews_given"] if r["id"] == w.review]
    assert [r["hidden"] for r in given] == [True]
    # The teacher reading the reviewer's portfolio no longer sees it (others do not).
    other = await ok(await call(node, "GET", f"/api/v1/portfolio/{w.reviewer.id}", w.teacher.token))
    assert w.review not in str(other)
    # Replays: a spectator no longer gets it; the teacher (a moderator) would.
    replay_after = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.d.token))
    assert len(replay_after["reviews"]["items"]) < len(replay_before["reviews"]["items"])
    # The author was told (without the reporter), and the audit log has the action.
    notes = await notifications(database, w.reviewer)
    (note,) = [n for n in notes if n["kind"] == "report_action"]
    assert note["data"]["action"] == "hide" and note["data"]["report_id"] == filed["id"]
    assert w.a.id not in str(notes) and w.a.handle not in str(notes)
    rows = await sql(
        database,
        "SELECT actor_id, target_id, details FROM audit_log WHERE action = 'report.hide'",
    )
    assert [(str(r["actor_id"]), r["target_id"]) for r in rows] == [(w.teacher.id, w.reviewer.id)]
    # Hidden content cannot be reported again by someone who no longer sees it.
    status, code, _ = await error_of(await report(node, w.d, "review", w.review))
    assert (status, code) == (404, "content_not_found")


async def test_warn_dismiss_and_the_admin_queue(node: Node, database: str, world: World) -> None:
    w = world
    alias_b = await seat_alias(database, w.match_id, w.b.id)
    piece = f"{w.match_id}/{alias_b}"
    first = await ok(await report(node, w.a, "piece", piece, "personal_info"), 201)
    second = await ok(await report(node, w.c, "piece", piece, "other", note="Names a boy."), 201)
    # d is not in the match, but the ranked match is public: d could watch its replay.
    third = await ok(await report(node, w.d, "piece", piece, "spam"), 201)
    admin_q = await queue(node, w.admin)
    assert [e["id"] for e in admin_q["items"]] == [third["id"], second["id"], first["id"]]
    assert {e["reports_on_content"] for e in admin_q["items"]} == {3}
    paged = await queue(node, w.teacher.token, limit="2")
    assert len(paged["items"]) == 2 and paged["next_cursor"]
    rest = await queue(node, w.teacher.token, limit="2", cursor=paged["next_cursor"])
    assert [e["id"] for e in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    warned = await ok(
        await call(
            node,
            "POST",
            f"/api/v1/reports/{first['id']}/actions",
            w.teacher.token,
            {"action": "warn", "note": "Please leave real names out."},
        )
    )
    assert warned["report"]["status"] == "warned"
    notes = await notifications(database, w.b)
    (note,) = [n for n in notes if n["kind"] == "report_action"]
    assert note["data"]["action"] == "warn"
    assert note["data"]["message"] == "Please leave real names out."
    for reporter in (w.a, w.c, w.d):
        assert reporter.id not in str(notes) and reporter.handle not in str(notes)
    dismissed = await ok(
        await call(
            node, "POST", f"/api/v1/reports/{second['id']}/actions", w.admin, {"action": "dismiss"}
        )
    )
    assert dismissed["report"]["status"] == "dismissed"
    assert [e["id"] for e in (await queue(node, w.teacher.token))["items"]] == [third["id"]]
    closed = await queue(node, w.teacher.token, status="closed")
    assert {e["id"] for e in closed["items"]} == {first["id"], second["id"]}
    assert len((await queue(node, w.admin, status="all"))["items"]) == 3
    actions = await sql(
        database,
        "SELECT action, actor_id FROM audit_log WHERE action LIKE 'report.%' ORDER BY id",
    )
    assert [(r["action"], str(r["actor_id"])) for r in actions] == [
        ("report.warn", w.teacher.id),
        ("report.dismiss", w.admin_id),
    ]
    # The piece is not hidden: a spectator's replay still shows its text.
    replay = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.d.token))
    assert all(s["text_shown"] for s in replay["seats"] if not s["bot"])


async def b_piece_reported_twice(
    node: Node, database: str, w: World
) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """b's piece in the world's match, reported by a and by c: its alias, its public id
    and the two reports."""
    alias_b = await seat_alias(database, w.match_id, w.b.id)
    piece = f"{w.match_id}/{alias_b}"
    one = await ok(await report(node, w.a, "piece", piece, "hate"), 201)
    two = await ok(await report(node, w.c, "piece", piece, "spam"), 201)
    return alias_b, piece, one, two


async def test_hiding_a_piece(node: Node, database: str, world: World) -> None:
    w = world
    alias_b, piece, one, two = await b_piece_reported_twice(node, database, w)
    acted = await ok(
        await call(
            node,
            "POST",
            f"/api/v1/reports/{two['id']}/actions",
            w.teacher.token,
            {"action": "hide"},
        )
    )
    assert sorted(acted["closed"]) == sorted([one["id"], two["id"]])
    replay = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.d.token))
    shown = {s["alias"]: s["text_shown"] for s in replay["seats"]}
    assert shown[alias_b] is False
    own = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.b.token))
    assert {s["alias"]: s["text_shown"] for s in own["seats"]}[alias_b] is True
    mine = await ok(await call(node, "GET", "/api/v1/portfolio/me", w.b.token))
    assert mine["items"][0]["hidden"] is True and mine["items"][0]["text"]
    seen = await ok(await call(node, "GET", f"/api/v1/portfolio/{w.b.id}", w.teacher.token))
    assert seen["items"][0]["hidden"] is True and seen["items"][0]["text"] == ""
    detail = await ok(await call(node, "GET", f"/api/v1/me/matches/{w.match_id}", w.b.token))
    assert detail["report"]["hidden"] is True
    status, code, _ = await error_of(await report(node, w.d, "piece", piece))
    assert (status, code) == (404, "content_not_found")


async def test_unhiding_a_piece(node: Node, database: str, world: World) -> None:
    w = world
    alias_b, piece, one, two = await b_piece_reported_twice(node, database, w)

    async def act(report_id: str, token: str, action: str) -> Any:
        return await call(
            node, "POST", f"/api/v1/reports/{report_id}/actions", token, {"action": action}
        )

    async def shown() -> bool:
        replay = await ok(await call(node, "GET", f"/api/v1/replays/{w.match_id}", w.d.token))
        return bool({s["alias"]: s["text_shown"] for s in replay["seats"]}[alias_b])

    async def refused(report_id: str, token: str, action: str) -> tuple[int, str]:
        status, code, _ = await error_of(await act(report_id, token, action))
        return status, code

    # Only a report that hid its content can undo it.
    assert await refused(one["id"], w.teacher.token, "unhide") == (409, "not_hidden")
    await ok(await act(one["id"], w.teacher.token, "hide"))
    assert not await shown()
    # Another teacher cannot; a student has no queue.
    assert await refused(one["id"], w.other_teacher.token, "unhide") == (404, "report_not_found")
    assert await refused(one["id"], w.b.token, "unhide") == (403, "not_moderator")
    acted = await ok(await act(two["id"], w.admin, "unhide"))
    assert acted["report"]["status"] == "restored" and acted["report"]["hidden"] is False
    assert sorted(acted["closed"]) == sorted([one["id"], two["id"]])
    assert await shown()
    mine = await ok(await call(node, "GET", "/api/v1/portfolio/me", w.b.token))
    assert mine["items"][0]["hidden"] is False
    # Restored is closed: neither a second unhide nor another action applies.
    assert await refused(one["id"], w.teacher.token, "unhide") == (409, "not_hidden")
    assert await refused(one["id"], w.teacher.token, "dismiss") == (409, "report_closed")
    # The author was told both times; the audit log names the admin.
    actions = [n["data"]["action"] for n in await notifications(database, w.b)]
    assert sorted(actions) == ["hide", "unhide"]
    rows = await sql(
        database, "SELECT actor_id, target_id FROM audit_log WHERE action = 'report.unhide'"
    )
    assert [(str(r["actor_id"]), r["target_id"]) for r in rows] == [(w.admin_id, w.b.id)]
    # The piece can be hidden again through a fresh report.
    three = await ok(await report(node, w.d, "piece", piece, "hate"), 201)
    await ok(await act(three["id"], w.teacher.token, "hide"))
    assert not await shown()


async def test_who_may_report(node: Node, database: str, world: World) -> None:
    w = world
    # A practice (unranked) match of b and c: a (same class, not in it) could not see it.
    practice = await match_of(database, [w.b, w.c], ranked=False)
    alias_c = await seat_alias(database, practice, w.c.id)
    piece = f"{practice}/{alias_c}"
    for outsider in (w.a, w.d, w.other_teacher):
        status, code, _ = await error_of(await report(node, outsider, "piece", piece))
        assert (status, code) == (404, "content_not_found")
    status, code, details = await error_of(await report(node, w.c, "piece", piece))
    assert (status, code) == (422, "own_content") and "target" in details["fields"]
    await ok(await report(node, w.b, "piece", piece), 201)  # a player of the match
    await ok(await report(node, w.teacher, "piece", piece), 201)  # c's teacher
    await ok(await report(node, w.admin, "piece", piece), 201)
    for target in (f"{practice}/Nobody Here", f"{uuid.uuid4()}/{alias_c}"):
        status, code, _ = await error_of(await report(node, w.b, "piece", target))
        assert (status, code) == (404, "content_not_found")
    status, code, _ = await error_of(await report(node, w.b, "review", f"{practice}/nope"))
    assert (status, code) == (404, "content_not_found")
    resp = await call(node, "POST", "/api/v1/reports", None, {"target": {}, "reason": "spam"})
    assert resp.status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "spam"}, "target"),
        ({"target": "x", "reason": "spam"}, "target"),
        ({"target": {"kind": "essay", "id": "a/b"}, "reason": "spam"}, "target.kind"),
        ({"target": {"kind": "piece", "id": "no-slash"}, "reason": "spam"}, "target.id"),
        ({"target": {"kind": "piece", "id": "not-a-uuid/x"}, "reason": "spam"}, "target.id"),
        ({"target": {"kind": "piece", "id": 5}, "reason": "spam"}, "target.id"),
        ({"target": {"kind": "piece", "id": "a/b", "x": 1}, "reason": "spam"}, "target"),
        ({"target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"}}, "reason"),
        ({"target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"}, "reason": "rude"}, "reason"),
        (
            {
                "target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"},
                "reason": "spam",
                "note": "x" * 1001,
            },
            "note",
        ),
        (
            {
                "target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"},
                "reason": "spam",
                "note": 7,
            },
            "note",
        ),
        (
            {
                "target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"},
                "reason": "spam",
                "mood": "sad",
            },
            "mood",
        ),
        (
            {
                "target": {"kind": "piece", "id": f"{uuid.UUID(int=1)}/x"},
                "reason": "spam",
                "note": "bell\x07",
            },
            "note",
        ),
    ],
)
async def test_report_validation(node: Node, body: dict[str, Any], field: str) -> None:
    p = await person(node)
    status, code, details = await error_of(
        await call(node, "POST", "/api/v1/reports", p.token, body)
    )
    assert (status, code) == (422, "validation_failed"), details
    assert field in details["fields"]


async def test_bodies_that_are_not_json(node: Node) -> None:
    p = await person(node)
    resp = await call(node, "POST", "/api/v1/reports", p.token)
    assert (await error_of(resp))[:2] == (400, "missing_body")
    resp = await call(
        node,
        "POST",
        "/api/v1/reports",
        p.token,
        data=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert (await error_of(resp))[0] == 400
    resp = await call(
        node, "POST", "/api/v1/reports", p.token, data=b"x", headers={"Content-Type": "text/plain"}
    )
    assert (await error_of(resp))[:2] == (415, "unsupported_media_type")


async def test_queue_and_action_validation(node: Node, world: World) -> None:
    w = world
    for query in ("status=maybe", "limit=0", "limit=x", "cursor=%%%"):
        resp = await call(node, "GET", f"/api/v1/reports?{query}", w.teacher.token)
        assert (await error_of(resp))[:2] == (422, "validation_failed"), query
    filed = await ok(await report(node, w.a, "review", w.review), 201)
    path = f"/api/v1/reports/{filed['id']}/actions"
    for body, field in (
        ({"action": "ban"}, "action"),
        ({}, "action"),
        ({"action": "warn", "note": "x" * 501}, "note"),
        ({"action": "warn", "extra": 1}, "extra"),
    ):
        status, code, details = await error_of(
            await call(node, "POST", path, w.teacher.token, body)
        )
        assert (status, code) == (422, "validation_failed") and field in details["fields"]
    for bad in ("nope", str(uuid.uuid4())):
        resp = await call(
            node, "POST", f"/api/v1/reports/{bad}/actions", w.admin, {"action": "dismiss"}
        )
        assert (await error_of(resp))[:2] == (404, "report_not_found")


async def test_report_rate_limit(settings: Settings, database: str, redis_url: str) -> None:
    settings = settings.replace(limits={**UNTHROTTLED, "report_writes_per_account_per_minute": 2})
    runner, node = await start_node(settings, database, redis_url)
    try:
        a, b, c = [await person(node) for _ in range(3)]
        match_id = await match_of(database, [b, c])
        aliases = [await seat_alias(database, match_id, p.id) for p in (b, c)]
        for alias in aliases:
            await ok(await report(node, a, "piece", f"{match_id}/{alias}"), 201)
        status, code, details = await error_of(
            await report(node, a, "piece", f"{match_id}/{aliases[0]}", "spam")
        )
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "reports.write"
        await ok(await report(node, b, "piece", f"{match_id}/{aliases[1]}"), 201)  # per account
    finally:
        await node.http.close()
        await runner.cleanup()

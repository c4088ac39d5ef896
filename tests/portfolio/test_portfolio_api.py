"""The portfolio over REST on real PostgreSQL and Redis: every piece with its prompt,
scores, suggestions, reviews (anonymous) and replay link; the trait and date filters;
pagination; who may read whose portfolio; the JSON and HTML exports (hostile text
escaped); validation; the export and per-account rate limits."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from server.config import Settings
from server.portfolio.html import esc, render
from tests.classes.helpers import admin_token, call, error_of, ok
from tests.conftest import UNTHROTTLED, Node, start_node
from tests.reports.helpers import class_of, match_of, person, sql, strength_of

HOSTILE = "<script>alert('x')</script> & \"quotes\" </div><img src=x onerror=alert(1)>"


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(limits=UNTHROTTLED)
    runner, n = await start_node(settings, database, redis_url)
    try:
        yield n
    finally:
        await n.http.close()
        await runner.cleanup()


async def set_match(database: str, match_id: str, when: str, focus: str = "voice") -> None:
    await sql(
        database,
        "UPDATE matches SET finished_at = $2, focus = $3 WHERE id = $1",
        uuid.UUID(match_id),
        datetime.fromisoformat(when).replace(tzinfo=UTC),
        focus,
    )


async def solo_practice(database: str, user_id: str, text: str, when: str) -> str:
    """A solo practice piece as practice rounds store it (a match of one seat)."""
    match_id = uuid.uuid4()
    at = datetime.fromisoformat(when).replace(tzinfo=UTC)
    await sql(
        database,
        "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, finished_at) "
        "VALUES ($1, 'n1', 'practice-solo', false, 'lighthouse', 'ideas', $2)",
        match_id,
        at,
    )
    await sql(
        database,
        "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, writing, "
        "review) VALUES ($1, $2, $3, 'Solo Writer', false, 1, 3.0, 3.0, 0)",
        match_id,
        user_id,
        uuid.UUID(user_id),
    )
    await sql(
        database,
        "INSERT INTO submissions (match_id, player_id, text, words, empty, withheld, edit_log) "
        "VALUES ($1, $2, $3, 3, false, false, '\\x90'::bytea)",
        match_id,
        user_id,
        text,
    )
    return str(match_id)


async def test_own_portfolio_filters_and_pages(node: Node, database: str) -> None:
    a, b, c = [await person(node) for _ in range(3)]
    m1 = await match_of(database, [a, b, c])
    m2 = await match_of(database, [a, b])
    m3 = await match_of(database, [a, c])
    await set_match(database, m1, "2026-03-01T10:00:00", "voice")
    await set_match(database, m2, "2026-03-15T10:00:00", "ideas")
    await set_match(database, m3, "2026-04-02T10:00:00", "voice")
    solo = await solo_practice(database, a.id, "Alone by the lamp.", "2026-04-03T09:00:00")
    page = await ok(await call(node, "GET", "/api/v1/portfolio/me", a.token))
    assert page["owner"] == {"user_id": a.id, "display_name": a.name}
    assert [p["match_id"] for p in page["items"]] == [solo, m3, m2, m1]
    assert page["next_cursor"] is None
    first = page["items"][3]
    assert first["prompt"]["id"] == "lighthouse" and first["prompt"]["title"]
    assert first["text"] == f"The lamp of {a.handle} burns over the grey sea."
    assert first["date"].startswith("2026-03-01") and first["focus"] == "voice"
    assert set(first["traits"]) and all(1 <= v <= 6 for v in first["traits"].values())
    assert first["replay"] == {"api": f"/api/v1/replays/{m1}", "page": f"/replays/{m1}"}
    assert first["reviews_received"] and first["reviews_given"]
    # Reviews received are anonymous: no reviewer's id or handle anywhere on the page.
    for other in (b, c):
        assert other.id not in orjson.dumps(page).decode()
        assert other.handle not in orjson.dumps(page).decode()
    assert {r["strength"] for r in first["reviews_given"]} == {strength_of(a.id)}
    assert page["items"][0]["mode"] == "practice-solo" and page["items"][0]["replay"] is None
    # Filters: focus trait, dates (both days included), both.
    ideas = await ok(await call(node, "GET", "/api/v1/portfolio/me?trait=ideas", a.token))
    assert [p["match_id"] for p in ideas["items"]] == [solo, m2]
    march = await ok(
        await call(node, "GET", "/api/v1/portfolio/me?from=2026-03-01&to=2026-03-15", a.token)
    )
    assert [p["match_id"] for p in march["items"]] == [m2, m1]
    both = await ok(
        await call(node, "GET", "/api/v1/portfolio/me?trait=voice&from=2026-03-02", a.token)
    )
    assert [p["match_id"] for p in both["items"]] == [m3]
    # Pages of two.
    seen: list[str] = []
    cursor = None
    while True:
        q = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        got = await ok(await call(node, "GET", "/api/v1/portfolio/me" + q, a.token))
        seen += [p["match_id"] for p in got["items"]]
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert seen == [solo, m3, m2, m1]


async def test_who_may_read_a_portfolio(node: Node, database: str) -> None:
    teacher, other_teacher = await person(node, "teacher"), await person(node, "teacher")
    student, classmate, outsider = [await person(node) for _ in range(3)]
    _, admin = await admin_token(node)
    await class_of(node, database, teacher, [student, classmate])
    await match_of(database, [student, outsider])
    path = f"/api/v1/portfolio/{student.id}"
    for token in (teacher.token, admin, student.token):
        body = await ok(await call(node, "GET", path, token))
        assert len(body["items"]) == 1 and body["owner"]["user_id"] == student.id
    for who in (classmate, outsider, other_teacher):
        status, code, _ = await error_of(await call(node, "GET", path, who.token))
        assert (status, code) == (404, "portfolio_not_found")
    for bad in ("nope", str(uuid.uuid4())):
        resp = await call(node, "GET", f"/api/v1/portfolio/{bad}", admin)
        assert (await error_of(resp))[:2] == (404, "portfolio_not_found")
    assert (await call(node, "GET", "/api/v1/portfolio/me")).status == 401
    # A deleted account has no portfolio any more, not even for admins.
    resp = await call(
        node, "DELETE", "/api/v1/auth/me", student.token, {"password": "correct horse battery"}
    )
    assert resp.status == 204
    for token in (teacher.token, admin):
        assert (await error_of(await call(node, "GET", path, token)))[:2] == (
            404,
            "portfolio_not_found",
        )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("trait=charm", "trait"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-01-01T00:00:00", "to"),
        ("from=2026-02-02&to=2026-02-01", "to"),
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("cursor=abc", "cursor"),
    ],
)
async def test_portfolio_validation(node: Node, query: str, field: str) -> None:
    p = await person(node)
    resp = await call(node, "GET", f"/api/v1/portfolio/me?{query}", p.token)
    status, code, details = await error_of(resp)
    assert (status, code) == (422, "validation_failed") and field in details["fields"]


async def test_exports_json_and_html_with_hostile_text(node: Node, database: str) -> None:
    a, b = await person(node), await person(node)
    await match_of(database, [a, b], texts=[HOSTILE + "\nSecond line.", "Plain."])
    # Text from before the text rule (or written around it) gets the same treatment.
    await solo_practice(database, a.id, "bell\x07 nul-free \x1b[31m red", "2026-01-01T00:00:00")
    resp = await call(node, "GET", "/api/v1/portfolio/me/export?format=json", a.token)
    doc = await ok(resp)
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="portfolio-')
    assert doc["format"] == "quill.portfolio" and doc["truncated"] is False
    assert len(doc["pieces"]) == 2 and doc["pieces"][1]["text"].startswith(HOSTILE)
    resp = await call(node, "GET", "/api/v1/portfolio/me/export?format=html", a.token)
    assert resp.status == 200 and resp.content_type == "text/html"
    assert resp.headers["Content-Disposition"].endswith('.html"')
    page = await resp.text()
    assert "<script" not in page.lower()
    assert "<img" not in page and html.escape(HOSTILE, quote=True) in page
    assert "\x07" not in page and "\x1b" not in page and "\ufffd" in page
    assert not re.search(r"""(src|href)=['"]https?://(?!127\.0\.0\.1)""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "@media print" in page and "break-before: page" in page
    assert page.count("<article") == 2
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    default = await call(node, "GET", "/api/v1/portfolio/me/export", a.token)
    assert default.content_type == "application/json"
    resp = await call(node, "GET", "/api/v1/portfolio/me/export?format=pdf", a.token)
    assert (await error_of(resp))[:2] == (422, "validation_failed")


def test_the_html_of_an_empty_portfolio() -> None:
    page = render("Ada <b>", "2026-01-01T00:00:00Z", [])
    assert "Portfolio of Ada &lt;b&gt;" in page and "No pieces yet." in page


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_escaping_any_text(text: str) -> None:
    out = esc(text)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", out)
    # Escaping loses nothing but the refused characters.
    back = html.unescape(out)
    assert len(back) == len(text)


async def test_export_rate_limit(settings: Settings, database: str, redis_url: str) -> None:
    settings = settings.replace(limits={**UNTHROTTLED, "exports_per_account_per_hour": 2})
    runner, node = await start_node(settings, database, redis_url)
    try:
        a, b = await person(node), await person(node)
        await ok(await call(node, "GET", "/api/v1/portfolio/me/export", a.token))
        await ok(await call(node, "GET", "/api/v1/me/export", a.token))  # the same bucket
        resp = await call(node, "GET", "/api/v1/portfolio/me/export?format=html", a.token)
        status, code, details = await error_of(resp)
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "export"
        assert details["window_s"] == 3600 and int(resp.headers["Retry-After"]) > 0
        await ok(await call(node, "GET", "/api/v1/portfolio/me/export", b.token))
    finally:
        await node.http.close()
        await runner.cleanup()


async def test_the_per_account_rest_limit(
    settings: Settings, database: str, redis_url: str
) -> None:
    """limits.api_per_account_per_minute (default 100) holds on the portfolio routes, for
    one account wherever it comes from, besides the per-address limit."""
    assert Settings().limits.api_per_account_per_minute == 100
    limits = {**UNTHROTTLED, "api_per_account_per_minute": 5}
    runner, node = await start_node(settings.replace(limits=limits), database, redis_url)
    try:
        a, b = await person(node), await person(node)
        for _ in range(5):
            await ok(await call(node, "GET", "/api/v1/portfolio/me", a.token))
        status, code, details = await error_of(
            await call(node, "GET", "/api/v1/portfolio/me", a.token)
        )
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "api.account"
        await ok(await call(node, "GET", "/api/v1/portfolio/me", b.token))
    finally:
        await node.http.close()
        await runner.cleanup()

"""Watching matches in the browser: real Chromium (Debian's), a real node with PostgreSQL
and Redis, short phases.

A player's finished match plays back as a replay (the results screen and the *Me* page
link to it): the page's seek (``server/web/js/replay.js``) gives exactly the texts of the
reference ``seek`` of ``server/replays/build.py`` at hundreds of moments, it plays at 4×,
the keys move it, the middle of the write phase shows partial pieces, the end shows the
scores, reviews and the pasted passage marked.  A spectator opens *Watch*, follows a live
ranked match with bots (the drafts grow, a short spectator delay), and when it ends opens
its replay.  Every screen is scanned with axe-core at phone and desktop width and
photographed."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.config import Settings
from server.replays.build import seek
from tests.conftest import Node, start_node
from tests.realtime.helpers import replay_stored
from tests.web.browser import (
    DESKTOP,
    PHONE,
    Shots,
    require_chromium,
)
from tests.web.conftest import web_settings
from tests.web.players import BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(300)

TYPED = ["The keeper woke before the storm. ", "He climbed the stairs slowly. "]
PASTED = "A long line copied from somewhere else, pasted in one go to see it marked as pasted. "
LIVE_DELAY = 1.5  # match.spectator_delay_seconds of the live test's node

# The text of every piece on the page (the screen-reader-only paste markers left out).
PIECES_JS = """() => Array.from(document.querySelectorAll('.seat-card')).map((card) => {
  const box = card.querySelector('.piece-view');
  if (!box) return null;
  const copy = box.cloneNode(true);
  copy.querySelectorAll('.sr-only, .hint').forEach((e) => e.remove());
  return copy.textContent;
})"""

# Whether the pieces on the page are exactly ``want``.
SAME_JS = f"(want) => JSON.stringify(want) === JSON.stringify(({PIECES_JS})())"

# The replay document as the page's own REST client gets it.
REPLAY_JS = """async (id) => {
  const auth = JSON.parse(localStorage.getItem('quill.auth'));
  const r = await fetch('/api/v1/replays/' + id, {headers: {Authorization: 'Bearer ' + auth.access_token}});
  return r.json();
}"""

# The page's seek (js/replay.js) at each moment, and its timeline seeking and playing on.
SEEK_JS = """async ([doc, times]) => {
  const { seek, Timeline } = await import('/app/js/replay.js');
  const tl = new Timeline(doc);
  let cursor = null;
  return times.map((t) => {
    cursor = tl.advance(cursor, t);
    return [seek(doc, t), tl.seekTo(t).pieces.map((p) => p.text), cursor.pieces.map((p) => p.text)];
  });
}"""


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    """axe-core at phone and desktop width (no serious or critical violation), then the
    screenshots (desktop, phone; no sideways scrolling at 200 % zoom either)."""
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(f"{name} ({label})")
    await shots.take(p.page, name)


async def play_a_match(p: BrowserPlayer) -> str:
    """Quick play (ranked, with bots): write in steps (one of them pasted), review, results;
    the match's id."""
    page = p.page
    await page.get_by_role("button", name="Quick play").click()
    await p.ready()
    editor = p.editor()
    await expect(editor).to_be_focused()
    for part in TYPED:
        await page.keyboard.type(part)
        await p.saved()
    await page.keyboard.insert_text(PASTED)  # one insert of 60+ characters: a paste
    await p.saved()
    await p.review_all()
    await p.results()
    value = await page.evaluate(
        "() => JSON.parse(localStorage.getItem('quill.match') || 'null')?.match?.match_id"
    )
    assert isinstance(value, str)
    return value


def moments(doc: dict[str, Any]) -> list[float]:
    """Every quarter second, and each edit's own time and a hair either side of it."""
    start, end = doc["start"], doc["end"]
    out = {start + 0.25 * i for i in range(int((end - start) / 0.25) + 2)}
    for edits in doc["edits"]:
        for e in edits:
            out |= {e[0], e[0] - 1e-6, e[0] + 1e-6}
    out.add(start - 1.0)
    return sorted(out)


def phase_at(doc: dict[str, Any], name: str) -> tuple[float, float]:
    """When the phase ``name`` began, and when the next phase began."""
    marks = doc["phases"]
    i = next(i for i, m in enumerate(marks) if m["phase"] == name)
    nxt = next((m["at"] for m in marks[i + 1 :] if m["phase"] != name), doc["end"])
    return marks[i]["at"], nxt


async def pieces(p: BrowserPlayer) -> list[str | None]:
    value = await p.page.evaluate(PIECES_JS)
    assert isinstance(value, list)
    return value


async def check_replay(p: BrowserPlayer, match_id: str, shots: Shots, prefix: str) -> None:
    """The replay player on ``match_id``: its seek against the reference, play at 4×, the
    keys, partial pieces in the middle of the write phase, the scores at the end."""
    page = p.page
    await expect(page).to_have_url(re.compile(f"/replays/{match_id}$"))
    await expect(page.get_by_role("heading", name=re.compile("^Replay"), level=1)).to_be_visible()
    doc = await page.evaluate(REPLAY_JS, match_id)
    assert doc["format"] == "quill.replay" and doc["status"] == "finished"
    cards = page.locator(".seat-card")
    await expect(cards).to_have_count(len(doc["seats"]))
    final = seek(doc, doc["end"])

    # The page seeks exactly as the server's reference does, at every moment that matters.
    times = moments(doc)
    assert len(times) > 50
    got = await page.evaluate(SEEK_JS, [doc, times])
    for t, (js_seek, js_keyframe, js_forward) in zip(times, got, strict=True):
        want = seek(doc, t)
        assert js_seek == want and js_keyframe == want and js_forward == want, t
    await scan(p, shots, f"{prefix}-replay-start")

    # Play at 4×: the pieces start to grow; Space pauses.
    play = page.get_by_role("button", name="Play", exact=True)
    await play.click()
    await expect(page.get_by_role("button", name="Pause")).to_be_visible()
    await page.get_by_role("button", name="4×").click()
    await expect(page.get_by_role("button", name="4×")).to_have_attribute("aria-pressed", "true")
    await page.wait_for_function(
        f"() => ({PIECES_JS})().some((t) => t && t.length > 0)", polling="raf"
    )
    await page.get_by_role("slider", name="Position").focus()  # Space on a button presses it
    await page.keyboard.press("Space")
    await expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    await page.keyboard.press("8")
    await expect(page.get_by_role("button", name="8×")).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("-")
    await expect(page.get_by_role("button", name="4×")).to_have_attribute("aria-pressed", "true")

    # The middle of the write phase, by the keys: the phase's mark, then → by 5 s.
    began, ended = phase_at(doc, "write")
    await (
        page.get_by_role("group", name="Jump to a phase")
        .get_by_role("button", name=re.compile("^Writing"))
        .click()
    )
    steps = max(1, round((ended - began) / 2 / 5))
    for _ in range(steps):
        await page.keyboard.press("ArrowRight")
    middle = began + 5 * steps
    assert began < middle < ended
    want = seek(doc, middle)
    await expect(page.locator(".replay-clock .phase-tag")).to_have_text("Writing")
    await page.wait_for_function(SAME_JS, arg=want)
    partial = [i for i, (w, f) in enumerate(zip(want, final, strict=True)) if w and len(w) < len(f)]
    assert partial, (want, final)  # some piece is still being written
    await expect(page.get_by_role("slider", name="Position")).to_have_attribute(
        "aria-valuetext", re.compile("Writing")
    )
    await scan(p, shots, f"{prefix}-replay-middle")

    # The end: every final text, the pasted passage marked, the scores and reviews.
    await page.get_by_role("slider", name="Position").focus()
    await page.keyboard.press("End")
    await page.wait_for_function(SAME_JS, arg=final)
    await expect(page.locator("mark.pasted").filter(has_text=PASTED.strip())).to_have_count(1)
    await expect(page.get_by_role("heading", name="Results", level=2)).to_be_visible()
    await expect(page.locator(".outcome table.ranking tbody tr")).to_have_count(len(doc["seats"]))
    await expect(page.locator(".outcome .reviews li").first).to_be_visible()
    await scan(p, shots, f"{prefix}-replay-end")
    await page.keyboard.press("Home")
    await expect(page.locator(".replay-clock .clock-value")).to_contain_text("0:00")


async def test_a_finished_match_plays_as_a_replay(
    browser: Browser, web_node: Node, database: str, shots: Shots
) -> None:
    p = await BrowserPlayer.open(browser, web_node.url, "replayer")
    page = p.page
    try:
        await p.start_as_guest()
        match_id = await play_a_match(p)
        await replay_stored(database, match_id)  # closed: the whole match, from PostgreSQL
        await page.get_by_role("link", name="Watch the replay").click()
        await check_replay(p, match_id, shots, "01")

        await page.get_by_role("link", name="Me", exact=True).click()
        await expect(page.get_by_role("heading", name="Past matches")).to_be_visible()
        link = page.locator(f"a[href='/replays/{match_id}']")
        await expect(link).to_have_accessible_name(re.compile("^Replay of "))
        await scan(p, shots, "02-me-with-replays")
        await link.click()
        await expect(
            page.get_by_role("heading", name=re.compile("^Replay"), level=1)
        ).to_be_focused()
        p.check_clean()
    finally:
        await p.close()


async def test_a_spectator_follows_a_live_match_then_its_replay(
    browser: Browser, settings: Settings, database: str, redis_url: str, shots: Shots
) -> None:
    s = web_settings(settings, spectator_delay_seconds=LIVE_DELAY, write_seconds=20.0)
    runner, node = await start_node(s, database, redis_url)
    player = await BrowserPlayer.open(browser, node.url, "writer")
    fan = await BrowserPlayer.open(browser, node.url, "spectator")
    page = fan.page
    try:
        await fan.start_as_guest()
        # A match that is not being played (or not one to watch): said plainly.
        await page.goto(f"/watch/{uuid.uuid4()}")
        await expect(page.locator("main .form-error")).to_contain_text(
            "isn't being played on this server"
        )
        await expect(page.get_by_role("button", name="Try again")).to_be_visible()
        await scan(fan, shots, "03-spectate-not-found")
        await page.get_by_role("link", name="Watch", exact=True).click()
        await expect(page.get_by_role("heading", name="Watch", level=1)).to_be_focused()
        await expect(page.get_by_text("No matches are being played right now")).to_be_visible()
        await scan(fan, shots, "03-watch-empty")

        await player.start_as_guest()
        playing = asyncio.create_task(play_a_match(player))
        # The list refreshes by itself (every 10 s while visible): the match shows up.
        item = page.locator(".live-item").filter(has_text="Ranked")
        await expect(item).to_have_count(1)
        await expect(item).to_contain_text("bot")
        await scan(fan, shots, "04-watch-live")
        await item.get_by_role("link", name="Watch this match").click()

        await expect(
            page.get_by_role("heading", name=re.compile("^Watching"), level=1)
        ).to_be_visible()
        await expect(page.get_by_text(f"{LIVE_DELAY} s behind live")).to_be_visible()
        await expect(page.locator(".spectate-clock .phase-tag")).to_have_text(re.compile("Writing"))
        lengths = await page.evaluate(f"() => ({PIECES_JS})().map((t) => (t || '').length)")
        # Drafts grow as the spectator watches: some seat's text gets longer.
        await page.wait_for_function(
            f"(before) => ({PIECES_JS})().some((t, i) => (t || '').length > before[i])",
            arg=lengths,
        )
        words = page.locator(".seat-card .seat-stats .num")
        await expect(words.first).to_be_visible()
        await scan(fan, shots, "05-spectate-writing")

        match_id = await playing
        assert page.url.endswith(f"/watch/{match_id}")
        await expect(page.get_by_role("heading", name="Results", level=2)).to_be_visible()
        replay = page.get_by_role("link", name="Watch the replay")
        await expect(replay).to_be_visible()
        await expect(page.locator(".outcome table.ranking tbody tr")).to_have_count(
            await page.locator(".seat-card").count()
        )
        await scan(fan, shots, "06-spectate-ended")
        await replay_stored(database, match_id)
        await replay.click()
        await check_replay(fan, match_id, shots, "07")
        assert any('"spectate.join"' in f for f in fan.frames_out)
        player.check_clean()
        fan.check_clean()
    finally:
        await player.close()
        await fan.close()
        await node.http.close()
        await runner.cleanup()

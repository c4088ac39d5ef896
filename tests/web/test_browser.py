"""The browser client end to end: real Chromium (Debian's), a real node with PostgreSQL and
Redis, short phases.  Each test plays whole matches as people would, by role and label;
every screen is scanned with axe-core and photographed at desktop and phone size."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from server.accounts.tokens import AccessClaims
from server.config import Settings
from server.http.state import REALTIME, SIGNER
from tests.conftest import Node, start_node
from tests.realtime.helpers import fetch, http_for, replay_stored
from tests.web.browser import WAIT_MS, Shots, require_chromium
from tests.web.conftest import web_settings
from tests.web.players import PIECE, BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(240)


async def match_id_of(player: BrowserPlayer) -> str:
    value = await player.page.evaluate(
        "() => JSON.parse(localStorage.getItem('quill.match') || 'null')?.match?.match_id"
    )
    assert isinstance(value, str)
    return value


async def test_a_newcomer_plays_a_quick_match_and_finds_it_on_me(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    p = await BrowserPlayer.open(browser, web_node.url, "newcomer")
    page = p.page
    try:
        await page.goto("/")
        await expect(page.get_by_role("button", name="Play as guest")).to_be_visible()
        await p.screen(shots, "01-home")
        await page.get_by_role("button", name="Play as guest").click()
        await expect(page).to_have_url(re.compile("/play$"))
        await expect(page.get_by_role("button", name="Quick play")).to_be_visible()
        await p.screen(shots, "02-play")

        await page.get_by_role("button", name="Quick play").click()
        await expect(page.get_by_role("heading", name="Lobby")).to_be_visible()
        await expect(page.get_by_role("button", name="Ready")).to_be_focused()
        await p.screen(shots, "03-lobby")
        await page.get_by_role("button", name="Ready").click()

        editor = p.editor()
        await expect(editor).to_be_focused()
        await expect(page.get_by_role("img", name=re.compile("."))).to_be_visible()
        await page.keyboard.type(PIECE)
        await p.saved()
        await expect(page.locator(".words strong")).to_have_text(str(len(PIECE.split())))
        await p.screen(shots, "04-write")

        total = await p.review_all(shots)
        assert total == 2
        await p.screen(shots, "05-feedback-done")
        await p.results()
        await expect(page.locator(".trait-chart li")).to_have_count(7)
        await expect(
            page.get_by_role("heading", name="Your piece, with suggestions")
        ).to_be_visible()
        await expect(page.locator(".suggestions li").first).to_be_visible()
        await expect(page.get_by_role("button", name="Play again")).to_be_visible()
        await p.screen(shots, "06-results")
        match_id = await match_id_of(p)

        await page.get_by_role("link", name="Me", exact=True).click()
        await expect(page.get_by_role("heading", name="Past matches")).to_be_visible()
        await expect(page.locator("table.matches tbody tr")).to_have_count(1)
        await p.screen(shots, "07-me")
        await page.locator(f"a[href='/me/matches/{match_id}']").click()
        await expect(page).to_have_url(re.compile(f"/me/matches/{match_id}$"))
        await p.results()
        await expect(page.locator(".trait-chart li")).to_have_count(7)
        await p.screen(shots, "08-past-results")
        p.check_clean()
    finally:
        await p.close()


@contextlib.asynccontextmanager
async def matchmaker(settings: Settings, redis_url: str) -> AsyncIterator[None]:
    """The matchmaker process's service, run in this process (as the realtime tests do)."""
    from matchmaker.service import Matchmaker

    redis = Redis.from_url(redis_url)
    mm = Matchmaker(redis, settings, instance_id="mm-web")
    stop = asyncio.Event()
    task = asyncio.create_task(mm.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_MS / 1000)
        await redis.aclose()


async def test_four_browser_players_on_ranked_are_matched_and_finish(
    browser: Browser, settings: Settings, database: str, redis_url: str, shots: Shots
) -> None:
    # Four pages type their pieces at once: on a busy machine that takes longer than the
    # usual 10 s phase, and a piece cut off before "Saved" would fail the test.
    s = web_settings(settings, write_seconds=30.0).replace(
        server={"node_id": "web-ranked"},
        matchmaker={
            "tick_seconds": 0.05,
            "accept_five_after_seconds": 0.2,
            "accept_four_after_seconds": 0.5,
            "bot_fill_after_seconds": 600.0,  # people only
        },
    )
    runner, node = await start_node(s, database, redis_url)
    players: list[BrowserPlayer] = []
    try:
        await node.app[REALTIME].connect_matchmaking(node.url)
        players = list(
            await asyncio.gather(
                *(BrowserPlayer.open(browser, node.url, f"p{i}") for i in range(4))
            )
        )
        await asyncio.gather(*(p.start_as_guest() for p in players))
        async with matchmaker(s, redis_url):
            first = players[0].page
            await first.get_by_role("button", name="Ranked").click()
            await expect(first.get_by_text(re.compile("Looking for players"))).to_be_visible()
            await expect(first.get_by_role("button", name="Cancel")).to_be_focused()
            await players[0].screen(shots, "09-ranked-queue")
            await first.get_by_role("button", name="Cancel").click()
            await expect(first.get_by_role("button", name="Ranked")).to_be_visible()

            async def play(p: BrowserPlayer, i: int) -> str:
                await p.page.get_by_role("button", name="Ranked").click()
                await p.ready()
                await p.write(f"Player {i} writes about the storm. " + PIECE)
                assert await p.review_all() == 2
                await p.results()
                await expect(p.page.locator("table.ranking tbody tr")).to_have_count(4)
                return await match_id_of(p)

            ids = await asyncio.gather(*(play(p, i) for i, p in enumerate(players)))
        assert len(set(ids)) == 1
        await players[1].screen(shots, "10-ranked-results")
        await replay_stored(database, ids[0])
        rows = await fetch(
            database,
            "SELECT count(*) AS n FROM seats WHERE match_id = $1 AND NOT is_bot",
            uuid.UUID(ids[0]),
        )
        assert rows[0]["n"] == 4
        for p in players:
            p.check_clean()
    finally:
        for p in players:
            await p.close()
        await node.http.close()
        await runner.cleanup()


async def test_offline_writing_is_kept_and_a_reload_lands_back_in_the_match(
    browser: Browser, settings: Settings, database: str, redis_url: str, shots: Shots
) -> None:
    runner, node = await start_node(web_settings(settings, write_seconds=30.0), database, redis_url)
    p = await BrowserPlayer.open(browser, node.url, "offline")
    page = p.page
    try:
        await p.start_as_guest()
        await page.evaluate("() => navigator.serviceWorker.ready")  # the shell is cached
        user_id = await page.evaluate(
            "() => JSON.parse(localStorage.getItem('quill.auth')).user.id"
        )
        await page.get_by_role("button", name="Quick play").click()
        await p.ready()
        await p.write("First, online.")

        await p.context.set_offline(True)
        await expect(page.get_by_text(re.compile("Offline — your writing is kept"))).to_be_visible()
        await p.editor().press("End")
        await page.keyboard.type(" Then typed offline, every word.")
        await expect(page.locator(".save-state")).to_have_text(
            re.compile("Offline — kept on this device")
        )
        await p.screen(shots, "11-write-offline")

        # A reload without network: the service worker's shell, the local draft.
        await page.reload()
        await expect(p.editor()).to_have_value("First, online. Then typed offline, every word.")
        await expect(page.locator(".save-state")).to_have_text(re.compile("Offline"))
        await p.editor().press("End")
        await page.keyboard.type(" Still offline after a reload.")

        await p.context.set_offline(False)
        await p.saved()

        # A reload online (within the reconnect grace) lands back in the match.
        await page.reload()
        await expect(page).to_have_url(re.compile("/match$"))
        text = "First, online. Then typed offline, every word. Still offline after a reload."
        await expect(p.editor()).to_have_value(text)
        await p.editor().press("End")
        await page.keyboard.type(" Back for good.")
        await p.saved()
        text += " Back for good."

        # A seq the server never saw (say, edits lost with a crashed tab): the next op edit
        # leaves a gap, the server asks for a snapshot, the client sends one and is saved.
        await page.evaluate(
            "() => { const k = Object.keys(localStorage).find((k) => k.startsWith('quill.draft.'));"
            " const d = JSON.parse(localStorage.getItem(k)); d.seq += 5;"
            " localStorage.setItem(k, JSON.stringify(d)); }"
        )
        await page.reload()
        await expect(p.editor()).to_have_value(text)
        await p.editor().press("End")
        await page.keyboard.type(" Repaired.")
        await p.saved()
        assert any('"draft.snapshot_needed"' in f for f in p.frames_in)
        assert any('"snapshot"' in f for f in p.frames_out)
        text += " Repaired."

        await p.review_all()
        await p.results()
        match_id = await match_id_of(p)
        await replay_stored(database, match_id)
        rows = await fetch(
            database,
            "SELECT text FROM submissions WHERE match_id = $1 AND player_id = $2",
            uuid.UUID(match_id),
            user_id,
        )
        assert rows and rows[0]["text"] == text
        p.check_clean()
    finally:
        await p.close()
        await node.http.close()
        await runner.cleanup()


async def tab_to(page: Page, name: str, *, limit: int = 40) -> None:
    """Press Tab until the focused element's accessible name contains ``name``."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "() => { const e = document.activeElement;"
            " if (!e || !['A', 'BUTTON', 'INPUT', 'TEXTAREA'].includes(e.tagName)) return '';"
            " const l = e.labels && e.labels[0]; return (e.getAttribute('aria-label')"
            " || (l && l.textContent) || e.textContent || '').trim(); }"
        )
        if name.lower() in focused.lower():
            await assert_focus_visible(page)
            return
    raise AssertionError(f"Tab never reached {name!r}")


async def assert_focus_visible(page: Page) -> None:
    style = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, document.activeElement.matches(':focus-visible')]; }"
    )
    assert style[0] != "none" and style[1] != "0px" and style[2], style


async def test_a_whole_match_with_the_keyboard_alone(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    p = await BrowserPlayer.open(
        browser, web_node.url, "keyboard", color_scheme="dark", reduced_motion="reduce"
    )
    page, kb = p.page, p.page.keyboard
    try:
        await page.goto("/")
        await tab_to(page, "Play as guest")
        await kb.press("Enter")
        await expect(page.get_by_role("heading", name="Play", exact=True)).to_be_focused()
        await tab_to(page, "Quick play")
        await kb.press("Enter")
        ready = page.get_by_role("button", name="Ready")
        await expect(ready).to_be_focused()
        await assert_focus_visible(page)
        await kb.press("Enter")

        await expect(p.editor()).to_be_focused()
        await kb.type("I typed this piece without touching a mouse. The storm was loud.")
        await p.saved()
        await p.screen(shots, "12-write-dark")

        for i in (1, 2):
            heading = page.get_by_role("heading", name=re.compile(f"Piece {i} of 2"))
            await expect(heading).to_be_focused()
            await kb.press("Tab")
            await expect(page.get_by_label("What works")).to_be_focused()
            await kb.type("The loud storm in the second sentence pulls me in.")
            await kb.press("Tab")
            await expect(page.get_by_label("What to change")).to_be_focused()
            await kb.type("Say who is in the lighthouse in the first line.")
            await kb.press("Tab")
            first = page.get_by_role("radiogroup").get_by_role("radio").first
            await expect(first).to_be_focused()
            await kb.press("ArrowDown")
            await kb.press("ArrowDown")
            await kb.press("ArrowDown")
            await expect(page.get_by_role("radiogroup").get_by_role("radio").nth(3)).to_be_checked()
            if i == 1:
                await p.screen(shots, "13-feedback-dark")
            await tab_to(page, "Send review")
            await kb.press("Enter")

        results = page.get_by_role("heading", name=re.compile("Results"), level=1)
        await expect(results).to_be_focused()
        await p.screen(shots, "14-results-dark")
        await tab_to(page, "Play again")
        await kb.press("Enter")
        await expect(page.get_by_role("heading", name="Play", exact=True)).to_be_focused()
        # The last match still shows its results until it closes; the next one starts then.
        await tab_to(page, "Quick play")
        await kb.press("Enter")
        await expect(page.get_by_role("heading", name="Lobby")).to_be_visible()
        await expect(page.get_by_role("button", name="Ready")).to_be_focused()
        p.check_clean()
    finally:
        await p.close()


async def test_accounts_sign_up_sign_out_sign_in_upgrade_and_refresh(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    status, _ = await http_for(web_node).post(
        "/api/v1/auth/register", {"handle": "takenname", "password": "correct horse battery"}
    )
    assert status == 201
    p = await BrowserPlayer.open(browser, web_node.url, "accounts")
    page = p.page
    try:
        await page.goto("/")
        await page.get_by_role("button", name="Create account", exact=True).click()
        form = page.locator("#register-panel form")
        await form.get_by_label("Handle").fill("x")
        await form.get_by_label("Password").fill("short")
        await form.get_by_role("button", name="Create account").click()
        await expect(form.locator("#register-handle-error")).to_contain_text("3–24")
        await expect(form.locator("#register-password-error")).to_contain_text("8–128")
        await expect(form.get_by_label("Handle")).to_be_focused()
        await p.screen(shots, "15-create-account-errors")
        await form.get_by_label("Handle").fill("TakenName")
        await form.get_by_label("Password").fill("a long enough password")
        await form.get_by_role("button", name="Create account").click()
        await expect(form.locator("#register-handle-error")).to_contain_text("taken")

        await form.get_by_label("Handle").fill("newwriter")
        await form.get_by_role("button", name="Create account").click()
        await expect(page).to_have_url(re.compile("/play$"))
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("button", name="Play as guest")).to_be_visible()
        assert await page.evaluate("() => localStorage.getItem('quill.auth')") is None

        await page.get_by_role("button", name="Sign in", exact=True).click()
        signin = page.locator("#signin-panel form")
        await signin.get_by_label("Handle").fill("newwriter")
        await signin.get_by_label("Password").fill("not the password")
        await signin.get_by_role("button", name="Sign in").click()
        await expect(signin.get_by_text("don't match")).to_be_visible()
        await signin.get_by_label("Password").fill("a long enough password")
        await signin.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile("/play$"))
        await page.get_by_role("button", name="Sign out").click()

        # A guest upgrades on the Me page and stays the same account.
        await page.get_by_role("button", name="Play as guest").click()
        await expect(page).to_have_url(re.compile("/play$"))
        guest_id = await page.evaluate(
            "() => JSON.parse(localStorage.getItem('quill.auth')).user.id"
        )
        await page.get_by_role("link", name="Me", exact=True).click()
        upgrade = page.locator(".me form")
        await upgrade.get_by_label("Handle").fill("upgraded")
        await upgrade.get_by_label("Password").fill("another good password")
        await p.screen(shots, "16-me-upgrade")
        await upgrade.get_by_role("button", name="Create account").click()
        await expect(page.locator("main .notice")).to_contain_text("Your account is ready")
        auth = await page.evaluate("() => JSON.parse(localStorage.getItem('quill.auth'))")
        assert auth["user"]["id"] == guest_id and auth["user"]["handle"] == "upgraded"

        # An access token the server calls expired is refreshed on the 401, then retried.
        now = int(time.time())
        expired = web_node.app[SIGNER].issue(
            AccessClaims(
                user_id=guest_id,
                role="player",
                guest=False,
                session_id=str(uuid.uuid4()),
                issued_at=now - 100,
                expires_at=now - 50,
            )
        )
        await page.evaluate(
            "(t) => { const a = JSON.parse(localStorage.getItem('quill.auth'));"
            " a.access_token = t; a.expires_at = Date.now() + 3600e3;"
            " localStorage.setItem('quill.auth', JSON.stringify(a)); }",
            expired,
        )
        async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as got:
            await page.reload()
        assert (await got.value).status == 200
        await expect(page.get_by_role("heading", name="Past matches")).to_be_visible()
        await expect(page.get_by_text("No finished matches yet")).to_be_visible()
        p.check_clean()
    finally:
        await p.close()

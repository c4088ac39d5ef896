"""Leaderboards in the browser (Debian's Chromium, a real node, PostgreSQL and Redis):
the current season's board with your place, a past season, all time, your pod's board;
axe-core at phone and desktop width, and the screenshots."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.config import Settings
from tests.classes.helpers import PASSWORD, call, ok, register
from tests.conftest import start_node
from tests.leaderboards.test_leaderboards_api import rate
from tests.web.browser import DESKTOP, PHONE, Shots, require_chromium
from tests.web.conftest import web_settings
from tests.web.players import BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(300)


async def test_a_player_reads_the_boards_by_season(
    browser: Browser, settings: Settings, database: str, redis_url: str, shots: Shots
) -> None:
    # Weekly seasons from two weeks ago: 1 and 2 are over, 3 is this week's.
    first = datetime.now(UTC).date() - timedelta(days=14)
    weekly = web_settings(settings).replace(seasons={"first_start": first.isoformat(), "weeks": 1})
    runner, node = await start_node(weekly, database, redis_url)
    p = await BrowserPlayer.open(browser, node.url, "reader")
    try:
        me, rival, veteran = [await register(node) for _ in range(3)]
        await rate(database, me["user"]["id"], 28, 1)  # now: 25
        await rate(database, rival["user"]["id"], 33, 1)  # now: 30
        long_ago = datetime.combine(first + timedelta(days=2), datetime.min.time(), UTC)
        await rate(database, veteran["user"]["id"], 40, 1, at=long_ago)  # season 1: 37
        page = p.page
        await page.goto("/")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        form = page.locator("#signin-panel form")
        await form.get_by_label("Handle").fill(me["user"]["handle"])
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile("/play$"))

        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Boards").click()
        await expect(page.get_by_role("heading", name="Leaderboards", level=1)).to_be_visible()
        board = page.get_by_role("table")
        await expect(board).to_contain_text(rival["user"]["display_name"])
        await expect(
            page.get_by_text(re.compile(r"You are 2nd with a rating of 25\.0"))
        ).to_be_visible()
        await expect(board).not_to_contain_text(veteran["user"]["display_name"])
        await expect(page.get_by_label("Season", exact=True)).to_contain_text("Season 3 (now)")
        await scan(p, shots, "b01-board-this-season")

        await page.get_by_label("Season", exact=True).select_option("1")
        await expect(board).to_contain_text(veteran["user"]["display_name"])
        await expect(board).not_to_contain_text(rival["user"]["display_name"])
        await expect(page.get_by_text(re.compile("not on this board this season"))).to_be_visible()
        await scan(p, shots, "b02-board-past-season")

        await page.get_by_label("Season", exact=True).select_option("all")
        rows = board.locator("tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(0)).to_contain_text(veteran["user"]["display_name"])
        await expect(rows.nth(2)).to_contain_text("you")

        # In a pod, its board is one of the choices.
        windows = [{"day": 2, "start": 17 * 60, "minutes": 120}]
        for who in (me, rival, veteran):
            profile = {"time_zone": "UTC", "windows": windows}
            await ok(
                await call(node, "PUT", "/api/v1/pods/me/profile", who["access_token"], profile)
            )
            placed = await ok(
                await call(node, "POST", "/api/v1/pods/waitlist", who["access_token"])
            )
        pod = placed["pod"]
        await page.reload()
        await page.screenshot(path="/tmp/reload.png")
        await page.get_by_label("Board", exact=True).select_option(label=f"Your pod, {pod['name']}")
        await expect(page.get_by_role("heading", name=f"Your pod, {pod['name']}")).to_be_visible()
        await expect(board.locator("tbody tr")).to_have_count(2)  # this season: me and rival
        await scan(p, shots, "b03-board-pod")
        p.check_clean()
    finally:
        await p.close()
        await node.http.close()
        await runner.cleanup()


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    for size in (PHONE, DESKTOP):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(name)
    await shots.take(p.page, name)

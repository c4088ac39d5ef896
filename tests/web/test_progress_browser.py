"""Progress, goals and notifications in real Chromium against a real node: a player sets a
goal on Me (after a refused one), plays a quick match with bots, the goal_met
notification arrives over the socket and lights the header's badge, Me's charts now show
the match, and the notifications screen marks it read.  Every screen is scanned with
axe-core and photographed at desktop and phone size."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, expect

from tests.conftest import Node
from tests.web.browser import Shots, require_chromium
from tests.web.players import BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(240)


async def test_progress_goal_and_notification_after_a_match(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    p = await BrowserPlayer.open(browser, web_node.url, "progress")
    page = p.page
    try:
        await p.start_as_guest()
        await page.get_by_role("link", name="Me", exact=True).click()
        await expect(page.get_by_role("heading", name="Progress", exact=True)).to_be_visible()
        await expect(
            page.get_by_text("Your rating line starts after your first ranked match.")
        ).to_be_visible()
        await expect(page.locator(".stats .tier")).to_have_text("Newcomer")
        await p.screen(shots, "01-me-empty")

        # A goal with a day in the past is refused, and says why, next to the field.
        yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)).isoformat()
        # Conventions: the test's piece is clean whatever the prompt, while its ideas score
        # depends on the prompt the match draws (1 of 6 for an off-prompt piece, on CI).
        await page.get_by_label("Trait", exact=True).select_option("conventions")
        await page.get_by_label("Target average").select_option("1.5")
        await page.get_by_label("By (optional)").fill(yesterday)
        await page.get_by_role("button", name="Set goal").click()
        await expect(page.get_by_text("must be today or later")).to_be_visible()
        await expect(page.get_by_label("By (optional)")).to_have_attribute("aria-invalid", "true")
        await p.screen(shots, "02-goal-refused")
        await page.get_by_label("By (optional)").fill("")
        await page.get_by_role("button", name="Set goal").click()
        goal = page.locator(".goals li.goal")
        await expect(goal).to_have_count(1)
        await expect(goal.get_by_role("heading", name="Conventions to 1.5")).to_be_visible()
        await expect(goal.get_by_text("In progress")).to_be_visible()
        await expect(goal.locator("progress")).to_have_attribute("value", "0")
        await p.screen(shots, "03-goal-set")

        # A quick match with bots; its scores meet the goal: the push lights the badge.
        await page.get_by_role("link", name="Play", exact=True).click()
        await page.get_by_role("button", name="Quick play").click()
        await p.ready()
        await p.write()
        await p.review_all()
        await p.results()
        badge = page.locator(".top .badge")
        await expect(badge).to_have_text(re.compile(r"^1"))
        await expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()

        await page.get_by_role("link", name="Me", exact=True).click()
        chart = page.locator("#rating-h + .chart svg")
        await expect(chart).to_have_attribute("data-points", "1")
        await expect(page.locator("#rating-cap")).to_have_text(
            re.compile(r"^Rating after your first ranked match: -?\d")
        )
        await expect(page.locator("#traits-cap")).to_have_text(re.compile("^Strongest: "))
        await expect(page.locator(".trait-lines li")).to_have_count(7)
        await expect(goal.get_by_text("Met", exact=True)).to_be_visible()
        await expect(page.get_by_role("heading", name="Practise next")).to_be_visible()
        await expect(page.locator(".practise .prompt-title")).not_to_be_empty()
        await page.get_by_text("Rating data table").click()
        await expect(page.locator(".chart-data table").first.locator("tbody tr")).to_have_count(1)
        await p.screen(shots, "04-me-after-match")

        await page.get_by_role("link", name=re.compile("^Notifications")).click()
        await expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
        note = page.locator(".notes li.note")
        await expect(note).to_have_count(1)
        await expect(note.first).to_contain_text("Goal met: Conventions")
        await expect(note.first.locator(".next-goals li")).to_have_count(3)
        await p.screen(shots, "05-notifications")
        await page.get_by_role("button", name="Mark all read").click()
        await expect(page.get_by_text("All read.")).to_be_visible()
        await expect(badge).to_have_count(0)
        await page.get_by_role("button", name="Unread").click()
        await expect(page.get_by_text("Nothing unread.")).to_be_visible()
        await p.screen(shots, "06-notifications-read")
        p.check_clean()
    finally:
        await p.close()

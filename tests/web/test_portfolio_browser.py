"""Portfolio, reports and privacy end to end: real Chromium, a real node with PostgreSQL
and Redis.

A player with a finished match opens the portfolio (filters, the piece with its scores,
the AI's suggestions and the reviews, the replay link), downloads it as HTML and JSON,
and reports a review through the dialog (keyboard only: focus goes into the dialog,
stays there, and comes back to the button).  Their teacher opens the review queue and
hides the review; the player no longer sees it.  The player exports their data from Me
and deletes their account with their password, and is signed out.  Every screen is
scanned with axe-core at desktop and phone width and photographed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.classes.helpers import PASSWORD, call, ok
from tests.conftest import Node, unique_handle
from tests.reports.helpers import Person, class_of, match_of, person, seat_alias, strength_of
from tests.web.browser import DESKTOP, PHONE, Shots, require_chromium
from tests.web.players import BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(300)

PIECE = "The lamp <b>keeps</b> the harbour & its boats safe through the long night."


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(f"{name} ({label})")
    await shots.take(p.page, name)


async def sign_in(page: Page, handle: str) -> None:
    await page.goto("/")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    form = page.locator("#signin-panel form")
    await form.get_by_label("Handle").fill(handle)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile("/play$"))


async def download(page: Page, button: str, tmp: Path) -> Path:
    async with page.expect_download() as info:
        await page.get_by_role("button", name=button).click()
    got = await info.value
    path = tmp / got.suggested_filename
    await got.save_as(str(path))
    return path


async def test_portfolio_report_hide_export_delete(
    browser: Browser, web_node: Node, database: str, shots: Shots, tmp_path: Path
) -> None:
    node = web_node
    body = await ok(
        await node.post(
            "/api/v1/auth/register",
            {"handle": unique_handle("p"), "password": PASSWORD, "display_name": "Priya Shah"},
        ),
        201,
    )
    player = Person(body)
    other = await person(node)
    teacher = await person(node, "teacher")
    await class_of(node, database, teacher, [player, other])
    match_id = await match_of(database, [player, other], texts=[PIECE, "Gulls over the pier."])

    p = await BrowserPlayer.open(browser, node.url, "player", accept_downloads=True)
    t = await BrowserPlayer.open(browser, node.url, "teacher")
    a = await BrowserPlayer.open(browser, node.url, "author")
    try:
        page = p.page
        await sign_in(page, player.handle)
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Me").click()
        await page.get_by_role("link", name="Portfolio: every piece you wrote").click()
        await expect(page).to_have_url(re.compile("/portfolio$"))
        await expect(page.get_by_role("heading", name="Portfolio", level=1)).to_be_visible()
        piece = page.locator(".portfolio-piece")
        await expect(piece).to_have_count(1)
        await expect(piece.locator(".piece-text")).to_have_text(PIECE)  # text, not markup
        await expect(piece.locator(".trait-table tbody tr")).to_have_count(7)
        await expect(
            piece.get_by_role("link", name=re.compile("^Watch the replay"))
        ).to_have_attribute("href", f"/replays/{match_id}")
        received = piece.get_by_role("region", name="Reviews received").locator("li")
        before = await received.count()
        assert before >= 1
        await scan(p, shots, "portfolio")
        # Filters: no piece had Ideas as its focus; then all again.
        await page.get_by_label("Focus trait").select_option("ideas")
        await page.get_by_role("button", name="Show pieces").click()
        await expect(page.get_by_text("No pieces here yet.")).to_be_visible()
        await page.get_by_label("Focus trait").select_option("")
        await page.get_by_role("button", name="Show pieces").click()
        await expect(piece).to_have_count(1)
        # Exports.
        html_file = await download(page, "Download as HTML", tmp_path)
        text = html_file.read_text()
        assert "&lt;b&gt;keeps&lt;/b&gt;" in text and "<b>keeps" not in text
        assert "<script" not in text and "@media print" in text
        json_file = await download(page, "Download as JSON", tmp_path)
        doc = json.loads(json_file.read_text())
        assert doc["pieces"][0]["text"] == PIECE
        # Report the first review received, with the keyboard.
        opener = piece.get_by_role("button", name=re.compile("^Report review 1 of"))
        await opener.focus()
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("radio").first).to_be_focused()
        for _ in range(14):  # Tab never leaves the dialog
            await page.keyboard.press("Tab")
            inside = await page.evaluate("() => !!document.activeElement.closest('dialog[open]')")
            assert inside
        await dialog.get_by_role("button", name="Send report").click()
        await expect(dialog.get_by_text("Choose a reason.")).to_be_visible()
        await dialog.get_by_label("Bullying or unkind to someone").check()
        await dialog.get_by_label("Anything to add (optional)").fill("It makes fun of my <name>.")
        await scan(p, shots, "report-dialog")
        await dialog.get_by_role("button", name="Send report").click()
        await expect(dialog).to_be_hidden()
        reported = piece.get_by_role("button", name=re.compile("^Reported: review 1"))
        await expect(reported).to_be_focused()
        await expect(page.locator("[role=status]")).to_contain_text("Your report went to")

        # The teacher hides it from the review queue.
        await sign_in(t.page, teacher.handle)
        await (
            t.page.get_by_role("navigation", name="Main").get_by_role("link", name="Teach").click()
        )
        await t.page.get_by_role("link", name="Reports to review").click()
        await expect(t.page).to_have_url(re.compile("/teach/reports$"))
        entry = t.page.locator(".queue-entry")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text("It makes fun of my <name>.")
        await expect(entry).to_contain_text(strength_of(other.id))
        await expect(entry).not_to_contain_text(player.handle)
        await scan(t, shots, "review-queue")
        await entry.get_by_role("button", name="Hide the review").click()
        await expect(t.page.get_by_text("Nothing to review.")).to_be_visible()
        await expect(t.page.locator("[role=status]")).to_contain_text("hidden from others")
        # The teacher reads the reviewer's portfolio: the hidden review is not in it.
        await t.page.get_by_label("Show").select_option("closed")
        await t.page.get_by_role("link", name=f"Portfolio of {other.name}").click()
        await expect(
            t.page.get_by_role("heading", name=f"Portfolio of {other.name}")
        ).to_be_visible()
        theirs = t.page.locator(".portfolio-piece")
        await expect(theirs).to_have_count(1)
        await expect(theirs).not_to_contain_text(strength_of(other.id))
        await expect(t.page.get_by_role("button", name="Download as HTML")).to_have_count(0)
        await scan(t, shots, "portfolio-of-student")

        # The player no longer sees the review.
        await page.reload()
        await expect(piece).to_have_count(1)
        await expect(
            piece.get_by_role("region", name="Reviews received").locator("li")
        ).to_have_count(before - 1)

        # From the match's replay the player reports the other's piece; the teacher hides
        # it, then shows it again.
        alias = await seat_alias(database, match_id, other.id)
        await page.goto(f"/replays/{match_id}")
        box = page.locator(".report-pieces")
        await box.locator("summary").click()
        await box.get_by_role("button", name=f"Report the piece by {alias}").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Not the writer's own work").check()
        await dialog.get_by_role("button", name="Send report").click()
        await expect(dialog).to_be_hidden()
        await expect(
            box.get_by_role("button", name=f"Reported: the piece by {alias}")
        ).to_be_visible()
        await scan(p, shots, "replay-report")
        await t.page.goto("/teach/reports")
        entry = t.page.locator(".queue-entry")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text("Gulls over the pier.")
        await entry.get_by_role("button", name="Hide the piece").click()
        await expect(t.page.get_by_text("Nothing to review.")).to_be_visible()
        await t.page.get_by_label("Show").select_option("closed")
        restore = t.page.get_by_role("button", name="Show the piece again")
        await expect(restore).to_have_count(1)
        await scan(t, shots, "review-queue-closed")
        await restore.click()
        await expect(t.page.locator("[role=status]")).to_contain_text("is visible to others again")
        await expect(t.page.get_by_text("Shown again")).to_be_visible()
        await expect(t.page.get_by_role("button", name="Show the review again")).to_have_count(1)
        await scan(t, shots, "review-queue-restored")
        # The author was told what happened to their piece and review, with a link.
        await sign_in(a.page, other.handle)
        await a.page.goto("/notifications")
        said = a.page.locator(".note-text")
        await expect(said).to_have_count(3)
        await expect(said.nth(0)).to_have_text(
            "Unread: A moderator made your piece visible to others again."
        )
        await expect(said.nth(1)).to_have_text(
            "Unread: A moderator hid one of your pieces from others after a report. "
            "You still see it."
        )
        await expect(said.nth(2)).to_contain_text("hid one of your reviews")
        await expect(a.page.get_by_role("link", name="See the match").first).to_have_attribute(
            "href", f"/me/matches/{match_id}"
        )
        await scan(a, shots, "author-notifications")

        # Me: export the data, then delete the account.
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Me").click()
        await expect(page.get_by_role("heading", name="Your data")).to_be_visible()
        data_file = await download(page, "Export my data", tmp_path)
        data = json.loads(data_file.read_text())
        assert data["account"]["handle"] == player.handle and data["matches"][0]["text"] == PIECE
        await page.get_by_role("button", name="Delete my account").click()
        await expect(page.get_by_role("heading", name="Delete your account")).to_be_focused()
        await page.get_by_role("button", name="Delete my account for good").click()
        await expect(page.get_by_text("Type your password to confirm.")).to_be_visible()
        await page.get_by_label("Your password").fill("not the password")
        await page.get_by_role("button", name="Delete my account for good").click()
        await expect(page.get_by_text("That password does not match.")).to_be_visible()
        await page.locator(".delete-account").scroll_into_view_if_needed()
        await scan(p, shots, "me-delete-account")
        await page.get_by_label("Your password").fill(PASSWORD)
        await page.get_by_role("button", name="Delete my account for good").click()
        await expect(page).to_have_url(re.compile(r"/$"))
        await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
        resp = await call(node, "GET", "/api/v1/portfolio/me", player.token)
        assert resp.status == 401
        p.check_clean()
        t.check_clean()
        a.check_clean()
    finally:
        await p.close()
        await t.close()
        await a.close()

"""A teacher's side of the companion in the browser (Debian's Chromium, a real node,
PostgreSQL and Redis): from the class's roster to a student's progress page (charts with
their text alternatives, goals the teacher sets), and a message to the class that the
student sees arrive in their notifications.  axe-core at phone and desktop width."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.http.state import PG
from tests.classes.helpers import PASSWORD, call, new_class, new_student, ok, register
from tests.progress.helpers import play
from tests.web.browser import DESKTOP, PHONE, Shots, require_chromium
from tests.web.conftest import Node
from tests.web.players import BrowserPlayer
from tests.web.test_teacher_browser import sign_in_student

require_chromium()

pytestmark = pytest.mark.timeout(300)


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    for size in (PHONE, DESKTOP):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(name)
    await shots.take(p.page, name)


async def test_a_teacher_follows_a_student_and_messages_the_class(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    node = web_node
    teacher = await register(node, "teacher")
    klass = await new_class(node, teacher["access_token"], "7B English")
    made = await new_student(node, teacher["access_token"], klass["id"], "Ana Ruiz")
    student_id = made["student"]["id"]
    for words in (30, 45):  # two matches of hers, stored by the real path
        await play(node.app[PG], {student_id: words})

    t = await BrowserPlayer.open(browser, node.url, "teacher")
    s = await BrowserPlayer.open(browser, node.url, "student")
    try:
        page = t.page
        await page.goto("/")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        form = page.locator("#signin-panel form")
        await form.get_by_label("Handle").fill(teacher["user"]["handle"])
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile("/play$"))
        await page.goto(f"/teach/classes/{klass['id']}")
        await page.get_by_role("link", name="Progress of Ana Ruiz").click()
        await expect(page).to_have_url(re.compile(f"/teach/students/{student_id}$"))
        await expect(
            page.get_by_role("heading", name="Ana Ruiz's progress", level=1)
        ).to_be_visible()
        await expect(page.get_by_role("heading", name="Rating over time")).to_be_visible()
        await scan(t, shots, "c01-student-progress")
        await page.get_by_role("link", name=re.compile("Ana Ruiz's portfolio")).click()
        await expect(
            page.get_by_role("heading", name="Portfolio of Ana Ruiz", level=1)
        ).to_be_visible()
        await expect(page.locator(".portfolio-piece")).to_have_count(2)
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Teach")).to_have_attribute(
            "aria-current", "page"
        )
        await expect(nav.get_by_role("link", name="Me")).not_to_have_attribute(
            "aria-current", "page"
        )
        await scan(t, shots, "c01b-student-portfolio")
        await page.get_by_role("link", name="Ana Ruiz's progress").click()
        await expect(page).to_have_url(re.compile(f"/teach/students/{student_id}$"))

        # The teacher sets her a goal; she sees it as set by her teacher.
        goals = page.locator("section[aria-labelledby=goals-h]")
        await goals.get_by_label("Trait").select_option("voice")
        await goals.get_by_label("Target average").select_option("6")
        await goals.get_by_role("button", name="Set goal").click()
        await expect(goals.get_by_role("heading", name=re.compile("Voice"))).to_be_visible()
        mine = await ok(
            await call(node, "GET", f"/api/v1/goals/users/{student_id}", teacher["access_token"])
        )
        assert [g["trait"] for g in mine["items"]] == ["voice"]

        await sign_in_student(s, made["student"]["username"], made["code"])
        await s.page.goto("/me")
        await expect(s.page.get_by_text(re.compile("Set by"))).to_be_visible()

        # A message to the class reaches her live: the badge, then the list.
        await page.goto(f"/teach/classes/{klass['id']}")
        await page.get_by_label("Message", exact=True).fill("Bring your notebook tomorrow.")
        await page.get_by_role("button", name="Send to the class").click()
        await expect(page.get_by_label("Message", exact=True)).to_have_value("")
        await scan(t, shots, "c02-class-message")
        nav = s.page.get_by_role("navigation", name="Main")
        await expect(
            nav.get_by_role("link", name=re.compile("Notifications.*1 unread"))
        ).to_be_visible()
        await nav.get_by_role("link", name=re.compile("Notifications")).click()
        await expect(s.page.locator(".note-text")).to_have_text(
            "Unread: Message from your teacher (7B English): Bring your notebook tomorrow."
        )
        await scan(s, shots, "c03-student-notification")
        t.check_clean()
        s.check_clean()
    finally:
        await t.close()
        await s.close()

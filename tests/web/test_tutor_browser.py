"""The tutor in the browser, end to end: real Chromium, a real node (PostgreSQL, Redis, the
AI pool) whose tutor is Claude through the real SDK against the local fake of the
Messages API, with a spending cap of less than one call.

A student signs in with their class card and asks the tutor; Claude's answer has low
confidence, so the screen shows the label, its factors and *Ask my teacher*; the student
asks their teacher.  A follow-up comes after the day's AI budget is spent: the offline
tutor answers and the answer says so.  The teacher opens the questions for them, reads
the thread and answers; the student sees the answer in the thread.  Then the teacher
switches the tutor off for the class and the student's screen says so.  Every screen is
scanned with axe-core at phone and desktop width and photographed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from server.config import Settings
from tests.classes.helpers import call, new_class, new_student, ok
from tests.conftest import Node, start_node
from tests.fakes import quill_answers
from tests.fakes.fake_anthropic import FakeAnthropic
from tests.fakes.fake_anthropic import ok as fake_ok
from tests.web.browser import Shots, require_chromium
from tests.web.conftest import web_settings
from tests.web.players import BrowserPlayer
from tests.web.test_teacher_browser import TEACHER, scan, sign_in_student, sign_in_teacher

require_chromium()

pytestmark = pytest.mark.timeout(300)

QUESTION = "Is the ending of my lighthouse story too sudden?"
FOLLOW_UP = "What could I add before the last sentence?"
ANSWER = "Maybe: I can't see your ending, so your teacher can judge this better than me."
TEACHER_ANSWER = "It is a little sudden. Add one sentence about what Tom feels as the boat turns."
UNSURE: dict[str, Any] = {
    "answer": ANSWER,
    "declined": False,
    "confidence": 0.2,
    "relevance": 0.6,
    "clarity": 0.9,
    "completeness": 0.3,
    "citations": [],
}


@pytest.fixture
async def tutor_node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    async with FakeAnthropic() as fake:
        quill_answers.install(fake)
        fake.script(fake_ok(UNSURE))
        s = web_settings(settings).replace(
            ai={
                "engine": "claude",
                "api_key": "sk-test",
                "base_url": fake.base_url,
                "max_retries": 0,
            },
            tutor={"daily_spend_usd": 0.001},  # one call (0.002 $) spends it
        )
        runner, node = await start_node(s, database, redis_url)
        try:
            yield node
        finally:
            await node.http.close()
            await runner.cleanup()


async def test_a_student_asks_escalates_and_the_teacher_answers(
    browser: Browser, tutor_node: Node, shots: Shots
) -> None:
    node = tutor_node
    registered = await ok(await node.post("/api/v1/auth/register", TEACHER), 201)
    token = registered["access_token"]
    klass = await new_class(node, token, "7B English")
    made = await new_student(node, token, klass["id"], "Ada Lovelace", username="ada.l")

    student = await BrowserPlayer.open(browser, node.url, "student")
    teacher = await BrowserPlayer.open(browser, node.url, "teacher")
    page = student.page
    try:
        # --- the student asks -------------------------------------------------------------
        await sign_in_student(student, "ada.l", made["code"])
        await page.get_by_role("link", name="Tutor", exact=True).click()
        await expect(page.get_by_role("heading", name="Tutor", level=1)).to_be_focused()
        await expect(page.get_by_text("No questions yet")).to_be_visible()
        await expect(page.locator(".tutor-quota")).to_contain_text("30 of 30 questions left today")
        await scan(student, shots, "u01-tutor")

        await page.get_by_role("button", name="Ask", exact=True).click()  # empty: the form says so
        await expect(page.get_by_text("Type your question first.")).to_be_visible()
        await page.get_by_label("Your question", exact=True).fill(QUESTION)
        await page.get_by_role("button", name="Ask", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/tutor/[0-9a-f-]{36}$"))
        thread_url = page.url
        await expect(page.get_by_role("heading", name=QUESTION, level=2)).to_be_visible()
        answer = page.locator(".tutor-msg.from-tutor")
        await expect(answer.locator(".msg-text")).to_have_text(ANSWER)
        await expect(answer.locator(".confidence-label")).to_have_text("Confidence: low")
        await expect(answer.locator(".msg-engine")).to_contain_text("AI tutor")
        await answer.get_by_text("why?").click()
        await expect(answer.locator(".factors li")).to_have_count(4)
        await expect(answer.locator(".factors")).to_contain_text("Clarity")
        await expect(answer.locator(".factors")).to_contain_text("90 %")
        await scan(student, shots, "u02-tutor-low-confidence")

        await page.get_by_role("button", name="Ask my teacher").click()
        await expect(page.locator(".escalation-state")).to_contain_text(
            "Your teacher has been asked"
        )
        await expect(page.get_by_role("button", name="Ask my teacher")).to_have_count(0)
        await expect(page.locator(".thread-list .thread-tag")).to_have_text("Teacher asked")

        # --- the day's AI budget is spent: the offline tutor answers and says so ------------
        await page.get_by_label("Ask a follow-up").fill(FOLLOW_UP)
        await page.get_by_role("button", name="Ask", exact=True).first.click()
        await expect(page.locator(".tutor-msg.from-tutor")).to_have_count(2)
        last = page.locator(".tutor-msg.from-tutor").last
        await expect(last.locator(".msg-notice")).to_have_text(
            "Today's AI budget is used up, so the offline tutor answered this one."
        )
        await expect(last.locator(".msg-engine")).to_contain_text("offline tutor")
        await expect(page.locator(".tutor-quota")).to_contain_text(
            "The offline tutor is answering for the rest of today"
        )
        await scan(student, shots, "u03-tutor-escalated-spend-cap")

        # --- the teacher answers --------------------------------------------------------------
        tpage = teacher.page
        await sign_in_teacher(teacher)
        await tpage.get_by_role("link", name="Tutor", exact=True).click()
        await tpage.get_by_role("link", name="Questions your students asked for you").click()
        await expect(
            tpage.get_by_role("heading", name="Questions for you", level=1)
        ).to_be_focused()
        item = tpage.locator(".escalation")
        await expect(item).to_have_count(1)
        await expect(item.get_by_role("heading", level=3)).to_contain_text("Ada Lovelace")
        await expect(item.locator(".escalation-question")).to_have_text(QUESTION)
        await expect(tpage.get_by_label("Tutor on for 7B English")).to_be_checked()
        await scan(teacher, shots, "t01-questions")
        await item.get_by_role("button", name="Read the thread and answer").click()
        await expect(item.locator(".tutor-msg")).to_have_count(4)
        field = tpage.get_by_label("Your answer to Ada Lovelace")
        await expect(field).to_be_focused()
        await scan(teacher, shots, "t02-questions-thread")
        await field.fill(TEACHER_ANSWER)
        await tpage.get_by_role("button", name="Send answer").click()
        await expect(tpage.get_by_text("No open questions.")).to_be_visible()

        # --- the student sees it ----------------------------------------------------------------
        await page.goto(thread_url)
        mine = page.locator(".tutor-msg.from-teacher")
        await expect(mine.locator(".msg-text")).to_have_text(TEACHER_ANSWER)
        await expect(mine.locator(".msg-who")).to_contain_text("Teacher · ")
        await expect(page.locator(".escalation-state")).to_contain_text("Your teacher answered")
        await expect(page.locator(".thread-list .thread-tag")).to_have_text("Teacher answered")
        await scan(student, shots, "u04-tutor-teacher-answered")

        # --- the teacher switches the tutor off for the class -----------------------------------
        await tpage.get_by_label("Tutor on for 7B English").uncheck()
        await expect(tpage.get_by_label("Tutor on for 7B English")).not_to_be_checked()
        # The box unticks at the click; the switch is saved once the page says so.
        await expect(tpage.locator("[role=status]")).to_contain_text(
            "The tutor is off for 7B English."
        )
        switch = await ok(await call(node, "GET", f"/api/v1/classes/{klass['id']}/tutor", token))
        assert switch["enabled"] is False
        await page.reload()
        await expect(page.locator(".tutor-off")).to_contain_text("switched the tutor off")
        await expect(page.get_by_label("Your question", exact=True)).to_be_disabled()
        await expect(page.locator(".tutor-msg.from-teacher .msg-text")).to_have_text(TEACHER_ANSWER)
        await scan(student, shots, "u05-tutor-off")

        student.check_clean()
        teacher.check_clean()
    finally:
        await student.close()
        await teacher.close()

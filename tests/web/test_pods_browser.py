"""Study pods and solo practice end to end: real Chromium, a real node with PostgreSQL and
Redis.

A player signs in, says when they are free (time zone, a weekly window, goals), is
offered the pod three others formed over the API and joins it; the node's pod scheduler
is ticked (in this process, with the time the step needs) so that the pod's session
opens: the player sees the agenda and joins the session's lobby; the scheduler closes it
after the session, the pods' clock is moved past it, and the player checks in and sees
the pod's streak.  Then the player runs a solo practice round to its score.  Every
screen is scanned with axe-core at desktop and phone width and photographed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from server.pods.scheduler import CLOCK, SCHEDULER
from server.pods.sessions import first_session
from tests.classes.helpers import call, ok, register
from tests.conftest import Node, unique_handle
from tests.web.browser import DESKTOP, PHONE, Shots, require_chromium
from tests.web.players import PIECE, BrowserPlayer

require_chromium()

pytestmark = pytest.mark.timeout(300)

PASSWORD = "a long pod password"
EVENING = {"day": 1, "start": 18 * 60, "minutes": 120}  # Tuesday 18:00–20:00


async def scan(p: BrowserPlayer, shots: Shots, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await p.page.set_viewport_size(ViewportSize(width=size["width"], height=size["height"]))
        await p.axe(f"{name} ({label})")
    await shots.take(p.page, name)


async def others_in_a_pod(node: Node) -> tuple[dict[str, object], list[str]]:
    tokens = []
    for _ in range(3):
        token = (await register(node))["access_token"]
        profile = {"time_zone": "Europe/Paris", "windows": [EVENING], "goals": ["voice"]}
        await ok(await call(node, "PUT", "/api/v1/pods/me/profile", token, profile))
        placed = await ok(await call(node, "POST", "/api/v1/pods/waitlist", token))
        tokens.append(token)
    assert placed["pod"] is not None
    return placed["pod"], tokens


async def test_a_player_joins_a_pod_meets_checks_in_and_practises(
    browser: Browser, web_node: Node, shots: Shots
) -> None:
    pod, tokens = await others_in_a_pod(web_node)
    handle = unique_handle("p")
    resp = await web_node.post("/api/v1/auth/register", {"handle": handle, "password": PASSWORD})
    assert resp.status == 201
    p = await BrowserPlayer.open(browser, web_node.url, "writer", timezone_id="Europe/Paris")
    page = p.page
    try:
        await page.goto("/")
        await page.get_by_role("button", name="Sign in", exact=True).click()
        form = page.locator("#signin-panel form")
        await form.get_by_label("Handle").fill(handle)
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(re.compile("/play$"))

        # --- the profile --------------------------------------------------------------
        await page.get_by_role("link", name="Pod", exact=True).click()
        await expect(page.get_by_role("heading", name="Study pod", level=1)).to_be_focused()
        await expect(page.get_by_label("Your time zone")).to_have_value("Europe/Paris")
        await page.get_by_label("Day").select_option("Tuesday")
        await page.get_by_label("From").fill("18:00")
        await page.get_by_label("For").select_option(label="2 hours")
        await page.get_by_role("checkbox", name="Voice").check()
        await scan(p, shots, "p01-pod-profile")
        await page.get_by_role("button", name="Save", exact=True).click()

        # --- suggestions, and joining -------------------------------------------------
        offer = page.locator(".pod-offer")
        await expect(offer).to_have_count(1)
        await expect(offer).to_contain_text("3 writers")
        await expect(offer).to_contain_text("Tuesdays at 18:00 (Europe/Paris)")
        await scan(p, shots, "p02-pod-suggestions")
        await page.get_by_role("button", name=f"Join {pod['name']}").click()
        await expect(page.get_by_role("heading", name=str(pod["name"]), level=2)).to_be_visible()
        await expect(page.locator(".pod-members li")).to_have_count(4)
        await expect(
            page.get_by_text("Check in here after your pod's first session.")
        ).to_be_visible()

        # --- the session opens --------------------------------------------------------
        start = first_session(
            int(pod["session"]["utc_minute"]),  # type: ignore[index]
            datetime.fromisoformat(str(pod["created_at"])),
        )
        opened = await web_node.app[SCHEDULER].tick(start - timedelta(minutes=5))
        assert [pid for pid, _ in opened.opened] == [pod["id"]]
        await page.reload()
        agenda = page.locator(".pod-session")
        await expect(agenda.get_by_role("heading", name="This week's agenda")).to_be_visible()
        await expect(agenda).to_contain_text("Voice")  # the members' shared goal
        await expect(agenda.locator(".prompt-title")).not_to_be_empty()
        await scan(p, shots, "p03-pod-agenda")
        await agenda.get_by_role("button", name="Join the session").click()
        await expect(page).to_have_url(re.compile("/join$"))
        await expect(page.get_by_role("heading", name=f"{pod['name']} session")).to_be_visible()
        await scan(p, shots, "p04-pod-session-lobby")

        # --- after the session: the check-in and the streak ---------------------------
        closed = await web_node.app[SCHEDULER].tick(start + timedelta(minutes=45))
        assert closed.closed == [(pod["id"], start)]
        web_node.app[CLOCK].fixed = start + timedelta(minutes=50)
        await ok(
            await call(web_node, "POST", "/api/v1/pods/me/checkins", tokens[0], {"attended": True}),
            201,
        )
        await page.get_by_role("link", name="Pod", exact=True).click()
        await expect(page.locator(".pod-session")).to_have_count(0)
        await page.get_by_label("Yes, I was there").check()
        await page.get_by_label("One win").fill("I finished a whole scene")
        await page.get_by_label("One thing to change").fill("Plan the ending first")
        await scan(p, shots, "p05-pod-checkin")
        await page.get_by_role("button", name="Check in").click()
        await expect(page.get_by_text(re.compile("You checked in for the session"))).to_be_visible()
        await expect(page.locator(".pod-streak")).to_contain_text("1 session in a row")
        await expect(page.locator(".pod-checkins")).to_contain_text("I finished a whole scene")
        await scan(p, shots, "p06-pod-streak")
        web_node.app[CLOCK].fixed = None

        # --- solo practice ------------------------------------------------------------
        await page.get_by_role("link", name="Practice", exact=True).click()
        await expect(page.get_by_role("heading", name="Practice", level=1)).to_be_focused()
        await scan(p, shots, "p07-practice-start")
        await page.get_by_role("button", name="Start practice").click()
        editor = page.get_by_role("textbox", name=re.compile("Your piece"))
        await expect(editor).to_be_focused()
        await expect(page.get_by_role("timer")).to_contain_text(re.compile(r"[34]:\d\d"))
        await page.keyboard.type(PIECE)
        await expect(page.locator(".save-state")).to_have_text(re.compile("Saved"))
        await scan(p, shots, "p08-practice-write")
        await page.get_by_role("button", name="Hand in").click()
        heading = page.get_by_role("heading", name=re.compile("Your practice score"))
        await expect(heading).to_be_focused()
        await expect(page.locator(".trait-chart li")).to_have_count(7)
        await expect(page.get_by_role("heading", name="Suggestions")).to_be_visible()
        await expect(page.locator(".piece-text")).to_contain_text("The keeper climbed")
        await scan(p, shots, "p09-practice-score")
        p.check_clean()
    finally:
        web_node.app[CLOCK].fixed = None
        await p.close()

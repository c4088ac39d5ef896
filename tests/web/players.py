"""A browser player: one Playwright context and page, and the steps of a match as a
person takes them (by role and accessible name, as a screen reader would find them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.web.browser import DESKTOP, WAIT_MS, Shots, bad_violations

PIECE = (
    "The keeper climbed the stairs and counted each one aloud. "
    "Rain hammered the glass while the lamp turned slowly above him."
)
STRENGTH = "The line about the rain on the glass makes the storm feel close and loud."
expect.set_options(timeout=WAIT_MS)

SUGGESTION = "Tell us why tonight matters to the keeper, maybe in the very first sentence."


@dataclass
class BrowserPlayer:
    context: BrowserContext
    page: Page
    name: str
    problems: list[str] = field(default_factory=list)
    frames_in: list[str] = field(default_factory=list)  # WebSocket frames, as text
    frames_out: list[str] = field(default_factory=list)

    @classmethod
    async def open(
        cls, browser: Browser, base_url: str, name: str, **options: Any
    ) -> BrowserPlayer:
        viewport = ViewportSize(width=DESKTOP["width"], height=DESKTOP["height"])
        context = await browser.new_context(viewport=viewport, base_url=base_url, **options)
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        player = cls(context, page, name)
        origins = (base_url, base_url.replace("http://", "ws://", 1), "data:")

        def request(req: Any) -> None:  # nothing may leave the node
            if not req.url.startswith(origins):
                player.problems.append(f"request to another origin: {req.url}")

        page.on("request", request)
        page.on("pageerror", lambda exc: player.problems.append(f"page error: {exc.stack}"))
        page.on("console", player._console)
        page.on("websocket", player._socket)
        return player

    def _socket(self, ws: Any) -> None:
        ws.on("framereceived", lambda payload: self.frames_in.append(str(payload)))
        ws.on("framesent", lambda payload: self.frames_out.append(str(payload)))

    def _console(self, msg: Any) -> None:
        text = msg.text
        expected = ("WebSocket", "net::ERR_INTERNET_DISCONNECTED", "Failed to load resource")
        if msg.type == "error" and not any(e in text for e in expected):
            self.problems.append(f"console {msg.type}: {text}")
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    async def close(self) -> None:
        await self.context.close()

    def check_clean(self) -> None:
        assert not self.problems, f"{self.name}: " + "; ".join(self.problems)

    # --- helpers ----------------------------------------------------------------------

    async def axe(self, screen: str) -> None:
        from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

        results = await Axe().run(self.page)
        bad = bad_violations(results.response)
        assert not bad, f"axe on {screen}:\n" + "\n".join(bad)

    async def screen(self, shots: Shots | None, name: str, *, axe: bool = True) -> None:
        """Scan the screen with axe-core and save its screenshots."""
        if axe:
            await self.axe(name)
        if shots is not None:
            await shots.take(self.page, name)

    # --- the steps of a match ---------------------------------------------------------

    async def start_as_guest(self) -> None:
        await self.page.goto("/")
        await self.page.get_by_role("button", name="Play as guest").click()
        await expect(self.page.get_by_role("button", name="Quick play")).to_be_visible()

    async def ready(self) -> None:
        await expect(self.page.get_by_role("heading", name="Lobby")).to_be_visible()
        await self.page.get_by_role("button", name="Ready").click()

    def editor(self) -> Any:
        return self.page.get_by_role("textbox", name=re.compile("Your piece"))

    async def write(self, text: str = PIECE) -> None:
        editor = self.editor()
        await expect(editor).to_be_visible()
        await editor.click()
        await self.page.keyboard.type(text)
        await self.saved()

    async def saved(self) -> None:
        await expect(self.page.locator(".save-state")).to_have_text(re.compile("Saved"))

    async def review(self, index: int, total: int, shots: Shots | None = None) -> None:
        page = self.page
        await expect(
            page.get_by_role("heading", name=re.compile(f"Piece {index} of {total}"))
        ).to_be_visible()
        if shots is not None and index == 1:
            await page.get_by_role("button", name="Send review").click()  # the rules, checked
            await expect(page.get_by_text(re.compile("cannot be blank")).first).to_be_visible()
            await self.screen(shots, "05-feedback-errors")
        await page.get_by_label("What works").fill(STRENGTH)
        await page.get_by_label("What to change").fill(SUGGESTION)
        await page.get_by_role("radiogroup").get_by_role("radio").nth(3).check()
        if shots is not None and index == 1:
            await self.screen(shots, "05-feedback")
        await page.get_by_role("button", name="Send review").click()

    async def review_all(self, shots: Shots | None = None) -> int:
        page = self.page
        progress = page.get_by_text(re.compile(r"Reviews sent: 0 of (\d)"))
        await expect(progress).to_be_visible()
        total = int(re.search(r"of (\d)", await progress.inner_text()).group(1))  # type: ignore[union-attr]
        for i in range(1, total + 1):
            await self.review(i, total, shots)
        # The last review in ends the phase: the results may come before the "all sent".
        done = page.get_by_text(re.compile("All .* reviews sent"))
        later = page.get_by_role("heading", name=re.compile("^(Scoring|Results)"), level=1)
        await expect(done.or_(later).first).to_be_visible()
        return total

    async def results(self) -> None:
        await expect(
            self.page.get_by_role("heading", name=re.compile("Results"), level=1)
        ).to_be_visible()
        await expect(self.page.get_by_role("heading", name="Ranking")).to_be_visible()

"""Driving Debian's Chromium with Playwright: launch options, screenshots, axe-core scans.

Nothing here sleeps: every wait is Playwright's own bounded ``expect``/``wait_for`` with the
one generous :data:`WAIT_MS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realtime.client import SCALE

CHROMIUM = Path(os.environ.get("QUILL_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def require_chromium() -> None:
    """The browser tests are part of the suite, not optional: without Chromium they fail
    at collection, saying how to get it, instead of being skipped unnoticed."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"the browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium "
            "(.ci/run does), or set QUILL_CHROMIUM"
        )


ZOOM_200 = {"width": 640, "height": 400}
WAIT_MS = int(45_000 * SCALE)
"""The one bound on every browser wait (generous; scaled like the other tests' WAIT)."""

BAD_IMPACTS = ("serious", "critical")


@dataclass
class Shots:
    """Screenshots of every screen at desktop and phone size, saved outside the repo."""

    root: Path
    taken: list[Path] = field(default_factory=list)

    async def take(self, page: Any, name: str) -> None:
        viewport = page.viewport_size or DESKTOP
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await page.set_viewport_size(size)
            path = self.root / f"{name}-{label}.png"
            await page.screenshot(path=str(path), full_page=True, animations="disabled")
            self.taken.append(path)
            await assert_no_sideways_scroll(page, f"{name} ({label})")
        await page.set_viewport_size(ZOOM_200)  # a 1280×800 window at 200 % zoom
        await assert_no_sideways_scroll(page, f"{name} (200 % zoom)")
        await page.set_viewport_size(viewport)


async def assert_no_sideways_scroll(page: Any, where: str) -> None:
    """The page reflows into the width it has: nothing needs scrolling sideways."""
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{where}: {widths[0]} px wide in {widths[1]} px"


def bad_violations(response: dict[str, Any]) -> list[str]:
    """axe-core violations of serious or critical impact, one readable line each."""
    lines = []
    for v in response.get("violations", []):
        if v.get("impact") in BAD_IMPACTS:
            targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:4])
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return lines

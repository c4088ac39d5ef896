"""Fixtures for the browser client's tests: a node with short phases, one Chromium per
module, a browser context per player, screenshots and axe scans.

The browser tests fail at collection, saying how to get it, on a machine without
Chromium (``tests.web.browser.require_chromium``); the HTTP tests of the routes run
everywhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from server.config import Settings
from tests.conftest import Node, start_node
from tests.web.browser import CHROMIUM, LAUNCH_ARGS, Shots

ARTIFACTS_KEY = pytest.StashKey[Path]()

WEB_MATCH: dict[str, Any] = {
    "lobby_seconds": 30.0,  # everyone readies: the write phase starts at once
    "write_seconds": 10.0,
    "grace_seconds": 0.5,
    "feedback_seconds": 40.0,  # ends early once every review is in
    "results_seconds": 3.0,
    "reconnect_grace_seconds": 60.0,
}
WEB_LIMITS: dict[str, Any] = {
    "auth_per_ip_per_minute": 10_000,  # every browser is 127.0.0.1
    "api_per_ip_per_minute": 100_000,
}


def web_settings(settings: Settings, **match: Any) -> Settings:
    return settings.replace(match={**WEB_MATCH, **match}, limits=WEB_LIMITS)


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("QUILL_ARTIFACTS")
    base = Path(root) if root else tmp_path_factory.getbasetemp()
    path = base / "web-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTIFACTS_KEY] = path
    return path


@pytest.fixture
def shots(artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Shots]:
    folder = artifacts / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    yield Shots(folder)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = config.stash.get(ARTIFACTS_KEY, None)
    if path is not None and any(path.rglob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {path}")


@pytest.fixture
async def web_node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    runner, node = await start_node(web_settings(settings), database, redis_url)
    try:
        yield node
    finally:
        await node.http.close()
        await runner.cleanup()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, one per test module (``tests.web.browser`` says how)."""
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()

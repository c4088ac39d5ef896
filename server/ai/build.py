"""Choose and wire the AI engines from the ``[ai]`` settings.

``engine = "offline"``, or ``"auto"`` without ``ANTHROPIC_API_KEY``: the offline engines,
deterministic and without network.  Otherwise (``"claude"``, or ``"auto"`` with a key):
one :class:`~server.ai.claude.ClaudeEngine` for every task, each falling back to the
offline engine (results marked provisional) when Claude fails or its breaker is open.

``engine = "claude"`` without a key is a configuration error.

The Claude engine holds an HTTP client; call :func:`aclose_engines` when done with it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from server.ai.claude import ClaudeEngine
from server.ai.claude_client import ClaudeClient, Sleep
from server.ai.offline.bot_reviewer import OfflineBotReviewer
from server.ai.offline.bot_writer import OfflineBotWriter
from server.ai.types import Engines
from server.config import AISettings
from server.errors import ConfigError
from server.metrics import Registry

TASKS = ("scorer", "judge", "moderator", "tutor", "writer", "reviewer")


def uses_claude(settings: AISettings) -> bool:
    if settings.engine == "offline":
        return False
    if settings.engine == "claude":
        if not settings.api_key:
            raise ConfigError(
                "config key ai.engine = 'claude': expected ANTHROPIC_API_KEY to be set "
                "(or ai.engine = 'auto' / 'offline')"
            )
        return True
    return bool(settings.api_key)


def offline_engines() -> Engines:
    """The offline engine for every task."""
    from server.ai.offline.judge import OfflineJudge
    from server.ai.offline.moderation import OfflineModerator
    from server.ai.offline.scorer import OfflineScorer
    from server.ai.offline.tutor import OfflineTutor

    return Engines(
        scorer=OfflineScorer(),
        judge=OfflineJudge(),
        moderator=OfflineModerator(),
        tutor=OfflineTutor(),
        writer=OfflineBotWriter(),
        reviewer=OfflineBotReviewer(),
        names=dict.fromkeys(TASKS, "offline"),
    )


def build_engines(
    settings: AISettings,
    registry: Registry,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    offline: Engines | None = None,
) -> Engines:
    """The engines the server uses, per ``settings``; metrics go to ``registry``.

    ``clock`` (monotonic seconds) drives the circuit breaker, ``sleep`` the retry backoff
    and ``rng`` the backoff jitter; tests pass their own to move time by hand.
    ``offline`` is the offline bundle to use (and to fall back to); the node passes the
    one that runs in its process pool.
    """
    offline = offline if offline is not None else offline_engines()
    if not uses_claude(settings):
        return offline
    client = ClaudeClient(settings, registry, clock=clock, sleep=sleep, rng=rng)
    claude = ClaudeEngine(client, offline, registry)
    return Engines(
        scorer=claude,
        judge=claude,
        moderator=claude,
        tutor=claude,
        writer=claude,
        reviewer=claude,
        names=dict.fromkeys(TASKS, "claude"),
    )


async def aclose_engines(engines: Engines) -> None:
    """Release what the engines hold (the Claude HTTP client); safe to call on any bundle."""
    seen: set[int] = set()
    for task in TASKS:
        engine = getattr(engines, task)
        aclose = getattr(engine, "aclose", None)
        if aclose is not None and id(engine) not in seen:
            seen.add(id(engine))
            await aclose()

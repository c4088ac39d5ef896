"""Short human timings for bots in tests, and a way to seat bots on a node."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from bots.backoff import Backoff
from bots.client import BotClient, TokenSource
from bots.pace import Pace
from bots.player import BotPlayer
from server.ai.build import offline_engines
from server.protocol import Codec
from tests.realtime.client import WAIT
from tests.realtime.helpers import FAST

FAST_PACE = Pace(
    ready=(0.05, 0.2),
    quiet=0.15,
    max_wait=0.4,
    stall_seconds=1.0,
    review_floor=0.1,
    review_share=0.3,
    linger=(0.05, 0.1),
)
"""Human-shaped timing squeezed to fit the short phases below."""

FAST_BACKOFF = Backoff(first=0.05, factor=2.0, cap=0.4, attempts=10, jitter=0.5)

PHASES: dict[str, Any] = {**FAST, "write_seconds": 4.0, "feedback_seconds": 10.0}
"""Match settings for bot tests: a 4 s write phase, reviews in ~3 s, results at once."""


def bot(
    url: str,
    tokens: TokenSource,
    seat_token: str,
    *,
    index: int,
    codec: Codec = Codec.JSON,
) -> BotPlayer:
    client = BotClient(
        url,
        tokens,
        codec=codec,
        backoff=FAST_BACKOFF,
        rng=random.Random(index),
        open_timeout=WAIT,
        name=f"bot{index}",
    )
    return BotPlayer(
        client,
        offline_engines(),
        seat_token,
        skill=min(1.0, 0.2 + 0.2 * index),
        seed=1000 + index,
        pace=FAST_PACE,
        name=f"bot{index}",
    )


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until ``check()`` holds; the state changes in other tasks."""
    try:
        async with asyncio.timeout(WAIT):
            while not check():  # noqa: ASYNC110 - state of other tasks, nothing to await
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"gave up waiting: {what}") from None

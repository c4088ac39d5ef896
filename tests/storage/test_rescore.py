"""Provisional scores are re-scored by Claude (the real SDK against the local fake API)."""

from __future__ import annotations

import asyncpg

from server.ai.build import aclose_engines, build_engines
from server.ai.content import load_prompts
from server.config import AISettings
from server.metrics import Registry
from server.storage.rescore import rescore_provisional
from tests.fakes import quill_answers
from tests.fakes.fake_anthropic import FakeAnthropic, server_error
from tests.game.helpers import PROMPT
from tests.storage.test_match_storage import finished_match, save_finished


async def test_provisional_pieces_are_rescored_when_claude_answers(database: str) -> None:
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        d, _, _ = await finished_match(pool)
        await save_finished(pool, d)
        await pool.execute("UPDATE piece_scores SET provisional = true, engine = 'offline'")
        await pool.execute("UPDATE scores SET provisional = true")
        await pool.execute("UPDATE matches SET provisional = true")
        prompts = {**load_prompts(), PROMPT.id: PROMPT}
        async with FakeAnthropic() as fake:
            quill_answers.install(fake)
            ai = AISettings(
                engine="claude",
                api_key="test",
                base_url=fake.base_url,
                max_retries=0,
                breaker_failures=100,
            )
            engines = build_engines(ai, Registry())
            try:
                fake.script(server_error())  # Claude still down: the pass stops at once
                assert await rescore_provisional(pool, engines.scorer, prompts) == 0
                assert (
                    await pool.fetchval("SELECT count(*) FROM piece_scores WHERE provisional") == 4
                )
                replaced = await rescore_provisional(pool, engines.scorer, prompts)
            finally:
                await aclose_engines(engines)
        assert replaced == 3  # the bot's empty piece is not sent to the AI
        rows = await pool.fetch(
            "SELECT engine, provisional, rescored_at FROM piece_scores "
            "WHERE rescored_at IS NOT NULL"
        )
        assert len(rows) == 3 and all(
            r["engine"] == "claude" and not r["provisional"] for r in rows
        )
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM scores WHERE provisional AND engine = 'claude'"
            )
            == 0
        )
    finally:
        await pool.close()

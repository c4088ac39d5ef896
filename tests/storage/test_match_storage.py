"""A finished engine match written to PostgreSQL in one transaction, idempotently."""

from __future__ import annotations

import uuid
from dataclasses import replace

import asyncpg

from server.accounts import store
from server.game import MatchFinished, Persist, SeatSpec
from server.game.replay import replay, seat_edits
from server.storage.matches import load_replay, ratings_for, save_outcome, save_replay
from server.types import MatchId, PlayerId
from tests.game.helpers import Driver, config

TEXTS = [
    "The lamp turned slowly while the sea threw itself at the rocks below the tower.",
    "Wind hammered the glass. I counted the waves and waited for the ship.",
    "The keeper climbed the stairs one last time, listening to the storm.",
]


async def _users(pool: asyncpg.Pool, n: int) -> list[PlayerId]:
    ids = []
    for i in range(n):
        user = await store.create_user(
            pool,
            handle=f"writer{i}",
            display_name=f"Writer {i}",
            role="player",
            password_hash="x",
            is_guest=False,
        )
        assert user is not None
        ids.append(PlayerId(user.id))
    return ids


async def finished_match(pool: asyncpg.Pool) -> tuple[Driver, list[PlayerId], PlayerId]:
    """A ranked match of three registered writers and a bot, played to results."""
    humans = await _users(pool, 3)
    bot = PlayerId("bot:7")
    seats = (*(SeatSpec(p, is_bot=False) for p in humans), SeatSpec(bot, is_bot=True))
    d = Driver.start(replace(config(4), match_id=MatchId(str(uuid.uuid4())), seats=seats))
    d.lobby()
    for p, text in zip(humans, TEXTS, strict=True):
        d.write(p, text)
    d.advance(243)
    d.review_all()
    return d, humans, bot


async def save_finished(pool: asyncpg.Pool, d: Driver) -> MatchFinished:
    (finished,) = [e for e in d.effects if isinstance(e, MatchFinished)]
    edits = seat_edits(d.match.log)
    assert await save_outcome(pool, finished.outcome, node_id="n1", mode="ranked", edits=edits)
    return finished


async def test_save_outcome_ratings_and_replay(database: str) -> None:
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        d, humans, bot = await finished_match(pool)
        match_id = d.match.config.match_id
        outcome = (await save_finished(pool, d)).outcome
        edits = seat_edits(d.match.log)
        assert not await save_outcome(pool, outcome, node_id="n1", mode="ranked", edits=edits)

        counts = {
            table: await pool.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("matches", "seats", "submissions", "reviews", "rating_history")
        }
        assert counts == {
            "matches": 1,
            "seats": 4,
            "submissions": 4,
            "reviews": len(outcome.reviews),
            "rating_history": 4,
        }
        # Every piece has its seven traits, the empty (bot) piece included, scored lowest.
        assert await pool.fetchval("SELECT count(*) FROM scores") == 7 * 4
        ratings = await ratings_for(pool, [*humans, bot, "bot:unknown"])
        by_player = {ch.player: ch for ch in outcome.ratings}
        for p in humans:
            assert ratings[p] == (by_player[p].mu_after, by_player[p].sigma_after)
        assert ratings[bot] == (by_player[bot].mu_after, by_player[bot].sigma_after)
        assert ratings["bot:unknown"] == (25.0, 25.0 / 3.0)
        assert await pool.fetchval("SELECT count(*) FROM ratings") == 3
        assert await pool.fetchval("SELECT count(*) FROM bot_ratings") == 1
        text = await pool.fetchval(
            "SELECT text FROM submissions WHERE player_id = $1", str(humans[0])
        )
        assert text == TEXTS[0]

        d.advance(31)
        log = [e.record for e in d.effects if isinstance(e, Persist)]
        assert log == list(d.match.log)
        await save_replay(pool, match_id, log)
        await save_replay(pool, match_id, log)
        stored = await load_replay(pool, match_id)
        assert stored is not None and len(stored) == len(log)
        again, effects = replay(stored)
        assert again.to_snapshot() == d.match.to_snapshot()
        assert [type(e).__name__ for e in effects] == [type(e).__name__ for e in d.effects]
    finally:
        await pool.close()

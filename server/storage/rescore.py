"""Re-scoring provisional piece scores once the Claude engine answers again.

When Claude is slow or down, a match is scored by the offline engine and its scores are
stored as provisional.  :func:`rescore_provisional` takes the oldest provisional pieces,
scores them again with the configured scorer and, when the answer is not itself a
fallback, replaces the stored trait scores and overall (``rescored_at`` is set; a match
none of whose pieces is provisional any more stops being provisional).  Rankings and
ratings were settled when the match ended and are not changed: the new scores feed the
player's portfolio and progress.  A piece a teacher overrode (``score_overrides``) is
left as the teacher set it.  A node whose engine is Claude runs it periodically.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import asyncpg
import orjson
import structlog

from server.ai.types import PieceRequest, PieceScorer, Prompt, Trait

log = structlog.get_logger("quill.rescore")
RESCORE_EVERY_S = 300.0
BATCH = 20


async def rescore_provisional(
    pool: asyncpg.Pool, scorer: PieceScorer, prompts: Mapping[str, Prompt], limit: int = BATCH
) -> int:
    """Re-score up to ``limit`` provisional pieces; returns how many were replaced."""
    rows = await pool.fetch(
        "SELECT ps.match_id, ps.player_id, s.text, m.prompt_id, m.focus "
        "FROM piece_scores ps JOIN submissions s USING (match_id, player_id) "
        "JOIN matches m ON m.id = ps.match_id "
        "WHERE ps.provisional AND NOT s.empty AND NOT EXISTS (SELECT 1 FROM score_overrides o "
        "WHERE o.match_id = ps.match_id AND o.player_id = ps.player_id) "
        "ORDER BY m.finished_at LIMIT $1",
        limit,
    )
    replaced = 0
    for row in rows:
        prompt = prompts.get(row["prompt_id"])
        if prompt is None:
            continue
        focus = Trait(row["focus"])
        score = await scorer.score_piece(PieceRequest(prompt, row["text"], focus, prompt.level))
        if score.provisional:  # still a fallback: Claude is not back; try again later
            break
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE piece_scores SET overall = $3, rationale = $4, suggestions = $5::jsonb, "
                "flags = $6, engine = $7, provisional = false, rescored_at = now() "
                "WHERE match_id = $1 AND player_id = $2",
                row["match_id"],
                row["player_id"],
                score.overall,
                score.rationale,
                orjson.dumps(
                    [{"sentence": x.sentence, "advice": x.advice} for x in score.suggestions]
                ).decode(),
                sorted(score.flags),
                score.engine,
            )
            await conn.executemany(
                "UPDATE scores SET value = $4, engine = $5, provisional = false "
                "WHERE match_id = $1 AND player_id = $2 AND trait = $3",
                [
                    (row["match_id"], row["player_id"], str(t), int(v), score.engine)
                    for t, v in score.traits.items()
                ],
            )
            await conn.execute(
                "UPDATE matches SET provisional = false WHERE id = $1 AND NOT EXISTS "
                "(SELECT 1 FROM piece_scores WHERE match_id = $1 AND provisional)",
                row["match_id"],
            )
        replaced += 1
    if replaced:
        log.info("provisional_rescored", pieces=replaced)
    return replaced


async def rescore_forever(
    pool: asyncpg.Pool, scorer: PieceScorer, prompts: Mapping[str, Prompt], stop: asyncio.Event
) -> None:
    """The node's periodic pass (only started when the engine is Claude)."""
    while not stop.is_set():
        try:
            await rescore_provisional(pool, scorer, prompts)
        except Exception:  # PostgreSQL or the engine blipped: next time
            log.exception("rescore_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RESCORE_EVERY_S)

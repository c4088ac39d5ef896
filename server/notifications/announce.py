"""Notifications raised by REST handlers after their change committed.

:func:`score_overridden`: a teacher overrode a piece's score (server/api/lobby_results.py);
the writer is told which scores changed (never the teacher's reason, which stays with the
teacher and the audit log), and their goals are checked against the new scores.  It runs
after the override's transaction, so it never undoes or fails the override: a failure is
logged and the override stands (the writer sees it on the match anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import structlog
from aiohttp import web

from server.goals.store import check_goals
from server.http.state import PG, REDIS
from server.notifications import store

log = structlog.get_logger(__name__)


async def score_overridden(
    app: web.Application,
    match_id: uuid.UUID,
    player_id: str,
    traits: Mapping[str, int],
    overall: float | None,
) -> None:
    try:
        user = await app[PG].fetchval(
            "SELECT s.user_id FROM seats s JOIN users u ON u.id = s.user_id "
            "WHERE s.match_id = $1 AND s.player_id = $2 AND NOT s.is_bot AND u.deleted_at IS NULL",
            match_id,
            player_id,
        )
        if user is None:
            return
        note = await store.notify(
            app[PG],
            str(user),
            "score_overridden",
            {"match_id": str(match_id), "traits": dict(traits), "overall": overall},
        )
        met = await check_goals(app[PG], [str(user)])
        await store.publish(app[REDIS], [note, *met])
    except Exception as exc:
        log.warning("override_notification_failed", match_id=str(match_id), error=repr(exc))

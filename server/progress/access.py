"""Who may see (and set goals in) a writer's progress: the writer, a teacher of a class
the writer is in, and admins.  Anyone else is told 404, as for an id that does not
exist, so a student's progress never confirms that the student exists."""

from __future__ import annotations

import uuid

import asyncpg

from server.accounts.store import User


async def subject(db: asyncpg.Pool, viewer: User, raw_id: str) -> tuple[str, str] | None:
    """(user id, display name) of the writer ``raw_id`` names, when ``viewer`` may see
    their progress; None otherwise (unknown, deleted, or not theirs to see)."""
    try:
        user = uuid.UUID(raw_id)
    except ValueError:
        return None
    row = await db.fetchrow(
        "SELECT u.id, u.display_name, "
        "($2 OR u.id = $3 OR EXISTS (SELECT 1 FROM class_members cm JOIN classes c "
        "ON c.id = cm.class_id WHERE cm.user_id = u.id AND c.teacher_id = $3)) AS allowed "
        "FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL",
        user,
        viewer.role == "admin",
        uuid.UUID(viewer.id),
    )
    if row is None or not row["allowed"]:
        return None
    return str(row["id"]), row["display_name"]

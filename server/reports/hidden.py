"""What a moderator hid (migrations/0014_reports.sql ``hidden_content``), for the views
that show pieces and reviews to others: the results of a past match (``/me/matches``),
replays and portfolios.  The author still sees their own content, marked hidden; the
lobby's teacher and admins see it as moderators.

A piece is named by its writer's player id in the match, a review by its review id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg


@dataclass(frozen=True, slots=True)
class Hidden:
    pieces: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (match, player)
    reviews: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (match, review)

    def piece(self, match_id: object, player_id: str) -> bool:
        return (str(match_id), player_id) in self.pieces

    def review(self, match_id: object, review_id: str) -> bool:
        return (str(match_id), review_id) in self.reviews


async def hidden_in(
    db: asyncpg.Connection | asyncpg.Pool, match_ids: Iterable[uuid.UUID | str]
) -> Hidden:
    """Everything hidden in these matches."""
    ids = sorted({uuid.UUID(str(m)) for m in match_ids})
    if not ids:
        return Hidden()
    rows = await db.fetch(
        "SELECT match_id, kind, item FROM hidden_content WHERE match_id = ANY($1::uuid[])", ids
    )
    pieces = frozenset((str(r["match_id"]), r["item"]) for r in rows if r["kind"] == "piece")
    reviews = frozenset((str(r["match_id"]), r["item"]) for r in rows if r["kind"] == "review")
    return Hidden(pieces, reviews)

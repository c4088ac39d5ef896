"""A writer's pieces with everything about them, read from the match tables (docs/portfolio.md).

Every seat the user held in a finished match with a piece they wrote (any match kind:
ranked, lobby, pod session, solo practice — all are rows of ``matches``/``seats``), newest
first.  Each piece carries its prompt, date, trait scores, the AI's suggestions, the
reviews it received (anonymous: no reviewer is named) and the reviews the writer gave.

What a moderator hid (server/reports/hidden.py) is shown to its author marked hidden;
to anyone else (a teacher or admin reading a student's portfolio) a hidden piece shows no
text, and a hidden review is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias

import asyncpg
import orjson

from server.ai.content import load_prompts
from server.reports.hidden import hidden_in
from server.reports.store import piece_id, review_public_id

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True, slots=True)
class Filter:
    trait: str | None = None  # pieces whose focus trait this is
    since: datetime | None = None  # finished at or after
    until: datetime | None = None  # finished before
    before: tuple[datetime, uuid.UUID] | None = None  # the cursor: (finished_at, match_id)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def _prompt(prompt_id: str) -> dict[str, str]:
    prompt = load_prompts().get(prompt_id)
    return {"id": prompt_id, "title": prompt.title if prompt is not None else prompt_id}


async def seats(db: Db, user_id: str, f: Filter, limit: int) -> list[asyncpg.Record]:
    """The user's seats with a piece, newest first, after the cursor."""
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT m.id AS match_id, m.mode, m.ranked, m.prompt_id, m.focus, m.provisional, "
        "m.finished_at, s.player_id, s.alias, s.rank, s.score, "
        "sub.text, sub.words, sub.withheld, "
        "ps.overall, ps.suggestions, "
        "EXISTS (SELECT 1 FROM replays r WHERE r.match_id = m.id) AS has_replay "
        "FROM seats s JOIN matches m ON m.id = s.match_id "
        "JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN piece_scores ps ON ps.match_id = s.match_id AND ps.player_id = s.player_id "
        "WHERE s.user_id = $1 AND ($2::text IS NULL OR m.focus = $2) "
        "AND ($3::timestamptz IS NULL OR m.finished_at >= $3) "
        "AND ($4::timestamptz IS NULL OR m.finished_at < $4) "
        "AND ($5::timestamptz IS NULL OR (m.finished_at, m.id) < ($5, $6::uuid)) "
        "ORDER BY m.finished_at DESC, m.id DESC LIMIT $7",
        uuid.UUID(user_id),
        f.trait,
        f.since,
        f.until,
        None if f.before is None else f.before[0],
        None if f.before is None else f.before[1],
        limit,
    )
    return rows


async def pieces(db: Db, rows: list[asyncpg.Record], *, own: bool) -> list[dict[str, Any]]:
    """The pieces of these seats as the API shows them; ``own``: the viewer is the writer."""
    if not rows:
        return []
    match_ids = [r["match_id"] for r in rows]
    hidden = await hidden_in(db, match_ids)
    traits: dict[tuple[str, str], dict[str, int]] = {}
    for t in await db.fetch(
        "SELECT match_id, player_id, trait, value FROM scores WHERE match_id = ANY($1::uuid[])",
        match_ids,
    ):
        traits.setdefault((str(t["match_id"]), t["player_id"]), {})[t["trait"]] = t["value"]
    reviews = await db.fetch(
        "SELECT r.match_id, r.review_id, r.reviewer_id, r.writer_id, r.shown_strength, "
        "r.shown_suggestion, r.rating, r.helpfulness, r.withheld, w.alias AS writer_alias "
        "FROM reviews r LEFT JOIN seats w ON w.match_id = r.match_id "
        "AND w.player_id = r.writer_id WHERE r.match_id = ANY($1::uuid[]) "
        "ORDER BY r.written_at, r.review_id",
        match_ids,
    )
    out = []
    for r in rows:
        mid, me = str(r["match_id"]), r["player_id"]
        piece_hidden = hidden.piece(mid, me)
        received = []
        given = []
        for v in reviews:
            if str(v["match_id"]) != mid:
                continue
            is_hidden = hidden.review(mid, v["review_id"])
            if v["writer_id"] == me and not v["withheld"] and not is_hidden:
                received.append(
                    {
                        "id": review_public_id(mid, v["review_id"]),
                        "strength": v["shown_strength"],
                        "suggestion": v["shown_suggestion"],
                        "rating": v["rating"],
                    }
                )
            if v["reviewer_id"] == me and (own or not is_hidden):
                given.append(
                    {
                        "id": review_public_id(mid, v["review_id"]),
                        "to": v["writer_alias"] or "",
                        "strength": v["shown_strength"],
                        "suggestion": v["shown_suggestion"],
                        "rating": v["rating"],
                        "helpfulness": v["helpfulness"],
                        "hidden": is_hidden,
                    }
                )
        suggestions = _json(r["suggestions"]) or []
        show_text = own or not piece_hidden
        out.append(
            {
                "id": piece_id(mid, r["alias"]),
                "match_id": mid,
                "mode": r["mode"],
                "ranked": r["ranked"],
                "prompt": _prompt(r["prompt_id"]),
                "focus": r["focus"],
                "date": iso(r["finished_at"]),
                "alias": r["alias"],
                "rank": r["rank"],
                "score": round(r["score"], 4),
                "words": r["words"] or 0,
                "text": (r["text"] or "") if show_text else "",
                "hidden": piece_hidden,
                "provisional": r["provisional"],
                "overall": r["overall"],
                "traits": traits.get((mid, me), {}),
                "suggestions": [
                    {"sentence": str(x.get("sentence", "")), "advice": str(x.get("advice", ""))}
                    for x in (suggestions if isinstance(suggestions, list) else [])
                    if isinstance(x, dict)
                ]
                if show_text
                else [],
                "reviews_received": received,
                "reviews_given": given,
                "replay": {"api": f"/api/v1/replays/{mid}", "page": f"/replays/{mid}"}
                if r["has_replay"]
                else None,
            }
        )
    return out


async def owner(db: Db, user_id: str) -> asyncpg.Record | None:
    """The portfolio's owner (a live account), for its heading."""
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT id, display_name, role FROM users WHERE id = $1 AND deleted_at IS NULL",
        uuid.UUID(user_id),
    )
    return row

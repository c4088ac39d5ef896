"""``/api/v1/me``: the caller's own matches and rating over time.

Only matches in which the caller held a seat are ever listed or shown; anybody else's
match answers 404 as if it did not exist.  What a past match shows is what the player saw
at its end (``match.results`` and ``match.report`` in docs/protocol.md) plus the piece
they wrote, so the browser draws it with the same results screen.  A score a teacher
overrode (server/storage/overrides.py) is shown as overridden, with the AI's original;
the teacher's reason stays with the teacher and the audit log.

Listing is newest first, paginated with an opaque ``cursor`` (``next_cursor`` of the page
before; ``null`` on the last page).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from server.ai.content import load_prompts
from server.api.session import authenticate
from server.errors import NotFound
from server.game.rating import conservative
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG
from server.reports.hidden import hidden_in
from server.reports.store import piece_id, review_public_id

api = Api()

HISTORY_LIMIT = 200

_RATING: Schema = {
    "type": ["object", "null"],
    "properties": {
        "mu_before": {"type": "number"},
        "sigma_before": {"type": "number"},
        "mu_after": {"type": "number"},
        "sigma_after": {"type": "number"},
        "display_before": {"type": "number"},
        "display_after": {"type": "number"},
    },
}
_PROMPT: Schema = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "image": {"type": "string"},
        "image_description": {"type": "string"},
        "focus": {"type": "string"},
    },
}
_SUMMARY: Schema = {
    "type": "object",
    "required": ["match_id", "prompt_id", "finished_at", "rank", "players", "score"],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "prompt_id": {"type": "string"},
        "prompt_title": {"type": "string"},
        "focus": {"type": "string"},
        "ranked": {"type": "boolean"},
        "mode": {
            "type": "string",
            "description": "how it was played: ranked, quick, lobby, practice-solo (a solo "
            "practice round: one seat, no reviews, no replay)…",
        },
        "provisional": {"type": "boolean"},
        "finished_at": {"type": "string", "format": "date-time"},
        "alias": {"type": "string"},
        "rank": {"type": ["integer", "null"]},
        "players": {"type": "integer"},
        "score": {"type": "number"},
        "words": {"type": "integer"},
        "rating": _RATING,
        "overridden": {"type": "boolean", "description": "a teacher overrode your score"},
    },
}
_PAGE: Schema = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _SUMMARY},
        "next_cursor": {"type": ["string", "null"]},
    },
}
_DETAIL: Schema = {
    "type": "object",
    "required": ["match_id", "results", "report", "text"],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "prompt": _PROMPT,
        "finished_at": {"type": "string", "format": "date-time"},
        "you": {"type": "string"},
        "text": {"type": "string"},
        "results": {
            "type": "object",
            "description": "as the match.results event; each ranking entry also says "
            "overridden (a teacher overrode that piece's score)",
        },
        "report": {
            "type": ["object", "null"],
            "description": "as the match.report event, plus override: null, or {at, ai: "
            "{overall, traits}} when a teacher overrode your score (the scores shown are the "
            "teacher's; ai is what the AI gave)",
        },
    },
}
_HISTORY: Schema = {
    "type": "object",
    "required": ["current", "history"],
    "properties": {
        "current": {
            "type": ["object", "null"],
            "properties": {
                "mu": {"type": "number"},
                "sigma": {"type": "number"},
                "display": {"type": "number"},
                "matches": {"type": "integer"},
            },
        },
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "match_id": {"type": "string", "format": "uuid"},
                    "at": {"type": "string", "format": "date-time"},
                    "rank": {"type": ["integer", "null"]},
                    "display_before": {"type": "number"},
                    "display_after": {"type": "number"},
                },
            },
        },
    },
}
_UNAUTH = ("not signed in", None)


def _display(mu: float, sigma: float) -> float:
    return round(conservative(mu, sigma), 3)


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rating(row: asyncpg.Record | None) -> dict[str, float] | None:
    if row is None or row["mu_before"] is None:
        return None
    return {
        "mu_before": row["mu_before"],
        "sigma_before": row["sigma_before"],
        "mu_after": row["mu_after"],
        "sigma_after": row["sigma_after"],
        "display_before": _display(row["mu_before"], row["sigma_before"]),
        "display_after": _display(row["mu_after"], row["sigma_after"]),
    }


def _encode_cursor(finished_at: datetime, match_id: uuid.UUID) -> str:
    return encode_cursor(finished_at.astimezone(UTC).isoformat(), str(match_id))


def _parse_cursor(parts: list[str]) -> tuple[datetime, uuid.UUID]:
    when, match_id = parts
    return datetime.fromisoformat(when), uuid.UUID(match_id)


def _prompt_title(prompt_id: str) -> str:
    prompt = load_prompts().get(prompt_id)
    return prompt.title if prompt is not None else prompt_id


@api.route(
    "GET",
    "/api/v1/me/matches",
    summary="Your finished matches, newest first (query: limit 1-50, cursor)",
    tag="me",
    auth=True,
    responses={
        200: ("one page of your matches", _PAGE),
        401: _UNAUTH,
        422: ("bad limit or cursor", None),
    },
)
async def my_matches(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    after = decode_cursor(cursor, _parse_cursor) if cursor else None
    user = uuid.UUID(claims.user_id)
    rows = await request.app[PG].fetch(
        "SELECT m.id, m.prompt_id, m.focus, m.ranked, m.mode, m.provisional, m.finished_at, "
        "s.alias, s.rank, s.score, s.player_id, sub.words, "
        "(SELECT count(*) FROM seats x WHERE x.match_id = m.id AND x.rank IS NOT NULL) "
        "AS players, "
        "rh.mu_before, rh.sigma_before, rh.mu_after, rh.sigma_after, "
        "EXISTS (SELECT 1 FROM score_overrides o WHERE o.match_id = s.match_id "
        "AND o.player_id = s.player_id) AS overridden "
        "FROM seats s JOIN matches m ON m.id = s.match_id "
        "LEFT JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN rating_history rh ON rh.match_id = s.match_id AND rh.player_id = s.player_id "
        "WHERE s.user_id = $1 AND ($2::timestamptz IS NULL OR (m.finished_at, m.id) < ($2, $3::uuid)) "
        "ORDER BY m.finished_at DESC, m.id DESC LIMIT $4",
        user,
        None if after is None else after[0],
        None if after is None else after[1],
        limit + 1,
    )
    items = [
        {
            "match_id": str(r["id"]),
            "prompt_id": r["prompt_id"],
            "prompt_title": _prompt_title(r["prompt_id"]),
            "focus": r["focus"],
            "ranked": r["ranked"],
            "mode": r["mode"],
            "provisional": r["provisional"],
            "finished_at": _iso(r["finished_at"]),
            "alias": r["alias"],
            "rank": r["rank"],
            "players": r["players"],
            "score": round(r["score"], 4),
            "words": r["words"] or 0,
            "rating": _rating(r),
            "overridden": r["overridden"],
        }
        for r in rows[:limit]
    ]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = None if last is None else _encode_cursor(last["finished_at"], last["id"])
    return web.json_response({"items": items, "next_cursor": next_cursor})


@api.route(
    "GET",
    "/api/v1/me/matches/{match_id}",
    summary="One of your finished matches: the ranking, your scores, reviews and piece",
    tag="me",
    auth=True,
    responses={200: ("the match as you saw it at its end", _DETAIL), 401: _UNAUTH, 404: _UNAUTH},
)
async def my_match(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    try:
        match_id = uuid.UUID(request.match_info["match_id"])
    except ValueError:
        raise NotFound("no such match") from None
    pg = request.app[PG]
    async with pg.acquire() as conn:
        match = await conn.fetchrow("SELECT * FROM matches WHERE id = $1", match_id)
        mine = await conn.fetchrow(
            "SELECT player_id, alias, rank FROM seats WHERE match_id = $1 AND user_id = $2",
            match_id,
            uuid.UUID(claims.user_id),
        )
        if match is None or mine is None:
            raise NotFound("no such match among yours")
        detail = await _detail(conn, match, mine)
    return web.json_response(detail)


async def _detail(
    conn: asyncpg.Connection, match: asyncpg.Record, mine: asyncpg.Record
) -> dict[str, Any]:
    match_id, me = match["id"], mine["player_id"]
    seats = await conn.fetch(
        "SELECT s.*, sub.words, sub.empty, sub.text, "
        "ps.overall, ps.rationale, ps.suggestions, ps.flags, ps.provisional AS ps_provisional, "
        "rh.mu_before, rh.sigma_before, rh.mu_after, rh.sigma_after, "
        "o.updated_at AS overridden_at, o.ai_overall, o.ai_traits "
        "FROM seats s "
        "LEFT JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN piece_scores ps ON ps.match_id = s.match_id AND ps.player_id = s.player_id "
        "LEFT JOIN rating_history rh ON rh.match_id = s.match_id AND rh.player_id = s.player_id "
        "LEFT JOIN score_overrides o ON o.match_id = s.match_id AND o.player_id = s.player_id "
        "WHERE s.match_id = $1 ORDER BY s.rank NULLS LAST, s.alias",
        match_id,
    )
    traits: dict[str, dict[str, int]] = {}
    for r in await conn.fetch(
        "SELECT player_id, trait, value FROM scores WHERE match_id = $1", match_id
    ):
        traits.setdefault(r["player_id"], {})[r["trait"]] = r["value"]
    reviews = await conn.fetch(
        "SELECT * FROM reviews WHERE match_id = $1 ORDER BY written_at, review_id", match_id
    )
    alias = {s["player_id"]: s["alias"] for s in seats}
    hidden = await hidden_in(conn, [match_id])  # by a moderator (docs/reports.md)
    provisional_reviewers = {r["reviewer_id"] for r in reviews if r["provisional"]}
    ranking = [
        {
            "alias": s["alias"],
            "rank": s["rank"],
            "score": round(s["score"], 4),
            "writing": round(s["writing"], 4),
            "review": round(s["review"], 4),
            "traits": traits.get(s["player_id"], {}),
            "words": s["words"] or 0,
            "empty": bool(s["empty"]) if s["empty"] is not None else True,
            "left": s["left_match"],
            "provisional": bool(s["ps_provisional"]) or s["player_id"] in provisional_reviewers,
            "rating": _rating(s),
            "overridden": s["overridden_at"] is not None,
        }
        for s in seats
        if s["rank"] is not None
    ]
    own = next(s for s in seats if s["player_id"] == me)
    report: dict[str, Any] | None = None
    if own["rank"] is not None:
        suggestions = _json_list(own["suggestions"])
        report = {
            "alias": own["alias"],
            "traits": traits.get(me, {}),
            "overall": own["overall"] if own["overall"] is not None else 1.0,
            "rationale": own["rationale"] or "",
            "suggestions": [
                {"sentence": str(x.get("sentence", "")), "advice": str(x.get("advice", ""))}
                for x in suggestions
                if isinstance(x, dict)
            ],
            "reviews_received": [
                {
                    "id": review_public_id(match_id, r["review_id"]),
                    "strength": r["shown_strength"],
                    "suggestion": r["shown_suggestion"],
                    "rating": r["rating"],
                }
                for r in reviews
                if r["writer_id"] == me
                and not r["withheld"]
                and not hidden.review(match_id, r["review_id"])
            ],
            "reviews_written": [
                {
                    "alias": alias.get(r["writer_id"], "?"),
                    "helpfulness": r["helpfulness"],
                    "reasons": _reasons(r["judged"]),
                }
                for r in reviews
                if r["reviewer_id"] == me
            ],
            "flags": sorted(own["flags"] or []),
            "piece_id": piece_id(match_id, own["alias"]),
            "hidden": hidden.piece(match_id, me),
            "override": None
            if own["overridden_at"] is None
            else {
                "at": _iso(own["overridden_at"]),
                "ai": {"overall": own["ai_overall"], "traits": _json_dict(own["ai_traits"])},
            },
        }
    prompt = load_prompts().get(match["prompt_id"])
    return {
        "match_id": str(match_id),
        "prompt": None
        if prompt is None
        else {
            "id": prompt.id,
            "title": prompt.title,
            "text": prompt.text,
            "image": prompt.image,
            "image_description": prompt.image_description,
            "focus": match["focus"],
        },
        "finished_at": _iso(match["finished_at"]),
        "you": own["alias"],
        "text": own["text"] or "",
        "results": {
            "match_id": str(match_id),
            "focus": match["focus"],
            "ranked": match["ranked"],
            "provisional": match["provisional"],
            "ranking": ranking,
        },
        "report": report,
    }


def _json_list(value: Any) -> list[Any]:
    """A jsonb column as a list (asyncpg hands jsonb over as text)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = orjson.loads(value)
    return value if isinstance(value, list) else []


def _json_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = orjson.loads(value)
    return value if isinstance(value, dict) else {}


def _reasons(judged: Any) -> list[str]:
    if judged is None:
        return []
    if isinstance(judged, str):
        judged = orjson.loads(judged)
    reasons = judged.get("reasons", []) if isinstance(judged, dict) else []
    return [str(x) for x in reasons]


@api.route(
    "GET",
    "/api/v1/me/ratings",
    summary="Your rating now and after each of your recent ranked matches (oldest first)",
    tag="me",
    auth=True,
    responses={200: ("your rating over time", _HISTORY), 401: _UNAUTH},
)
async def my_ratings(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    user = uuid.UUID(claims.user_id)
    pg = request.app[PG]
    current = await pg.fetchrow("SELECT mu, sigma, matches FROM ratings WHERE user_id = $1", user)
    rows = await pg.fetch(
        "SELECT * FROM (SELECT rh.match_id, rh.rank, rh.mu_before, rh.sigma_before, "
        "rh.mu_after, rh.sigma_after, m.finished_at FROM rating_history rh "
        "JOIN matches m ON m.id = rh.match_id WHERE rh.user_id = $1 "
        "ORDER BY m.finished_at DESC, rh.id DESC LIMIT $2) recent ORDER BY finished_at",
        user,
        HISTORY_LIMIT,
    )
    return web.json_response(
        {
            "current": None
            if current is None
            else {
                "mu": current["mu"],
                "sigma": current["sigma"],
                "display": _display(current["mu"], current["sigma"]),
                "matches": current["matches"],
            },
            "history": [
                {
                    "match_id": str(r["match_id"]),
                    "at": _iso(r["finished_at"]),
                    "rank": r["rank"],
                    "display_before": _display(r["mu_before"], r["sigma_before"]),
                    "display_after": _display(r["mu_after"], r["sigma_after"]),
                }
                for r in rows
            ],
        }
    )

"""A lobby's results for its teacher: every round's matches, every student's piece, scores,
reviews and flags; overriding a piece's score; the results as CSV.

Who sees what: the lobby's teacher and admins, as for the lobby itself (anyone else: 404
``lobby_not_found``).  An override counts in ``lobbies.writes_per_account_per_minute``
(bucket ``lobbies.write``); the match's ranking and ratings are recomputed with it in one
transaction (server/storage/overrides.py) and it is audit-logged
(``lobby.score.override``); removing it (``DELETE`` of the same path) brings the AI's
scores back the same way (``lobby.score.override.delete``).  docs/lobbies.md, "Results,
overrides and CSV".
"""

from __future__ import annotations

import csv
import io
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from aiohttp import web

from server.api.caller import current_user
from server.api.lobbies import _managed, _write_limit
from server.errors import Conflict, NotFound
from server.game.rating import conservative
from server.http.body import Fields, json_body
from server.http.middleware import client_ip, request_id
from server.http.openapi import Api, Schema, text_schema
from server.http.state import PG, REALTIME, SETTINGS
from server.lobbies.store import LobbyRow
from server.notifications import announce
from server.storage import overrides

api = Api()

ROUND_MAX = 1_000_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these gets a leading apostrophe in the CSV, so a
spreadsheet shows it rather than running it (OWASP "CSV injection")."""

_NUM = {"type": "number"}
_RATING: Schema = {
    "type": ["object", "null"],
    "required": ["mu_before", "sigma_before", "mu_after", "sigma_after", "change"],
    "properties": {
        "mu_before": _NUM,
        "sigma_before": _NUM,
        "mu_after": _NUM,
        "sigma_after": _NUM,
        "display_before": _NUM,
        "display_after": _NUM,
        "change": {"type": "number", "description": "display_after - display_before"},
    },
}
_REVIEW: Schema = {
    "type": "object",
    "required": ["review_id", "strength", "suggestion", "rating", "helpfulness", "withheld"],
    "properties": {
        "review_id": {"type": "string"},
        "reviewer": {"type": "string", "description": "player id (reviews received)"},
        "reviewer_name": {"type": "string"},
        "writer": {"type": "string", "description": "player id (reviews given)"},
        "writer_name": {"type": "string"},
        "strength": {"type": "string", "description": "as written"},
        "suggestion": {"type": "string", "description": "as written"},
        "rating": {"type": "integer"},
        "helpfulness": {"type": "integer", "description": "the AI's 1-6"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "withheld": {"type": "boolean", "description": "moderation kept it from the writer"},
    },
}
_OVERRIDE: Schema = {
    "type": ["object", "null"],
    "required": ["traits", "overall", "reason", "revision", "at", "by", "ai"],
    "properties": {
        "traits": {"type": "object", "description": "the traits the teacher set"},
        "overall": {"type": ["number", "null"], "description": "null: the AI's stands"},
        "reason": {"type": "string"},
        "revision": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "by": {"type": ["object", "null"]},
        "ai": {"type": "object", "description": "what the AI gave: traits, overall"},
    },
}
_SEAT: Schema = {
    "type": "object",
    "required": [
        "player_id",
        "user_id",
        "name",
        "alias",
        "is_bot",
        "rank",
        "score",
        "text",
        "words",
        "traits",
        "overall",
        "rating",
        "reviews_given",
        "reviews_received",
        "paste",
        "moderation",
        "override",
    ],
    "properties": {
        "player_id": {"type": "string"},
        "user_id": {"type": ["string", "null"]},
        "name": {"type": "string"},
        "username": {"type": ["string", "null"]},
        "alias": {"type": "string"},
        "is_bot": {"type": "boolean"},
        "rank": {"type": ["integer", "null"]},
        "score": _NUM,
        "writing": _NUM,
        "review": _NUM,
        "text": {"type": "string"},
        "words": {"type": "integer"},
        "empty": {"type": "boolean"},
        "dropped": {"type": ["string", "null"]},
        "traits": {"type": "object"},
        "overall": {"type": ["number", "null"]},
        "rationale": {"type": "string"},
        "suggestions": {"type": "array", "items": {"type": "object"}},
        "flags": {"type": "array", "items": {"type": "string"}},
        "provisional": {"type": "boolean"},
        "rating": _RATING,
        "review_quality": {"type": ["number", "null"]},
        "reviews_given": {"type": "array", "items": _REVIEW},
        "reviews_received": {"type": "array", "items": _REVIEW},
        "paste": {"type": "object", "properties": {"count": _NUM, "chars": _NUM}},
        "moderation": {"type": "object"},
        "override": _OVERRIDE,
    },
}
_MATCH: Schema = {
    "type": "object",
    "required": ["match_id", "party", "finished", "seats"],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "party": {"type": "integer"},
        "finished": {"type": "boolean", "description": "false: playing, or closed without"},
        "ranked": {"type": "boolean"},
        "focus": {"type": "string"},
        "provisional": {"type": "boolean"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "seats": {"type": "array", "items": _SEAT},
    },
}
_ROUND: Schema = {
    "type": "object",
    "required": ["round", "prompt_id", "prompt_title", "started_at", "ended_at", "matches"],
    "properties": {
        "round": {"type": "integer"},
        "prompt_id": {"type": "string"},
        "prompt_title": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "matches": {"type": "array", "items": _MATCH},
    },
}
_RESULTS: Schema = {
    "type": "object",
    "required": ["lobby_id", "rounds"],
    "properties": {
        "lobby_id": {"type": "string", "format": "uuid"},
        "class_id": {"type": ["string", "null"]},
        "rounds": {"type": "array", "items": _ROUND},
    },
}
_OVERRIDE_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reason"],
    "properties": {
        "traits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                t: {
                    "type": "integer",
                    "minimum": overrides.SCORE_MIN,
                    "maximum": overrides.SCORE_MAX,
                }
                for t in overrides.TRAIT_NAMES
            },
        },
        "overall": {
            "type": "number",
            "minimum": overrides.SCORE_MIN,
            "maximum": overrides.SCORE_MAX,
        },
        "reason": text_schema(
            "why (required; 1-500 characters, not only spaces)",
            minLength=1,
            maxLength=overrides.REASON_CHARS,
        ),
    },
    "description": "at least one of traits and overall; replaces an earlier override",
}
_OVERRIDE_OUT: Schema = {
    "type": "object",
    "required": ["override", "match"],
    "properties": {"override": _OVERRIDE, "match": _MATCH},
}
_NOT_FOUND = ("no such lobby among those you may see (lobby_not_found)", None)
_WRITE_LIMITED = ("rate limited (lobbies.write or the per-address limit); see Retry-After", None)


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def _rating(s: asyncpg.Record) -> dict[str, float] | None:
    if s["mu_before"] is None:
        return None
    before = conservative(s["mu_before"], s["sigma_before"])
    after = conservative(s["mu_after"], s["sigma_after"])
    return {
        "mu_before": s["mu_before"],
        "sigma_before": s["sigma_before"],
        "mu_after": s["mu_after"],
        "sigma_after": s["sigma_after"],
        "display_before": round(before, 3),
        "display_after": round(after, 3),
        "change": round(after - before, 3),
    }


def _override(s: asyncpg.Record) -> dict[str, Any] | None:
    if s["o_revision"] is None:
        return None
    return {
        "traits": _json(s["o_traits"]),
        "overall": s["o_overall"],
        "reason": s["o_reason"],
        "revision": s["o_revision"],
        "at": _iso(s["o_at"]),
        "by": None
        if s["o_actor"] is None
        else {"id": str(s["o_actor"]), "display_name": s["o_actor_name"]},
        "ai": {"traits": _json(s["ai_traits"]), "overall": s["ai_overall"]},
    }


def _reasons(judged: Any) -> list[str]:
    judged = _json(judged)
    reasons = judged.get("reasons", []) if isinstance(judged, dict) else []
    return [str(x) for x in reasons]


async def _match_seats(
    conn: asyncpg.Connection, match_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Every seat of these matches as the teacher sees it, by match."""
    seats = await conn.fetch(
        "SELECT s.match_id, s.player_id, s.user_id, s.alias, s.is_bot, s.rank, s.score, "
        "s.writing, s.review, s.dropped, u.display_name, u.handle, "
        "sub.text, sub.words, sub.empty, sub.paste_count, sub.pasted_chars, sub.withheld, "
        "sub.moderation, sub.moderation_flags, ps.overall, ps.rationale, ps.suggestions, ps.flags, ps.engine, "
        "ps.provisional AS ps_provisional, "
        "rh.mu_before, rh.sigma_before, rh.mu_after, rh.sigma_after, "
        "o.overall AS o_overall, o.traits AS o_traits, o.ai_overall, o.ai_traits, "
        "o.reason AS o_reason, o.revision AS o_revision, o.updated_at AS o_at, "
        "o.actor_id AS o_actor, a.display_name AS o_actor_name "
        "FROM seats s LEFT JOIN users u ON u.id = s.user_id "
        "LEFT JOIN submissions sub ON sub.match_id = s.match_id AND sub.player_id = s.player_id "
        "LEFT JOIN piece_scores ps ON ps.match_id = s.match_id AND ps.player_id = s.player_id "
        "LEFT JOIN rating_history rh ON rh.match_id = s.match_id AND rh.player_id = s.player_id "
        "LEFT JOIN score_overrides o ON o.match_id = s.match_id AND o.player_id = s.player_id "
        "LEFT JOIN users a ON a.id = o.actor_id "
        "WHERE s.match_id = ANY($1::uuid[]) ORDER BY s.match_id, s.rank NULLS LAST, s.alias",
        list(match_ids),
    )
    traits: dict[tuple[uuid.UUID, str], dict[str, int]] = {}
    for r in await conn.fetch(
        "SELECT match_id, player_id, trait, value FROM scores WHERE match_id = ANY($1::uuid[])",
        list(match_ids),
    ):
        traits.setdefault((r["match_id"], r["player_id"]), {})[r["trait"]] = r["value"]
    reviews = await conn.fetch(
        "SELECT match_id, review_id, reviewer_id, writer_id, strength, suggestion, rating, "
        "withheld, helpfulness, judged FROM reviews WHERE match_id = ANY($1::uuid[]) "
        "ORDER BY written_at, review_id",
        list(match_ids),
    )
    names = {(s["match_id"], s["player_id"]): s["display_name"] or s["alias"] for s in seats}
    out: dict[uuid.UUID, list[dict[str, Any]]] = {m: [] for m in match_ids}
    for s in seats:
        mid, me = s["match_id"], s["player_id"]
        given = [r for r in reviews if r["match_id"] == mid and r["reviewer_id"] == me]
        received = [r for r in reviews if r["match_id"] == mid and r["writer_id"] == me]
        helps = [r["helpfulness"] for r in given]
        verdict = s["moderation"]
        out[mid].append(
            {
                "player_id": me,
                "user_id": None if s["user_id"] is None else str(s["user_id"]),
                "name": names[(mid, me)],
                "username": s["handle"],
                "alias": s["alias"],
                "is_bot": s["is_bot"],
                "rank": s["rank"],
                "score": round(s["score"], 4),
                "writing": round(s["writing"], 4),
                "review": round(s["review"], 4),
                "text": s["text"] or "",
                "words": s["words"] or 0,
                "empty": True if s["empty"] is None else bool(s["empty"]),
                "dropped": s["dropped"],
                "traits": traits.get((mid, me), {}),
                "overall": s["overall"],
                "rationale": s["rationale"] or "",
                "suggestions": [
                    {"sentence": str(x.get("sentence", "")), "advice": str(x.get("advice", ""))}
                    for x in (_json(s["suggestions"]) or [])
                    if isinstance(x, dict)
                ],
                "flags": sorted(s["flags"] or []),
                "provisional": bool(s["ps_provisional"]),
                "rating": _rating(s),
                "review_quality": round(sum(helps) / len(helps), 2) if helps else None,
                "reviews_given": [
                    {
                        "review_id": r["review_id"],
                        "writer": r["writer_id"],
                        "writer_name": names.get((mid, r["writer_id"]), "?"),
                        "strength": r["strength"],
                        "suggestion": r["suggestion"],
                        "rating": r["rating"],
                        "helpfulness": r["helpfulness"],
                        "reasons": _reasons(r["judged"]),
                        "withheld": r["withheld"],
                    }
                    for r in given
                ],
                "reviews_received": [
                    {
                        "review_id": r["review_id"],
                        "reviewer": r["reviewer_id"],
                        "reviewer_name": names.get((mid, r["reviewer_id"]), "?"),
                        "strength": r["strength"],
                        "suggestion": r["suggestion"],
                        "rating": r["rating"],
                        "helpfulness": r["helpfulness"],
                        "withheld": r["withheld"],
                    }
                    for r in received
                ],
                "paste": {"count": s["paste_count"] or 0, "chars": s["pasted_chars"] or 0},
                "moderation": {
                    "verdict": verdict,
                    "flagged": verdict in ("mask", "block"),
                    "teacher_flags": list(s["moderation_flags"] or ()),
                    "withheld": bool(s["withheld"]),
                    "reviews_withheld": sum(1 for r in given if r["withheld"]),
                },
                "override": _override(s),
            }
        )
    return out


def _prompt_title(request: web.Request, lobby: LobbyRow, prompt_id: str) -> str:
    prompt = request.app[REALTIME].prompts.get(prompt_id)
    if prompt is not None:
        return prompt.title
    if prompt_id.startswith("custom-") and lobby.rules.prompt.kind == "custom":
        return lobby.rules.prompt.title  # the lobby's own prompt (as its rules hold it now)
    return prompt_id


async def _results(
    request: web.Request, lobby: LobbyRow, round_no: int | None
) -> list[dict[str, Any]]:
    lid = uuid.UUID(lobby.id)
    async with request.app[PG].acquire() as conn:
        rounds = await conn.fetch(
            "SELECT round, prompt_id, started_at, ended_at FROM lobby_rounds "
            "WHERE lobby_id = $1 AND ($2::int IS NULL OR round = $2) ORDER BY round",
            lid,
            round_no,
        )
        parties = await conn.fetch(
            "SELECT lm.match_id, lm.round, lm.party, m.id IS NOT NULL AS finished, m.ranked, "
            "m.focus, m.provisional, m.finished_at FROM lobby_matches lm "
            "LEFT JOIN matches m ON m.id = lm.match_id "
            "WHERE lm.lobby_id = $1 AND ($2::int IS NULL OR lm.round = $2) "
            "ORDER BY lm.round, lm.party",
            lid,
            round_no,
        )
        seats = await _match_seats(conn, [p["match_id"] for p in parties if p["finished"]])
    return [
        {
            "round": r["round"],
            "prompt_id": r["prompt_id"],
            "prompt_title": _prompt_title(request, lobby, r["prompt_id"]),
            "started_at": _iso(r["started_at"]),
            "ended_at": _iso(r["ended_at"]),
            "matches": [
                _match(p, seats.get(p["match_id"], [])) for p in parties if p["round"] == r["round"]
            ],
        }
        for r in rounds
    ]


def _match(p: asyncpg.Record, seats: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "match_id": str(p["match_id"]),
        "party": p["party"],
        "finished": p["finished"],
        "ranked": bool(p["ranked"]),
        "focus": p["focus"] or "",
        "provisional": bool(p["provisional"]),
        "finished_at": _iso(p["finished_at"]),
        "seats": seats,
    }


@api.route(
    "GET",
    "/api/v1/lobbies/{lobby_id}/results",
    summary="A lobby's results, every round: each match's seats with piece, scores, the AI's "
    "rationale, rank, rating change, reviews given and received, paste and moderation flags",
    tag="lobbies",
    auth=True,
    responses={200: ("the results, round by round", _RESULTS), 404: _NOT_FOUND},
)
async def lobby_results(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    rounds = await _results(request, lobby, None)
    return web.json_response({"lobby_id": lobby.id, "class_id": lobby.class_id, "rounds": rounds})


@api.route(
    "GET",
    "/api/v1/lobbies/{lobby_id}/rounds/{round}/results",
    summary="One round's results (as in the lobby's results)",
    tag="lobbies",
    auth=True,
    responses={
        200: ("the round's results", _ROUND),
        404: ("no such lobby (lobby_not_found) or round (round_not_found)", None),
    },
)
async def round_results(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    raw = request.match_info["round"]
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 7 else 0
    found = await _results(request, lobby, number) if 1 <= number <= ROUND_MAX else []
    if not found:
        raise NotFound("this lobby has no such round", code="round_not_found")
    return web.json_response(found[0])


def _override_body(f: Fields) -> overrides.Override:
    reason = f.string("reason", required=True, max_len=overrides.REASON_CHARS)
    if reason is not None and not reason.strip():
        f.problem("reason", "must not be empty")
    traits: dict[str, int] = {}
    raw = f.body.get("traits")
    if raw is not None and not isinstance(raw, dict):
        f.problem("traits", "must be an object of trait: 1-6")
    for name, value in (raw or {}).items() if isinstance(raw, dict) else ():
        where = f"traits.{name}"
        if name not in overrides.TRAIT_NAMES:
            f.problem(where, f"is not a trait ({', '.join(overrides.TRAIT_NAMES)})")
        elif (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not overrides.SCORE_MIN <= value <= overrides.SCORE_MAX
        ):
            f.problem(
                where, f"must be an integer from {overrides.SCORE_MIN} to {overrides.SCORE_MAX}"
            )
        else:
            traits[name] = value
    overall = f.body.get("overall")
    if overall is not None and (
        not isinstance(overall, int | float)
        or isinstance(overall, bool)
        or not math.isfinite(overall)
        or not overrides.SCORE_MIN <= overall <= overrides.SCORE_MAX
    ):
        f.problem(
            "overall", f"must be a number from {overrides.SCORE_MIN} to {overrides.SCORE_MAX}"
        )
        overall = None
    if not raw and f.body.get("overall") is None:
        f.problem("traits", "set at least one trait or the overall")
    f.done()
    assert reason is not None
    return overrides.Override(traits, None if overall is None else float(overall), reason.strip())


@api.route(
    "PUT",
    "/api/v1/lobbies/{lobby_id}/matches/{match_id}/pieces/{player_id}/score",
    summary="Override a piece's score (trait scores and/or overall, 1-6) with a reason: the "
    "match's ranking and ratings are recomputed; replaces an earlier override; audited",
    tag="lobbies",
    auth=True,
    request=_OVERRIDE_IN,
    responses={
        200: ("the override and the match's results after it", _OVERRIDE_OUT),
        404: ("no such lobby (lobby_not_found), or no such piece in it (piece_not_found)", None),
        409: ("the player submitted nothing (piece_empty)", None),
        429: _WRITE_LIMITED,
    },
)
async def override_score(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    await _write_limit(request, caller)
    override = _override_body(Fields(await json_body(request), {"traits", "overall", "reason"}))
    match_id, player_id = _piece_path(request)
    pg = request.app[PG]
    try:
        await overrides.override_score(
            pg,
            lobby_id=lobby.id,
            match_id=match_id,
            player_id=player_id,
            override=override,
            who=overrides.Who(caller.id, request_id(request), client_ip(request)),
            settings=request.app[SETTINGS].match,
        )
    except overrides.PieceNotFound:
        raise NotFound("no such piece in this lobby", code="piece_not_found") from None
    except overrides.PieceEmpty:
        raise Conflict(
            "nothing was submitted: an empty piece scores 0 whatever its scores",
            code="piece_empty",
        ) from None
    await announce.score_overridden(
        request.app, match_id, player_id, override.traits, override.overall
    )
    return await _after(request, match_id, player_id)


def _piece_path(request: web.Request) -> tuple[uuid.UUID, str]:
    try:
        match_id = uuid.UUID(request.match_info["match_id"])
    except ValueError:
        raise NotFound("no such piece in this lobby", code="piece_not_found") from None
    return match_id, request.match_info["player_id"]


async def _after(request: web.Request, match_id: uuid.UUID, player_id: str) -> web.Response:
    """``{override, match}``: the piece's override in force (or null) and its match's
    results, as the teacher reads them."""
    async with request.app[PG].acquire() as conn:
        seats = (await _match_seats(conn, [match_id]))[match_id]
        party = await conn.fetchrow(
            "SELECT lm.match_id, lm.round, lm.party, true AS finished, m.ranked, m.focus, "
            "m.provisional, m.finished_at FROM lobby_matches lm JOIN matches m "
            "ON m.id = lm.match_id WHERE lm.match_id = $1",
            match_id,
        )
    assert party is not None
    mine = next(s for s in seats if s["player_id"] == player_id)
    return web.json_response({"override": mine["override"], "match": _match(party, seats)})


@api.route(
    "DELETE",
    "/api/v1/lobbies/{lobby_id}/matches/{match_id}/pieces/{player_id}/score",
    summary="Remove a piece's override: the AI's scores are back and the match's ranking "
    "and ratings are recomputed from them; audited",
    tag="lobbies",
    auth=True,
    responses={
        200: (
            "no override any more (override: null) and the match's results after it",
            _OVERRIDE_OUT,
        ),
        404: (
            "no such lobby (lobby_not_found), no such piece in it (piece_not_found), or the "
            "piece has no override (override_not_found)",
            None,
        ),
        429: _WRITE_LIMITED,
    },
)
async def remove_override(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    await _write_limit(request, caller)
    match_id, player_id = _piece_path(request)
    try:
        await overrides.remove_override(
            request.app[PG],
            lobby_id=lobby.id,
            match_id=match_id,
            player_id=player_id,
            who=overrides.Who(caller.id, request_id(request), client_ip(request)),
            settings=request.app[SETTINGS].match,
        )
    except overrides.PieceNotFound:
        raise NotFound("no such piece in this lobby", code="piece_not_found") from None
    except overrides.OverrideNotFound:
        raise NotFound(
            "this piece has no override: its scores are the AI's", code="override_not_found"
        ) from None
    return await _after(request, match_id, player_id)


# --- CSV ---------------------------------------------------------------------------------


def cell(value: Any) -> str | int | float:
    """A CSV cell: numbers as they are, text guarded against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


CSV_HEADER = (
    "class",
    "student",
    "username",
    "round",
    "party",
    "prompt",
    "words",
    *overrides.TRAIT_NAMES,
    "overall",
    "review_quality",
    "rank",
    "rating_change",
    "pastes",
    "pasted_chars",
    "moderation",
    "overridden",
    "match_id",
)


def _moderation(m: Mapping[str, Any]) -> str:
    parts = [f"teacher flag {reason}" for reason in m["teacher_flags"]]
    if m["flagged"]:
        parts.append(f"piece {m['verdict']}")
    if m["reviews_withheld"]:
        parts.append(f"{m['reviews_withheld']} review(s) withheld")
    return "; ".join(parts)


def results_csv(class_name: str, rounds: Sequence[Mapping[str, Any]]) -> str:
    """One row per student (bots left out) per round, RFC 4180 (CRLF, minimal quoting)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rounds:
        rows = [(m, s) for m in r["matches"] for s in m["seats"] if not s["is_bot"]]
        rows.sort(key=lambda ms: (ms[1]["name"].casefold(), ms[1]["player_id"]))
        for m, s in rows:
            rating = s["rating"]
            values: list[Any] = [
                class_name,
                s["name"],
                s["username"],
                r["round"],
                m["party"],
                r["prompt_title"],
                s["words"],
                *(s["traits"].get(t) for t in overrides.TRAIT_NAMES),
                None if s["overall"] is None else round(s["overall"], 2),
                s["review_quality"],
                s["rank"],
                None if rating is None else rating["change"],
                s["paste"]["count"],
                s["paste"]["chars"],
                _moderation(s["moderation"]),
                s["override"] is not None,
                m["match_id"],
            ]
            writer.writerow([cell(v) for v in values])
    return out.getvalue()


def _filename(lobby: LobbyRow) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", lobby.name).strip("-").lower()[:40] or "lobby"
    return f"{slug}-results.csv"


@api.route(
    "GET",
    "/api/v1/lobbies/{lobby_id}/results.csv",
    summary="A lobby's results as CSV: one row per student per round (RFC 4180, UTF-8)",
    tag="lobbies",
    auth=True,
    produces="text/csv",
    responses={200: ("the CSV file", {"type": "string"}), 404: _NOT_FOUND},
)
async def results_csv_file(request: web.Request) -> web.Response:
    caller = await current_user(request)
    lobby = await _managed(request, caller)
    rounds = await _results(request, lobby, None)
    class_name = ""
    if lobby.class_id is not None:
        class_name = (
            await request.app[PG].fetchval(
                "SELECT name FROM classes WHERE id = $1", uuid.UUID(lobby.class_id)
            )
            or ""
        )
    body = "\ufeff" + results_csv(class_name, rounds)  # the BOM: spreadsheets read UTF-8 then
    return web.Response(
        body=body.encode(),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{_filename(lobby)}"',
        },
    )

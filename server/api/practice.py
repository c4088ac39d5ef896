"""``/api/v1/practice``: a timed solo practice round, scored by the AI, not rated
(docs/practice.md).

``POST /practice`` starts a round (a prompt at the writer's level, the focus of their
goal or weakest trait); the writer saves drafts (``PUT /practice/{id}/draft``, each with
a newer ``seq``) and submits (``POST /practice/{id}/submit``); the server owns the
deadline: past it (and ``practice.grace_seconds``) drafts are refused and the first
request that sees the round submits its last saved draft.  The piece is scored by the
node's AI engines (the offline ones in the node's process pool, as a match's pieces),
moderated, and stored as a match of one seat (``matches.mode = 'practice-solo'``,
``ranked = false``: no rating change), so the portfolio and progress pick it up; then
the writer's goals are checked (``server.goals.check_goals``).

Rounds are their writer's: anyone else (another student, their teacher) gets 404
``practice_not_found``; an admin may read one, not write to it.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiohttp import web

from server.accounts import store as accounts
from server.ai.types import TRAITS, ModerationRequest, PieceRequest, PieceScore, Trait
from server.api.caller import current_user
from server.errors import Conflict, NotFound
from server.game.draft import EditRecord, is_empty, word_count
from server.game.results import MatchOutcome, SeatOutcome
from server.game.scoring import empty_piece_score, seat_score
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.openapi import BODY_STATUSES, Api, Schema, text_schema
from server.http.state import ENGINES, NODE, PG, REALTIME, REDIS, SETTINGS
from server.notifications import store as notes
from server.pods import store as pstore
from server.pods.scheduler import CLOCK
from server.practice import rounds
from server.practice import store as practice
from server.storage.matches import save_outcome
from server.types import MatchId, PlayerId

api = Api()
log = structlog.get_logger("quill.practice")

_TRAITS = [t.value for t in TRAITS]
_PROMPT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "text", "level", "image", "image_description"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "level": {"type": "string"},
        "image": {"type": "string"},
        "image_description": {"type": "string"},
    },
}
_RESULT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "match_id",
        "words",
        "overall",
        "traits",
        "rationale",
        "suggestions",
        "flags",
        "engine",
        "provisional",
    ],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "words": {"type": "integer", "minimum": 0},
        "overall": {"type": "number"},
        "traits": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 6},
        },
        "rationale": {"type": "string"},
        "suggestions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sentence", "advice"],
                "properties": {"sentence": {"type": "string"}, "advice": {"type": "string"}},
            },
        },
        "flags": {"type": "array", "items": {"type": "string"}},
        "engine": {"type": "string"},
        "provisional": {"type": "boolean"},
    },
}
_ROUND: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "status",
        "prompt",
        "focus",
        "focus_from",
        "level",
        "seconds",
        "started_at",
        "deadline",
        "now",
        "draft",
        "seq",
        "submitted_at",
        "result",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["writing", "scoring", "scored"]},
        "prompt": _PROMPT,
        "focus": {"type": "string", "enum": _TRAITS},
        "focus_from": {"type": "string", "enum": ["goal", "weakest", "prompt"]},
        "level": {"type": "string"},
        "seconds": {"type": "integer", "minimum": 1},
        "started_at": {"type": "string", "format": "date-time"},
        "deadline": {"type": "string", "format": "date-time"},
        "now": {"type": "string", "format": "date-time"},
        "draft": {"type": "string"},
        "seq": {"type": "integer", "minimum": 0},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "result": {"oneOf": [_RESULT, {"type": "null"}]},
    },
}
_DRAFT_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text", "seq"],
    "properties": {
        "text": text_schema("the whole draft", maxLength=20000),
        "seq": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
}
_SUBMIT_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": text_schema("the final draft (optional: the last one saved)", maxLength=20000),
        "seq": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
}
_SAVED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["seq", "words", "deadline"],
    "properties": {
        "seq": {"type": "integer"},
        "words": {"type": "integer", "minimum": 0},
        "deadline": {"type": "string", "format": "date-time"},
    },
}
_NOT_FOUND = ("not your round, or none (practice_not_found)", None)
_LIMITED = (
    "too many rounds started (practice.starts_per_account_per_hour) or drafts saved "
    "(practice.writes_per_account_per_minute)",
    None,
)


class PracticeConflict(Conflict):
    code = "practice_conflict"


def _now(request: web.Request) -> datetime:
    clock = request.app.get(CLOCK)
    return clock.now() if clock is not None else datetime.now(UTC)


def _grace(request: web.Request) -> timedelta:
    return timedelta(seconds=request.app[SETTINGS].practice.grace_seconds)


async def _write_limit(request: web.Request, user: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "practice.write",
        user.id,
        request.app[SETTINGS].practice.writes_per_account_per_minute,
    )


def _round_id(request: web.Request) -> str:
    try:
        return str(uuid.UUID(request.match_info["round_id"]))
    except ValueError:
        raise NotFound("no such practice round", code="practice_not_found") from None


async def _round(
    request: web.Request, user: accounts.User, *, admin_reads: bool = False
) -> practice.Round:
    found = await practice.get(request.app[PG], _round_id(request))
    if found is None or not (found.user_id == user.id or (admin_reads and user.role == "admin")):
        raise NotFound("no such practice round", code="practice_not_found")
    return found


async def _body(request: web.Request, r: practice.Round) -> dict[str, Any]:
    prompt = request.app[REALTIME].prompts.get(r.prompt_id)
    result = None
    if r.match_id is not None:
        found = await practice.result(request.app[PG], r.match_id, r.user_id)
        if found is not None:
            result = {
                "match_id": found.match_id,
                "words": found.words,
                "overall": round(found.overall, 2),
                "traits": found.traits,
                "rationale": found.rationale,
                "suggestions": found.suggestions,
                "flags": found.flags,
                "engine": found.engine,
                "provisional": found.provisional,
            }
    status = "writing" if r.submitted_at is None else ("scored" if result else "scoring")
    return {
        "id": r.id,
        "status": status,
        "prompt": {
            "id": r.prompt_id,
            "title": prompt.title if prompt else r.prompt_id,
            "text": prompt.text if prompt else "",
            "level": r.level,
            "image": prompt.image if prompt else "",
            "image_description": prompt.image_description if prompt else "",
        },
        "focus": r.focus,
        "focus_from": r.focus_from,
        "level": r.level,
        "seconds": r.seconds,
        "started_at": r.started_at.isoformat(),
        "deadline": r.deadline.isoformat(),
        "now": _now(request).isoformat(),
        "draft": r.draft,
        "seq": r.seq,
        "submitted_at": None if r.submitted_at is None else r.submitted_at.isoformat(),
        "result": result,
    }


async def _finish(
    request: web.Request, r: practice.Round, text: str | None = None, seq: int | None = None
) -> practice.Round:
    """Submit the round (``text`` if given and newer than the saved draft), score it,
    store it as a match of one seat, check the writer's goals.  Idempotent: the match's
    id is the round's, and a second finisher's save does nothing."""
    app, pg = request.app, request.app[PG]
    now = _now(request)
    if r.submitted_at is None:
        async with pg.acquire() as conn, conn.transaction():
            claimed = await practice.claim_submit(conn, r.id, now, text, seq)
        if claimed is None:  # another request submitted it a moment ago
            claimed = await practice.get(pg, r.id)
            assert claimed is not None
        r = claimed
    if r.match_id is not None:
        return r
    assert r.submitted_at is not None
    prompt = app[REALTIME].prompts.get(r.prompt_id)
    if prompt is None:
        raise NotFound("this round's prompt is no longer in the pack", code="prompt_not_found")
    engines = app[ENGINES]
    focus = Trait(r.focus)
    empty = is_empty(r.draft)
    score: PieceScore
    verdict: str | None = None
    flags: tuple[str, ...] = ()
    if empty:
        score = empty_piece_score()
    else:
        score = await engines.scorer.score_piece(
            PieceRequest(
                prompt=prompt,
                text=r.draft,
                focus=focus,
                level=prompt.level,
                seconds_allowed=float(r.seconds),
            )
        )
        mod = await engines.moderator.moderate(ModerationRequest(text=r.draft))
        verdict = mod.verdict
        flags = mod.reasons if mod.flag_teacher else ()
    seat = seat_score(score, focus, [], 0, empty, app[SETTINGS].match)
    player = PlayerId(r.user_id)
    started = r.started_at.timestamp()
    outcome = MatchOutcome(
        match_id=MatchId(r.id),
        ranked=False,
        focus=focus,
        prompt_id=r.prompt_id,
        started_at=started,
        finished_at=r.submitted_at.timestamp(),
        provisional=score.provisional,
        seats=(
            SeatOutcome(
                player=player,
                alias="You",
                is_bot=False,
                rank=1,
                score=seat.score,
                writing=seat.writing,
                review=seat.review,
                text=r.draft,
                words=word_count(r.draft),
                empty=empty,
                left=False,
                dropped=None,
                paste_count=0,
                pasted_chars=0,
                assigned=0,
                written=0,
                withheld=False,
                moderation=verdict,
                piece_score=score,
                moderation_flags=tuple(flags),
            ),
        ),
        reviews=(),
        ratings=(),
    )
    edits = [
        EditRecord(at=float(e["at"]), seq=int(e["seq"]), snapshot=str(e["snapshot"]))
        for e in await practice.edit_log(pg, r.id)
    ]
    await save_outcome(
        pg, outcome, node_id=app[NODE].node_id, mode=practice.MODE, edits={player: edits}
    )
    async with pg.acquire() as conn:
        await practice.link_match(conn, r.id, r.id)
    await _check_goals(request, r.user_id)
    done = await practice.get(pg, r.id)
    assert done is not None
    return done


async def _check_goals(request: web.Request, user_id: str) -> None:
    """``server.goals.check_goals`` when that part is installed (a practice piece may
    meet a goal); its notifications are published here."""
    try:
        goals = importlib.import_module("server.goals")
    except ImportError:
        return
    try:  # a courtesy after the piece is stored: it never fails the submission
        made = await goals.check_goals(request.app[PG], [user_id])
        await notes.publish(request.app[REDIS], made)
    except Exception as exc:
        log.warning("practice_goal_check_failed", error=repr(exc))


async def _settle(request: web.Request, r: practice.Round) -> practice.Round:
    """A round past its deadline and grace is submitted now, with its last draft; a
    submitted one left unscored (a node stopped mid-way) is scored now."""
    over = rounds.phase(_now(request), r.deadline, _grace(request), r.submitted_at)
    if over is rounds.Phase.OVER or (r.submitted_at is not None and r.match_id is None):
        return await _finish(request, r)
    return r


@api.route(
    "POST",
    "/api/v1/practice",
    summary="Start a timed solo practice round: a prompt at your level, your goal's trait",
    tag="practice",
    auth=True,
    responses={
        201: ("the round, writing", _ROUND),
        409: ("a round is still being written (practice_in_progress, details.id)", None),
        429: _LIMITED,
    },
)
async def start(request: web.Request) -> web.Response:
    user = await current_user(request)
    app, pg = request.app, request.app[PG]
    await ratelimit.hit(
        app[REDIS],
        "practice.start",
        user.id,
        app[SETTINGS].practice.starts_per_account_per_hour,
        window_s=3600,
        now=app[ratelimit.CLOCK].now(),
        per="account",
    )
    current = await practice.open_round(pg, user.id)
    if current is not None:
        current = await _settle(request, current)
        if current.submitted_at is None:
            raise PracticeConflict(
                "finish the round you are writing first",
                code="practice_in_progress",
                details={"id": current.id},
            )
    round_id = str(uuid.uuid4())
    rating = (await pstore.ratings(pg, [user.id]))[user.id]
    averages = (await pstore.trait_averages(pg, [user.id]))[user.id]
    goal = await practice.open_goal(pg, user.id)
    choice = rounds.choose(list(app[REALTIME].prompts.values()), rating, goal, averages, round_id)
    seconds = int(app[SETTINGS].practice.write_seconds)
    now = _now(request)
    made = await practice.create(
        pg,
        round_id,
        user.id,
        choice.prompt.id,
        choice.focus.value,
        choice.why,
        choice.level,
        seconds,
        now,
        now + timedelta(seconds=seconds),
    )
    if made is None:  # a second start at the same moment
        raise PracticeConflict(
            "finish the round you are writing first", code="practice_in_progress"
        )
    return web.json_response(await _body(request, made), status=201)


@api.route(
    "GET",
    "/api/v1/practice/{round_id}",
    summary="A practice round of yours: the prompt, the clock, the draft, and the score",
    tag="practice",
    auth=True,
    responses={200: ("the round", _ROUND), 404: _NOT_FOUND},
)
async def get_round(request: web.Request) -> web.Response:
    user = await current_user(request)
    r = await _round(request, user, admin_reads=True)
    if r.user_id == user.id:
        r = await _settle(request, r)
    return web.json_response(await _body(request, r))


@api.route(
    "PUT",
    "/api/v1/practice/{round_id}/draft",
    summary="Save the draft (the whole text, with a newer seq) while the clock runs",
    tag="practice",
    auth=True,
    request=_DRAFT_IN,
    responses={
        200: ("saved", _SAVED),
        404: _NOT_FOUND,
        409: (
            "the round is over or submitted (practice_over), or seq is not newer "
            "(stale_seq, details.seq: the saved one)",
            None,
        ),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def save_draft(request: web.Request) -> web.Response:
    user = await current_user(request)
    r = await _round(request, user)
    await _write_limit(request, user)
    text, seq = _draft_fields(request, await json_body(request), required=True)
    assert text is not None and seq is not None
    if rounds.phase(_now(request), r.deadline, _grace(request), r.submitted_at) is not (
        rounds.Phase.WRITING
    ):
        await _settle(request, r)
        raise PracticeConflict("time is up: the round was submitted", code="practice_over")
    at = (_now(request) - r.started_at).total_seconds()
    if not await practice.save_draft(request.app[PG], r.id, text, seq, at):
        now = await practice.get(request.app[PG], r.id)
        if now is None or now.submitted_at is not None:
            raise PracticeConflict("the round was submitted", code="practice_over")
        raise PracticeConflict(
            "a newer draft is saved already", code="stale_seq", details={"seq": now.seq}
        )
    return web.json_response(
        {"seq": seq, "words": word_count(text), "deadline": r.deadline.isoformat()}
    )


def _draft_fields(
    request: web.Request, body: dict[str, Any], *, required: bool
) -> tuple[str | None, int | None]:
    f = Fields(body, {"text", "seq"})
    text = f.string("text", required=required, max_len=request.app[SETTINGS].limits.draft_chars)
    seq = body.get("seq")
    if seq is None:
        if required or text is not None:
            f.problem("seq", "is required with text")
    elif isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= 2**31 - 1:
        f.problem("seq", "must be an integer 1..2147483647")
    f.done()
    return text, seq


@api.route(
    "POST",
    "/api/v1/practice/{round_id}/submit",
    summary="Hand the piece in (optionally with its final text): scored, not rated",
    tag="practice",
    auth=True,
    request=_SUBMIT_IN,
    responses={
        200: ("the round with its score", _ROUND),
        404: _NOT_FOUND,
        409: ("submitted already (already_submitted)", None),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def submit(request: web.Request) -> web.Response:
    user = await current_user(request)
    r = await _round(request, user)
    await _write_limit(request, user)
    text, seq = _draft_fields(request, await json_body(request, optional=True), required=False)
    if r.submitted_at is not None and r.match_id is not None:
        raise PracticeConflict("this round was submitted already", code="already_submitted")
    if rounds.phase(_now(request), r.deadline, _grace(request), r.submitted_at) is not (
        rounds.Phase.WRITING
    ):
        text, seq = None, None  # too late for new text: the last saved draft counts
    done = await _finish(request, r, text, seq)
    return web.json_response(await _body(request, done))

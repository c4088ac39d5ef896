"""``/api/v1/tutor``: tutoring Q&A — threads with the AI tutor, escalations to the teacher,
and the class switch ``/api/v1/classes/{class_id}/tutor`` (docs/tutor.md).

Who sees a thread: the student who asked (always); once it has been escalated, the
teacher of any class the student is in, and admins.  Anyone else gets 404
``thread_not_found``, as if it did not exist.  A thread that was never escalated stays
between the student and the tutor.

Asking (a new thread, or a question in one) is for the thread's student, when no class of
theirs has the tutor switched off (403 ``tutor_off``), within the daily question limit
(429 ``tutor_daily_limit``) and the thread's size (409 ``thread_full``); guests may ask
``tutor.guest_questions_per_day`` questions, answered by the offline tutor, and cannot
escalate (they have no teacher).  A teacher's (or admin's) message in an escalated thread
is their answer: it closes the open escalation and notifies the student.  Answering is
:mod:`server.tutor.service`; every write counts in the caller's ``tutor.write`` bucket
(``tutor.writes_per_account_per_minute``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.ai.types import TRAITS, Trait, TutorAnswer, TutorRequest
from server.api.caller import current_user
from server.classes import store as cstore
from server.errors import Conflict, Forbidden, NotFound
from server.http import ratelimit
from server.http.body import Fields, json_body
from server.http.middleware import client_ip, request_id
from server.http.openapi import BODY_STATUSES, Api, Schema, text_schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import ENGINES, METRICS, PG, REDIS, SETTINGS
from server.notifications import store as notes
from server.realtime.lifecycle import OFFLINE
from server.tutor import store as tstore
from server.tutor.guard import MAX_QUESTION_CHARS
from server.tutor.service import Answered, TutorService, resets_at

api = Api()

MAX_ANSWER_CHARS = 4000  # a teacher's answer
TITLE_CHARS = 80
PIECE_CHARS = 6000  # of each piece sent along with a question
QUEUE_LIMIT = 200
STAFF = ("teacher", "admin")
_TRAIT_NAMES = frozenset(t.value for t in Trait)
SAFETY_NO_TEACHER = (
    "It sounds like you might be going through something really hard, and I'm glad you "
    "said something. Please talk to a trusted adult today: a parent, a teacher or a school "
    "counsellor. If you are in danger right now, contact your local emergency number."
)


class _Holder:
    """The node's :class:`TutorService`, built on the first question (the engines and
    Redis exist only once the app has started)."""

    def __init__(self) -> None:
        self.service: TutorService | None = None


SERVICE = web.AppKey("tutor_service", _Holder)


def install(app: web.Application) -> None:
    app[SERVICE] = _Holder()


def service_of(app: web.Application) -> TutorService:
    holder = app[SERVICE]
    if holder.service is None:
        holder.service = TutorService(
            app[SETTINGS].tutor,
            app[ENGINES],
            app[OFFLINE],
            app[REDIS],
            app[METRICS],
            app[ratelimit.CLOCK].now,
        )
    return holder.service


# --- schemas ------------------------------------------------------------------------------

_NULL_STR: Schema = {"type": ["string", "null"]}
_PERSON: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "display_name"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "display_name": {"type": "string"},
    },
}
_FACTORS: Schema = {
    "type": "object",
    "description": "what the confidence label was computed from, each 0..1: support, "
    "relevance, clarity, completeness",
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
}
_ESCALATION: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "status", "reason", "created_at", "answered_at"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["open", "answered"]},
        "reason": {
            "type": "string",
            "enum": ["asked", "safety"],
            "description": "asked: the student pressed Ask my teacher; safety: the server "
            "saw a self-harm signal in a question",
        },
        "created_at": {"type": "string", "format": "date-time"},
        "answered_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_THREAD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "title",
        "match_id",
        "student",
        "messages",
        "created_at",
        "updated_at",
        "escalation",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "title": {"type": "string"},
        "match_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "the student's own piece the thread is about",
        },
        "student": _PERSON,
        "messages": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "escalation": {
            "oneOf": [_ESCALATION, {"type": "null"}],
            "description": "the open escalation, else the latest answered one, else null",
        },
    },
}
_MESSAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "seq",
        "author",
        "teacher",
        "text",
        "confidence",
        "factors",
        "engine",
        "cached",
        "notice",
        "declined",
        "ask_teacher",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "seq": {"type": "integer", "minimum": 1},
        "author": {"type": "string", "enum": ["student", "tutor", "teacher"]},
        "teacher": {
            "oneOf": [_PERSON, {"type": "null"}],
            "description": "who answered, on a teacher's message",
        },
        "text": {"type": "string"},
        "confidence": {"type": ["string", "null"], "enum": ["high", "medium", "low", None]},
        "factors": {"oneOf": [_FACTORS, {"type": "null"}]},
        "engine": {"type": ["string", "null"], "enum": ["claude", "offline", None]},
        "cached": {"type": "boolean", "description": "the answer came from the answer cache"},
        "notice": {
            "type": ["string", "null"],
            "enum": ["spend_cap", "ai_unavailable", None],
            "description": "spend_cap: the day's AI budget is spent, the offline tutor "
            "answered; ai_unavailable: the AI failed or was too slow, the offline tutor "
            "answered",
        },
        "declined": {"type": "boolean", "description": "the tutor declined the question"},
        "ask_teacher": {
            "type": "boolean",
            "description": "low confidence: offer Ask my teacher",
        },
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_THREAD_PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _THREAD},
        "next_cursor": _NULL_STR,
    },
}
_THREAD_MESSAGES: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["thread", "messages"],
    "properties": {"thread": _THREAD, "messages": {"type": "array", "items": _MESSAGE}},
}
_NEW_THREAD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["question"],
    "properties": {
        "question": text_schema(
            "the first question (not blank)", minLength=1, maxLength=MAX_QUESTION_CHARS
        ),
        "match_id": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "ask about your own piece of this match",
        },
    },
}
_NEW_MESSAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": text_schema(
            "the student's question (1-2000 characters) or a teacher's answer (1-4000)",
            minLength=1,
            maxLength=MAX_ANSWER_CHARS,
        )
    },
}
_ESCALATED: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["thread", "escalation", "teachers"],
    "properties": {
        "thread": _THREAD,
        "escalation": _ESCALATION,
        "teachers": {"type": "integer", "minimum": 1, "description": "teachers notified"},
    },
}
_QUEUE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    *_ESCALATION["required"],
                    "thread_id",
                    "thread_title",
                    "student",
                    "classes",
                    "question",
                ],
                "properties": {
                    **_ESCALATION["properties"],
                    "thread_id": {"type": "string", "format": "uuid"},
                    "thread_title": {"type": "string"},
                    "student": _PERSON,
                    "classes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["id", "name"],
                            "properties": {
                                "id": {"type": "string", "format": "uuid"},
                                "name": {"type": "string"},
                            },
                        },
                    },
                    "question": {"type": "string"},
                },
            },
        }
    },
}
_STATUS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "enabled",
        "off_reason",
        "guest",
        "has_teacher",
        "questions_per_day",
        "questions_today",
        "resets_at",
        "spend_capped",
    ],
    "properties": {
        "enabled": {"type": "boolean", "description": "you may ask the tutor now"},
        "off_reason": {
            "type": ["string", "null"],
            "enum": ["tutor_off", "guest_account", None],
            "description": "tutor_off: a teacher switched it off for your class; "
            "guest_account: guests have no questions (tutor.guest_questions_per_day = 0)",
        },
        "guest": {"type": "boolean"},
        "has_teacher": {"type": "boolean", "description": "Ask my teacher is possible"},
        "questions_per_day": {"type": "integer", "minimum": 0},
        "questions_today": {"type": "integer", "minimum": 0},
        "resets_at": {"type": "string", "format": "date-time"},
        "spend_capped": {
            "type": "boolean",
            "description": "today's AI budget is spent: the offline tutor answers",
        },
    },
}
_SWITCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["class_id", "enabled"],
    "properties": {
        "class_id": {"type": "string", "format": "uuid"},
        "enabled": {"type": "boolean"},
    },
}
_SWITCH_IN: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["enabled"],
    "properties": {"enabled": {"type": "boolean"}},
}
_NOT_FOUND = ("no such thread, or not one you may see (thread_not_found)", None)
_LIMITED = (
    "too many tutor writes (tutor.writes_per_account_per_minute), or today's questions "
    "are used up (tutor_daily_limit, details.resets_at); see Retry-After",
    None,
)
_OFF = ("the tutor is off for your class (tutor_off), or guest_account", None)
_UNAVAILABLE = ("neither AI engine could answer (tutor_unavailable); try again", None)


# --- helpers ------------------------------------------------------------------------------


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request, "tutor.write", caller.id, request.app[SETTINGS].tutor.writes_per_account_per_minute
    )


def _thread_id(request: web.Request) -> str:
    parsed = cstore.as_uuid(request.match_info["thread_id"])
    if parsed is None:
        raise NotFound("no such thread", code="thread_not_found")
    return str(parsed)


async def _may_see(request: web.Request, caller: accounts.User, t: tstore.Thread) -> bool:
    if t.user_id == caller.id:
        return True
    if t.escalation is None or caller.role not in STAFF:
        return False
    return caller.role == "admin" or await tstore.teaches(request.app[PG], caller.id, t.user_id)


async def _visible_thread(request: web.Request, caller: accounts.User) -> tstore.Thread:
    found = await tstore.thread(request.app[PG], _thread_id(request))
    if found is None or not await _may_see(request, caller, found):
        raise NotFound("no such thread", code="thread_not_found")
    return found


def _question(f: Fields, name: str) -> str | None:
    text = f.string(name, max_len=MAX_QUESTION_CHARS)
    if text is not None and not text.strip():
        f.problem(name, "must not be blank")
        return None
    return text


async def _may_ask(request: web.Request, caller: accounts.User) -> None:
    if caller.is_guest and request.app[SETTINGS].tutor.guest_questions_per_day == 0:
        raise Forbidden("sign up to ask the tutor", code="guest_account")
    if await tstore.tutor_off(request.app[PG], caller.id):
        raise Forbidden("your teacher has switched the tutor off for your class", code="tutor_off")


def _weakest(pieces: Sequence[tstore.Piece]) -> Trait | None:
    sums: dict[str, list[int]] = {}
    for p in pieces:
        for trait, value in p.traits.items():
            sums.setdefault(trait, []).append(value)
    known = [
        (sum(v) / len(v), TRAITS.index(Trait(t)), Trait(t))
        for t, v in sums.items()
        if t in _TRAIT_NAMES
    ]
    return min(known)[2] if known else None


def _trait(name: str) -> Trait | None:
    return Trait(name) if name in _TRAIT_NAMES else None


def _history(messages: Sequence[tstore.Message], turns: int) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for m in messages:
        if m.author == "student":
            question = m.text
        elif question is not None:
            pairs.append((question, m.text))
            question = None
    return tuple(pairs[-turns:]) if turns else ()


async def _request(
    request: web.Request,
    caller: accounts.User,
    question: str,
    match_id: str | None,
    earlier: Sequence[tstore.Message],
) -> tuple[TutorRequest, str]:
    """The engine's request (the piece or the recent pieces, the focus, the history) and
    the cache context it was built from."""
    pg, s = request.app[PG], request.app[SETTINGS].tutor
    history = _history(earlier, s.history_turns)
    if match_id is not None:
        piece = await tstore.own_piece(pg, caller.id, match_id)
        writing: tuple[str, ...] = () if piece is None else (piece.text[:PIECE_CHARS],)
        focus = None if piece is None else _trait(piece.focus)
        return TutorRequest(question, writing, focus, history), f"match:{match_id}"
    pieces = await tstore.recent_pieces(pg, caller.id, s.recent_pieces) if s.recent_pieces else []
    focus = _weakest(pieces)
    recent = tuple(p.text[:PIECE_CHARS] for p in pieces)
    return TutorRequest(question, recent, focus, history), f"focus:{focus or '-'}"


def _stored(answered: Answered, has_teacher: bool) -> tuple[str, tstore.Answer]:
    a: TutorAnswer = answered.answer
    text = a.answer
    if answered.safety and not has_teacher:
        text = SAFETY_NO_TEACHER
    return text, tstore.Answer(
        confidence=a.confidence,
        factors=dict(a.factors),
        engine=a.engine,
        cached=answered.cached,
        notice=answered.notice,
        declined=a.declined,
        ask_teacher=(a.escalate or a.confidence == "low") and not answered.safety,
    )


async def _ask(
    request: web.Request,
    caller: accounts.User,
    thread_id: str | None,
    question: str,
    match_id: str | None,
) -> dict[str, Any]:
    """Count, answer and store one question (in a new thread when ``thread_id`` is None)."""
    pg, redis = request.app[PG], request.app[REDIS]
    service = service_of(request.app)
    limit = request.app[SETTINGS].tutor.thread_messages
    earlier: list[tstore.Message] = []
    if thread_id is not None:
        earlier = await tstore.messages(pg, thread_id)
        if len(earlier) + 2 > limit:
            raise Conflict(
                f"a thread holds at most {limit} messages: start a new thread",
                code="thread_full",
                details={"limit": limit},
            )
    await service.count_question(caller.id, caller.is_guest)
    try:
        req, context = await _request(request, caller, question, match_id, earlier)
        answered = await service.answer(caller.id, req, context, guest=caller.is_guest)
    except BaseException:
        await service.uncount_question(caller.id)
        raise
    teachers = await tstore.teachers_of(pg, caller.id)
    text, stored = _stored(answered, bool(teachers))
    sent: list[notes.Notification] = []
    async with pg.acquire() as conn, conn.transaction():
        if thread_id is None:
            title = " ".join(question.split())
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1].rstrip() + "…"
            thread_id = await tstore.create_thread(conn, caller.id, title, match_id)
        elif await tstore.lock_thread(conn, thread_id) is None:
            raise NotFound("no such thread", code="thread_not_found")
        asked = await tstore.add_message(conn, thread_id, "student", question)
        said = await tstore.add_message(conn, thread_id, "tutor", text, answer=stored)
        if answered.safety and teachers:
            esc, made = await tstore.escalate(conn, thread_id, caller.id, "safety")
            if made:
                for teacher in teachers:
                    sent.append(
                        await notes.notify(
                            conn,
                            teacher,
                            "escalation_asked",
                            _asked_data(thread_id, esc, caller),
                        )
                    )
    await notes.publish(redis, sent)
    found = await tstore.thread(pg, thread_id)
    assert found is not None
    return {"thread": found.plain(), "messages": [asked.plain(), said.plain()]}


def _asked_data(thread_id: str, esc: tstore.Escalation, student: accounts.User) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "escalation_id": esc.id,
        "student": student.display_name,
        "reason": esc.reason,
    }


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- routes -------------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/tutor/status",
    summary="Whether you may ask the tutor now, your questions today and when they reset",
    tag="tutor",
    auth=True,
    responses={200: ("your tutor status", _STATUS)},
)
async def tutor_status(request: web.Request) -> web.Response:
    caller = await current_user(request)
    pg, s = request.app[PG], request.app[SETTINGS].tutor
    service = service_of(request.app)
    per_day = s.guest_questions_per_day if caller.is_guest else s.questions_per_day
    off = await tstore.tutor_off(pg, caller.id)
    reason = "tutor_off" if off else "guest_account" if per_day == 0 else None
    return web.json_response(
        {
            "enabled": reason is None,
            "off_reason": reason,
            "guest": caller.is_guest,
            "has_teacher": bool(await tstore.teachers_of(pg, caller.id)),
            "questions_per_day": per_day,
            "questions_today": min(per_day, await service.asked_today(caller.id)),
            "resets_at": _iso(resets_at(service.clock())),
            "spend_capped": await service.spend_capped(),
        }
    )


def _parse_cursor(parts: list[str]) -> tuple[datetime, str]:
    when, thread_id = parts
    return datetime.fromisoformat(when), str(uuid.UUID(thread_id))


@api.route(
    "GET",
    "/api/v1/tutor/threads",
    summary="Your tutor threads, the most recently active first (query: limit 1-50, cursor)",
    tag="tutor",
    auth=True,
    query={
        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
        "cursor": {"type": "string"},
    },
    responses={200: ("one page of your threads", _THREAD_PAGE), 422: ("bad limit or cursor", None)},
)
async def list_threads(request: web.Request) -> web.Response:
    caller = await current_user(request)
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    before = decode_cursor(cursor, _parse_cursor) if cursor else None
    rows = await tstore.threads_of(request.app[PG], caller.id, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(rows[-1].updated_at.astimezone(UTC).isoformat(), rows[-1].id)
        if more and rows
        else None
    )
    return web.json_response({"items": [t.plain() for t in rows], "next_cursor": next_cursor})


@api.route(
    "POST",
    "/api/v1/tutor/threads",
    summary="Ask the tutor a first question (optionally about your own piece: match_id)",
    tag="tutor",
    auth=True,
    request=_NEW_THREAD,
    responses={
        201: ("the new thread with the question and the tutor's answer", _THREAD_MESSAGES),
        403: _OFF,
        404: ("no piece of yours in that match (piece_not_found)", None),
        429: _LIMITED,
        503: _UNAVAILABLE,
        **BODY_STATUSES,
    },
)
async def create_thread(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    body = await json_body(request)
    f = Fields(body, {"question", "match_id"})
    question = _question(f, "question")
    raw_match = body.get("match_id")
    match_id: str | None = None
    if raw_match is not None:
        parsed = cstore.as_uuid(raw_match) if isinstance(raw_match, str) else None
        if parsed is None:
            f.problem("match_id", "must be the id (a uuid) of a match you played")
        else:
            match_id = str(parsed)
    f.done()
    assert question is not None
    await _may_ask(request, caller)
    if (
        match_id is not None
        and await tstore.own_piece(request.app[PG], caller.id, match_id) is None
    ):
        raise NotFound("you wrote no piece in that match", code="piece_not_found")
    body_out = await _ask(request, caller, None, question, match_id)
    return web.json_response(body_out, status=201)


@api.route(
    "GET",
    "/api/v1/tutor/threads/{thread_id}/messages",
    summary="A thread and all its messages, oldest first",
    tag="tutor",
    auth=True,
    responses={200: ("the thread and its messages", _THREAD_MESSAGES), 404: _NOT_FOUND},
)
async def thread_messages(request: web.Request) -> web.Response:
    caller = await current_user(request)
    t = await _visible_thread(request, caller)
    items = await tstore.messages(request.app[PG], t.id)
    return web.json_response({"thread": t.plain(), "messages": [m.plain() for m in items]})


@api.route(
    "POST",
    "/api/v1/tutor/threads/{thread_id}/messages",
    summary="The student: ask a question in the thread (answered by the tutor); the "
    "teacher or an admin of an escalated thread: answer it",
    tag="tutor",
    auth=True,
    request=_NEW_MESSAGE,
    responses={
        201: (
            "the thread and the new messages (question and answer, or the teacher's)",
            _THREAD_MESSAGES,
        ),
        403: _OFF,
        404: _NOT_FOUND,
        409: ("the thread is full (thread_full)", None),
        429: _LIMITED,
        503: _UNAVAILABLE,
        **BODY_STATUSES,
    },
)
async def post_message(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    body = await json_body(request)
    t = await _visible_thread(request, caller)
    f = Fields(body, {"text"})
    if t.user_id == caller.id:
        text = _question(f, "text")
        f.done()
        assert text is not None
        await _may_ask(request, caller)
        return web.json_response(await _ask(request, caller, t.id, text, t.match_id), status=201)
    text = f.string("text", max_len=MAX_ANSWER_CHARS)
    if text is not None and not text.strip():
        f.problem("text", "must not be blank")
    f.done()
    assert text is not None
    return web.json_response(await _teacher_answer(request, caller, t, text), status=201)


async def _teacher_answer(
    request: web.Request, caller: accounts.User, t: tstore.Thread, text: str
) -> dict[str, Any]:
    pg = request.app[PG]
    limit = request.app[SETTINGS].tutor.thread_messages
    async with pg.acquire() as conn, conn.transaction():
        count = await tstore.lock_thread(conn, t.id)
        if count is None:
            raise NotFound("no such thread", code="thread_not_found")
        if count + 1 > limit:
            raise Conflict(
                f"a thread holds at most {limit} messages",
                code="thread_full",
                details={"limit": limit},
            )
        said = await tstore.add_message(conn, t.id, "teacher", text, author_id=caller.id)
        closed = await tstore.answer_escalation(conn, t.id, caller.id)
        note = await notes.notify(
            conn,
            t.user_id,
            "escalation_answered",
            {
                "thread_id": t.id,
                "escalation_id": None if closed is None else closed.id,
                "teacher": caller.display_name,
            },
        )
        await accounts.audit(
            conn,
            "tutor.answer",
            actor_id=caller.id,
            target_type="tutor_thread",
            target_id=t.id,
            details={"student_id": t.user_id},
            request_id=request_id(request),
            ip=client_ip(request),
        )
    await notes.publish(request.app[REDIS], [note])
    found = await tstore.thread(pg, t.id)
    assert found is not None
    return {"thread": found.plain(), "messages": [said.plain()]}


@api.route(
    "POST",
    "/api/v1/tutor/threads/{thread_id}/escalate",
    summary="Ask my teacher: the thread goes to the teachers of your classes",
    tag="tutor",
    auth=True,
    responses={
        200: ("the escalation already open for this thread", _ESCALATED),
        201: ("the new escalation; your teachers were notified", _ESCALATED),
        403: ("not your thread (not_your_thread)", None),
        404: _NOT_FOUND,
        409: ("no teacher to ask (no_teacher): you are in no class", None),
        429: _LIMITED,
    },
)
async def escalate(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    t = await _visible_thread(request, caller)
    if t.user_id != caller.id:
        raise Forbidden("only the student who asked can ask their teacher", code="not_your_thread")
    pg = request.app[PG]
    teachers = await tstore.teachers_of(pg, caller.id)
    if not teachers:
        raise Conflict("you have no teacher to ask: join a class first", code="no_teacher")
    sent: list[notes.Notification] = []
    async with pg.acquire() as conn, conn.transaction():
        if await tstore.lock_thread(conn, t.id) is None:
            raise NotFound("no such thread", code="thread_not_found")
        esc, made = await tstore.escalate(conn, t.id, caller.id, "asked")
        if made:
            for teacher in teachers:
                sent.append(
                    await notes.notify(
                        conn, teacher, "escalation_asked", _asked_data(t.id, esc, caller)
                    )
                )
    await notes.publish(request.app[REDIS], sent)
    found = await tstore.thread(pg, t.id)
    assert found is not None
    body = {"thread": found.plain(), "escalation": esc.plain(), "teachers": len(teachers)}
    return web.json_response(body, status=201 if made else 200)


@api.route(
    "GET",
    "/api/v1/tutor/escalations",
    summary="Open escalations, oldest first: a teacher's from students of their classes, "
    "every one for an admin",
    tag="tutor",
    auth=True,
    responses={
        200: ("open escalations", _QUEUE),
        403: ("not a teacher (not_a_teacher)", None),
    },
)
async def escalations(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in STAFF:
        raise Forbidden("only teachers see escalations", code="not_a_teacher")
    items = await tstore.open_escalations(
        request.app[PG], None if caller.role == "admin" else caller.id, QUEUE_LIMIT
    )
    return web.json_response({"items": [i.plain() for i in items]})


# --- the class switch ---------------------------------------------------------------------


async def _class(request: web.Request, caller: accounts.User, *, manage: bool) -> cstore.ClassRow:
    parsed = cstore.as_uuid(request.match_info["class_id"])
    klass = None if parsed is None else await cstore.class_by_id(request.app[PG], parsed)
    if klass is not None:
        manages = caller.role == "admin" or (
            caller.role == "teacher" and klass.teacher_id == caller.id
        )
        if manages or (
            not manage and await cstore.is_member(request.app[PG], uuid.UUID(klass.id), caller.id)
        ):
            return klass
    raise NotFound("no such class", code="class_not_found")


@api.route(
    "GET",
    "/api/v1/classes/{class_id}/tutor",
    summary="Whether the tutor is on for a class (its teacher, an admin, or a student in it)",
    tag="tutor",
    auth=True,
    responses={
        200: ("the class's tutor switch", _SWITCH),
        404: ("no such class (class_not_found)", None),
    },
)
async def get_class_tutor(request: web.Request) -> web.Response:
    caller = await current_user(request)
    klass = await _class(request, caller, manage=False)
    enabled = await tstore.class_tutor(request.app[PG], uuid.UUID(klass.id))
    return web.json_response({"class_id": klass.id, "enabled": bool(enabled)})


@api.route(
    "PUT",
    "/api/v1/classes/{class_id}/tutor",
    summary="Switch the tutor on or off for a class (its teacher or an admin)",
    tag="tutor",
    auth=True,
    request=_SWITCH_IN,
    responses={
        200: ("the class's tutor switch as it is now", _SWITCH),
        404: ("no such class, or not yours (class_not_found)", None),
        429: _LIMITED,
        **BODY_STATUSES,
    },
)
async def put_class_tutor(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    body = await json_body(request)
    f = Fields(body, {"enabled"})
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        f.problem("enabled", "is required: true or false")
    f.done()
    assert isinstance(enabled, bool)
    klass = await _class(request, caller, manage=True)
    pg = request.app[PG]
    async with pg.acquire() as conn, conn.transaction():
        await tstore.set_class_tutor(conn, uuid.UUID(klass.id), enabled)
        await accounts.audit(
            conn,
            "class.tutor",
            actor_id=caller.id,
            target_type="class",
            target_id=klass.id,
            details={"enabled": enabled},
            request_id=request_id(request),
            ip=client_ip(request),
        )
    return web.json_response({"class_id": klass.id, "enabled": enabled})

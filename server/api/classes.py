"""``/api/v1/classes``: a teacher's classes and the student accounts they hold.

Who sees what (docs/classes.md): an admin every class; a teacher the classes they
created; a student the class they are in, without its roster.  Everything else answers
404 as if it did not exist (``class_not_found``, ``student_not_found``).  The caller's
role is read from the database on every request, not from the access token, so an
admin's promotion or demotion holds at once.

Students are created one at a time or from a CSV roster (:mod:`server.classes.roster`);
each gets a sign-in code (:mod:`server.classes.codes`) that is answered once, in the
answer that created or reset it, and stored only as an argon2id hash.  That answer's
``sheet`` can be sent to ``POST …/roster.html`` for the printable cards.

Every change is written to the audit log (``class.*``, ``user.role``) and counted in the
caller's ``classes.write`` rate-limit bucket (``limits.class_writes_per_account_per_minute``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.accounts import store as accounts
from server.accounts.names import handle_problem
from server.api.audit import audit_user
from server.api.caller import current_user
from server.api.session import revoke_user
from server.classes import codes, roster, sheet
from server.classes import store as cstore
from server.classes.codehash import hash_code, hash_codes
from server.errors import BadRequest, Conflict, Forbidden, NotFound
from server.http import ratelimit
from server.http.body import Fields, ValidationFailed, json_body, read_body
from server.http.middleware import client_ip, request_id
from server.http.openapi import Api, Schema, text_schema
from server.http.state import PG, REDIS, SETTINGS
from server.notifications import store as notes

api = Api()

ADMIN_LIST_LIMIT = 500
MANAGERS = ("teacher", "admin")
ASSIGNABLE_ROLES = ("player", "teacher")  # admins are made by an operator (docs/classes.md)

_CODE_PATTERN = "^[2-9A-HJKMNP-Za-hjkmnp-z -]{8,24}$"
_CLASS: Schema = {
    "type": "object",
    "required": [
        "id",
        "name",
        "grade_level",
        "code",
        "teacher",
        "students_may_set_password",
        "student_count",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "grade_level": {"type": "integer", "minimum": 0, "maximum": 13},
        "code": {"type": "string", "description": "the class code, e.g. K7M-QXP"},
        "teacher": {
            "type": "object",
            "required": ["id", "display_name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "display_name": {"type": "string"},
            },
        },
        "students_may_set_password": {"type": "boolean"},
        "student_count": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
_STUDENT: Schema = {
    "type": "object",
    "required": [
        "id",
        "username",
        "name",
        "created_at",
        "code_issued_at",
        "last_sign_in_at",
        "has_code",
        "has_password",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "username": {"type": "string"},
        "name": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "code_issued_at": {"type": "string", "format": "date-time"},
        "last_sign_in_at": {"type": ["string", "null"], "format": "date-time"},
        "has_code": {"type": "boolean", "description": "false once the student chose a password"},
        "has_password": {"type": "boolean"},
    },
}
_SHEET: Schema = {
    "type": "object",
    "required": ["codes"],
    "description": "send this object as it is to POST …/roster.html for the printable cards",
    "properties": {
        "codes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["student_id", "code"],
                "properties": {
                    "student_id": {"type": "string", "format": "uuid"},
                    "code": {"type": "string"},
                },
            },
        }
    },
}
_WITH_CODE: Schema = {
    "type": "object",
    "required": ["student", "code", "sheet"],
    "properties": {
        "student": _STUDENT,
        "code": {"type": "string", "description": "the sign-in code, shown this once"},
        "sheet": _SHEET,
    },
}
_REJECTED: Schema = {
    "type": "object",
    "required": ["line", "text", "reason", "message"],
    "properties": {
        "line": {"type": "integer"},
        "text": {"type": "string"},
        "reason": {"type": "string", "enum": [str(r) for r in roster.Reason]},
        "message": {"type": "string"},
    },
}
_REPORT: Schema = {
    "type": "object",
    "required": ["dry_run", "students", "rejected", "sheet"],
    "properties": {
        "dry_run": {"type": "boolean"},
        "students": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "name", "username", "generated_username", "id", "code"],
                "properties": {
                    "line": {"type": "integer"},
                    "name": {"type": "string"},
                    "username": {"type": "string"},
                    "generated_username": {"type": "boolean"},
                    "id": {"type": ["string", "null"], "format": "uuid"},
                    "code": {"type": ["string", "null"]},
                },
            },
        },
        "rejected": {"type": "array", "items": _REJECTED},
        "sheet": _SHEET,
    },
}
_NAME: Schema = text_schema(
    "the student's name as the class knows it (their display name): 2–32 letters, "
    "digits, spaces and - _ . ', at least one letter; not on the blocklist",
    minLength=1,
    maxLength=256,
)
_USERNAME: Schema = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{2,23}$",
    "description": "the handle to sign in with: 3–24 letters, digits, '_', '.' or '-'; "
    "unique; default: made from the name (maria.l, maria.l2…)",
}
_CLASS_NAME: Schema = text_schema("1–60 characters, one line", minLength=1, maxLength=256)
_GRADE: Schema = {
    "type": "integer",
    "minimum": 0,
    "maximum": 13,
    "description": "0 kindergarten, 1–12 school years, 13 a last year where there is one",
}
_NEW_CLASS: Schema = {
    "type": "object",
    "required": ["name", "grade_level"],
    "additionalProperties": False,
    "properties": {
        "name": _CLASS_NAME,
        "grade_level": _GRADE,
        "students_may_set_password": {"type": "boolean", "default": False},
    },
}
_CLASS_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _CLASS_NAME,
        "grade_level": _GRADE,
        "students_may_set_password": {"type": "boolean"},
    },
}
_NEW_STUDENT: Schema = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": _NAME, "username": _USERNAME},
}
_STUDENT_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": _NAME, "username": {**_USERNAME, "description": "a new username"}},
}
_IMPORT: Schema = {
    "type": "object",
    "required": ["csv"],
    "additionalProperties": False,
    "description": "or send the file itself as text/csv (UTF-8; ?dry_run=true for a dry run)",
    "properties": {
        "csv": {
            "type": "string",
            "description": "one student a line: name, or name,username (see docs/classes.md)",
        },
        "dry_run": {"type": "boolean", "default": False},
    },
}
_SHEET_BODY: Schema = {
    "type": "object",
    "required": ["codes"],
    "additionalProperties": False,
    "properties": {
        "codes": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["student_id", "code"],
                "additionalProperties": False,
                "properties": {
                    "student_id": {"type": "string", "format": "uuid"},
                    "code": {"type": "string", "pattern": _CODE_PATTERN},
                },
            },
        }
    },
}
_ROLE: Schema = {
    "type": "object",
    "required": ["role"],
    "additionalProperties": False,
    "properties": {"role": {"type": "string", "enum": list(ASSIGNABLE_ROLES)}},
}
_ROLE_SET: Schema = {
    "type": "object",
    "required": ["user_id", "role", "previous_role"],
    "properties": {
        "user_id": {"type": "string", "format": "uuid"},
        "role": {"type": "string", "enum": list(ASSIGNABLE_ROLES)},
        "previous_role": {"type": "string"},
    },
}
_NOT_FOUND = ("no such class among those you may see", None)
_STUDENT_NOT_FOUND = ("no such class, or no such student in it", None)
_WRITE_LIMITED = ("rate limited (classes.write or the per-address limit); see Retry-After", None)
_HTML: Schema = {"type": "string"}


# --- who is asking, and what they may see ---------------------------------------------


def _manages(caller: accounts.User, klass: cstore.ClassRow) -> bool:
    return caller.role == "admin" or (caller.role == "teacher" and klass.teacher_id == caller.id)


def _class_id(request: web.Request) -> uuid.UUID:
    raw = request.match_info["class_id"]
    parsed = cstore.as_uuid(raw)
    if parsed is None:
        raise NotFound("no such class", code="class_not_found")
    return parsed


async def _managed_class(request: web.Request, caller: accounts.User) -> cstore.ClassRow:
    """The class in the path, if the caller manages it; 404 otherwise."""
    klass = await cstore.class_by_id(request.app[PG], _class_id(request))
    if klass is None or not _manages(caller, klass):
        raise NotFound("no such class", code="class_not_found")
    return klass


async def _student(request: web.Request, klass: cstore.ClassRow) -> cstore.StudentRow:
    raw = request.match_info["student_id"]
    sid = cstore.as_uuid(raw)
    found = (
        None
        if sid is None
        else await cstore.student_in_class(request.app[PG], uuid.UUID(klass.id), sid)
    )
    if found is None:
        raise NotFound("no such student in this class", code="student_not_found")
    return found


async def _write_limit(request: web.Request, caller: accounts.User) -> None:
    await ratelimit.per_account(
        request,
        "classes.write",
        caller.id,
        request.app[SETTINGS].limits.class_writes_per_account_per_minute,
    )


async def _audit(
    db: cstore.Db,
    request: web.Request,
    action: str,
    actor: accounts.User,
    klass: cstore.ClassRow | str,
    **details: Any,
) -> None:
    await accounts.audit(
        db,
        action,
        actor_id=actor.id,
        target_type="class",
        target_id=klass if isinstance(klass, str) else klass.id,
        details=details,
        request_id=request_id(request),
        ip=client_ip(request),
    )


# --- reading fields -------------------------------------------------------------------


def _integer(f: Fields, name: str, lo: int, hi: int, *, required: bool) -> int | None:
    value = f.body.get(name)
    if value is None:
        if required:
            f.problem(name, "is required")
        return None
    if type(value) is not int or not lo <= value <= hi:
        f.problem(name, f"must be an integer from {lo} to {hi}")
        return None
    return value


def _boolean(f: Fields, name: str) -> bool | None:
    value = f.body.get(name)
    if value is not None and not isinstance(value, bool):
        f.problem(name, "must be true or false")
        return None
    return value


def _class_name(f: Fields, *, required: bool) -> str | None:
    raw = f.string("name", required=required, max_len=256)
    if raw is None:
        return None
    name = roster.clean_class_name(raw)
    if problem := roster.class_name_problem(name):
        f.problem("name", problem)
        return None
    return name


def _student_name(f: Fields, *, required: bool) -> str | None:
    raw = f.string("name", required=required, max_len=256)
    if raw is None:
        return None
    name = roster.clean_name(raw)
    if found := roster.name_problem(name):
        f.problem("name", found[1])
        return None
    return name


def _username(f: Fields) -> str | None:
    username = f.string("username", required=False, max_len=64)
    if username is not None and (problem := handle_problem(username)):
        f.problem("username", problem)
        return None
    return username


def _taken(username: str) -> Conflict:
    return Conflict(
        f"the username {username!r} is taken",
        code="handle_taken",
        details={"fields": {"username": "is taken"}},
    )


def _sheet(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"codes": [{"student_id": sid, "code": codes.show(code)} for sid, code in pairs]}


# --- classes --------------------------------------------------------------------------


@api.route(
    "POST",
    "/api/v1/classes",
    summary="Create a class (teachers and admins); it gets a class code",
    tag="classes",
    auth=True,
    request=_NEW_CLASS,
    responses={
        201: ("the new class", _CLASS),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
        409: ("the teacher has limits.classes_per_teacher classes (too_many_classes)", None),
        429: _WRITE_LIMITED,
    },
)
async def create_class(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in MANAGERS:
        raise Forbidden("only teachers and admins create classes", code="not_a_teacher")
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"name", "grade_level", "students_may_set_password"})
    name = _class_name(f, required=True)
    grade = _integer(f, "grade_level", roster.GRADE_MIN, roster.GRADE_MAX, required=True)
    may_set = _boolean(f, "students_may_set_password")
    f.done()
    assert name is not None and grade is not None
    pg, limit = request.app[PG], request.app[SETTINGS].limits.classes_per_teacher
    if await cstore.count_classes(pg, caller.id) >= limit:
        raise Conflict(
            f"a teacher may have at most {limit} classes",
            code="too_many_classes",
            details={"limit": limit},
        )
    klass = await cstore.create_class(
        pg,
        teacher_id=caller.id,
        name=name,
        grade_level=grade,
        students_may_set_password=bool(may_set),
    )
    await _audit(pg, request, "class.create", caller, klass, name=name, grade_level=grade)
    return web.json_response(klass.public(), status=201)


@api.route(
    "GET",
    "/api/v1/classes",
    summary="The classes you may see: a teacher's own, a student's, every one for an admin "
    "(admins: query teacher_id)",
    tag="classes",
    auth=True,
    responses={
        200: (
            "classes, newest first",
            {
                "type": "object",
                "required": ["items"],
                "properties": {"items": {"type": "array", "items": _CLASS}},
            },
        ),
        422: ("teacher_id is not a uuid", None),
    },
)
async def list_classes(request: web.Request) -> web.Response:
    caller = await current_user(request)
    pg = request.app[PG]
    teacher = request.query.get("teacher_id")
    if teacher is not None and cstore.as_uuid(teacher) is None:
        raise ValidationFailed(
            "teacher_id must be a uuid", details={"fields": {"teacher_id": "must be a uuid"}}
        )
    if caller.role == "admin":
        teacher_id = None if teacher is None else str(cstore.as_uuid(teacher))
        items = await cstore.list_classes(
            pg, teacher_id=teacher_id, member_id=None, limit=ADMIN_LIST_LIMIT
        )
    elif caller.role == "teacher":
        items = await cstore.list_classes(
            pg,
            teacher_id=caller.id,
            member_id=None,
            limit=request.app[SETTINGS].limits.classes_per_teacher,
        )
    else:
        items = await cstore.list_classes(pg, teacher_id=None, member_id=caller.id, limit=50)
    return web.json_response({"items": [k.public() for k in items]})


@api.route(
    "GET",
    "/api/v1/classes/{class_id}",
    summary="One class (its teacher, an admin, or a student in it)",
    tag="classes",
    auth=True,
    responses={200: ("the class", _CLASS), 404: _NOT_FOUND},
)
async def get_class(request: web.Request) -> web.Response:
    caller = await current_user(request)
    pg = request.app[PG]
    klass = await cstore.class_by_id(pg, _class_id(request))
    if klass is None or not (
        _manages(caller, klass) or await cstore.is_member(pg, uuid.UUID(klass.id), caller.id)
    ):
        raise NotFound("no such class", code="class_not_found")
    return web.json_response(klass.public())


@api.route(
    "PATCH",
    "/api/v1/classes/{class_id}",
    summary="Rename a class, change its grade level or whether students may set a password",
    tag="classes",
    auth=True,
    request=_CLASS_PATCH,
    responses={200: ("the class as it is now", _CLASS), 404: _NOT_FOUND, 429: _WRITE_LIMITED},
)
async def update_class(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"name", "grade_level", "students_may_set_password"})
    name = _class_name(f, required=False)
    grade = _integer(f, "grade_level", roster.GRADE_MIN, roster.GRADE_MAX, required=False)
    may_set = _boolean(f, "students_may_set_password")
    f.done()
    klass = await _managed_class(request, caller)
    pg = request.app[PG]
    class_id = uuid.UUID(klass.id)
    await cstore.update_class(
        pg, class_id, name=name, grade_level=grade, students_may_set_password=may_set
    )
    changed = {
        k: v
        for k, v in (
            ("name", name),
            ("grade_level", grade),
            ("students_may_set_password", may_set),
        )
        if v is not None
    }
    await _audit(pg, request, "class.update", caller, klass, **changed)
    now = await cstore.class_by_id(pg, class_id)
    assert now is not None
    return web.json_response(now.public())


# --- students -------------------------------------------------------------------------


@api.route(
    "GET",
    "/api/v1/classes/{class_id}/students",
    summary="The roster: every student of the class (codes are never shown again)",
    tag="classes",
    auth=True,
    responses={
        200: (
            "the class and its students, by name",
            {
                "type": "object",
                "required": ["class", "students"],
                "properties": {"class": _CLASS, "students": {"type": "array", "items": _STUDENT}},
            },
        ),
        404: _NOT_FOUND,
    },
)
async def list_students(request: web.Request) -> web.Response:
    caller = await current_user(request)
    klass = await _managed_class(request, caller)
    students = await cstore.students_of(request.app[PG], uuid.UUID(klass.id))
    return web.json_response({"class": klass.public(), "students": [s.public() for s in students]})


def _class_full(limit: int) -> Conflict:
    return Conflict(
        f"the class has {limit} students, the most it may",
        code="class_full",
        details={"limit": limit},
    )


@api.route(
    "POST",
    "/api/v1/classes/{class_id}/students",
    summary="Create a student account (no e-mail): the answer holds its sign-in code, once",
    tag="classes",
    auth=True,
    request=_NEW_STUDENT,
    responses={
        201: ("the student, its sign-in code and the sheet to print it", _WITH_CODE),
        404: _NOT_FOUND,
        409: ("the username is taken (handle_taken), or the class is full (class_full)", None),
        429: _WRITE_LIMITED,
    },
)
async def create_student(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"name", "username"})
    name = _student_name(f, required=True)
    username = _username(f)
    f.done()
    assert name is not None
    klass = await _managed_class(request, caller)
    pg, limit = request.app[PG], request.app[SETTINGS].limits.class_students
    class_id = uuid.UUID(klass.id)
    if username is None:
        base = roster.username_base(name)
        taken = await cstore.taken_handles(
            pg, [], [roster.like_prefix(base), roster.like_prefix(roster.FALLBACK_USERNAME)]
        )
        username = roster.choose_username(name, taken)
    code = codes.new_code()
    digest = await hash_code(code)
    async with pg.acquire() as conn, conn.transaction():
        if await cstore.lock_class(conn, class_id) >= limit:
            raise _class_full(limit)
        student = await cstore.insert_student(
            conn, class_id, name=name, username=username, code_hash=digest, created_by=caller.id
        )
        if student is None:
            raise _taken(username)
        await _audit(conn, request, "class.student.create", caller, klass, student_id=student.id)
    body = {
        "student": student.public(),
        "code": codes.show(code),
        "sheet": _sheet([(student.id, code)]),
    }
    return web.json_response(body, status=201)


async def _import_source(request: web.Request) -> tuple[str | bytes, bool]:
    """The roster file and whether this is a dry run, from JSON or a text/csv body."""
    if request.content_type == "text/csv":
        if not request.body_exists:
            raise BadRequest("this route needs a body", code="missing_body")
        dry = request.query.get("dry_run", "false").lower() in ("true", "1", "yes")
        return await read_body(request), dry
    f = Fields(await json_body(request), {"csv", "dry_run"})
    text = f.string("csv", max_len=request.app[SETTINGS].limits.max_body_bytes)
    dry_run = _boolean(f, "dry_run")
    f.done()
    assert text is not None
    return text, bool(dry_run)


@api.route(
    "POST",
    "/api/v1/classes/{class_id}/students/import",
    summary="Import students from a CSV roster (name, or name,username a line); the answer "
    "holds their sign-in codes, once, and a report of the lines not imported",
    tag="classes",
    auth=True,
    request=_IMPORT,
    responses={
        200: ("what was created (or would be, in a dry run) and what was not, with why", _REPORT),
        404: _NOT_FOUND,
        422: ("the file has more than limits.roster_import_lines lines, or a bad field", None),
        429: _WRITE_LIMITED,
    },
)
async def import_students(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    data, dry_run = await _import_source(request)
    limits = request.app[SETTINGS].limits
    try:
        entries, rejected = roster.parse(data, max_lines=limits.roster_import_lines)
    except roster.TooManyLines as exc:
        raise ValidationFailed(f"csv {exc}", details={"fields": {"csv": str(exc)}}) from None
    klass = await _managed_class(request, caller)
    pg, class_id = request.app[PG], uuid.UUID(klass.id)
    bases = {roster.username_base(e.name) for e in entries if e.username is None}
    prefixes = sorted(roster.like_prefix(b) for b in {*bases, roster.FALLBACK_USERNAME})
    explicit = [e.username for e in entries if e.username is not None]
    taken = await cstore.taken_handles(pg, explicit, prefixes if bases else [])
    in_class = await cstore.names_in_class(pg, class_id)
    room = max(0, limits.class_students - klass.student_count)
    planned = roster.plan(entries, in_class=in_class, taken=taken, room=room)
    rejected = [*rejected, *planned.rejected]
    made: list[dict[str, Any]] = []
    pairs: list[tuple[str, str]] = []
    if dry_run:
        made = [
            {
                "line": s.line,
                "name": s.name,
                "username": s.username,
                "generated_username": s.generated,
                "id": None,
                "code": None,
            }
            for s in planned.accepted
        ]
    elif planned.accepted:
        new_codes = [codes.new_code() for _ in planned.accepted]
        digests = await hash_codes(new_codes)
        async with pg.acquire() as conn, conn.transaction():
            present = await cstore.lock_class(conn, class_id)
            for new, code, digest in zip(planned.accepted, new_codes, digests, strict=True):
                line = f"{new.name},{new.username}" if not new.generated else new.name
                if present >= limits.class_students:
                    rejected.append(
                        roster.Rejected(
                            new.line, line, roster.Reason.CLASS_FULL, "the class is full"
                        )
                    )
                    continue
                student = await cstore.insert_student(
                    conn,
                    class_id,
                    name=new.name,
                    username=new.username,
                    code_hash=digest,
                    created_by=caller.id,
                )
                if student is None:
                    rejected.append(
                        roster.Rejected(
                            new.line,
                            line,
                            roster.Reason.USERNAME_TAKEN,
                            f"the username {new.username!r} was taken meanwhile; import the "
                            "line again",
                        )
                    )
                    continue
                present += 1
                pairs.append((student.id, code))
                made.append(
                    {
                        "line": new.line,
                        "name": student.name,
                        "username": student.username,
                        "generated_username": new.generated,
                        "id": student.id,
                        "code": codes.show(code),
                    }
                )
    if not dry_run:
        await _audit(
            pg,
            request,
            "class.student.import",
            caller,
            klass,
            created=len(made),
            rejected=len(rejected),
            student_ids=[m["id"] for m in made],
        )
    rejected.sort(key=lambda r: r.line)
    return web.json_response(
        {
            "dry_run": dry_run,
            "students": made,
            "rejected": [r.public() for r in rejected],
            "sheet": _sheet(pairs),
        }
    )


@api.route(
    "PATCH",
    "/api/v1/classes/{class_id}/students/{student_id}",
    summary="Rename a student (name and/or username)",
    tag="classes",
    auth=True,
    request=_STUDENT_PATCH,
    responses={
        200: ("the student as it is now", _STUDENT),
        404: _STUDENT_NOT_FOUND,
        409: ("the username is taken (handle_taken)", None),
        429: _WRITE_LIMITED,
    },
)
async def rename_student(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"name", "username"})
    name = _student_name(f, required=False)
    username = _username(f)
    f.done()
    klass = await _managed_class(request, caller)
    student = await _student(request, klass)
    pg = request.app[PG]
    sid = uuid.UUID(student.id)
    if not await cstore.rename_student(pg, sid, name=name, username=username):
        raise _taken(username or "")
    await _audit(
        pg,
        request,
        "class.student.rename",
        caller,
        klass,
        student_id=student.id,
        **({"name": name} if name is not None else {}),
        **({"username": username} if username is not None else {}),
    )
    now = await cstore.student_in_class(pg, uuid.UUID(klass.id), sid)
    assert now is not None
    return web.json_response(now.public())


@api.route(
    "DELETE",
    "/api/v1/classes/{class_id}/students/{student_id}",
    summary="Remove a student: the account and its personal data are deleted, its sessions end",
    tag="classes",
    auth=True,
    responses={204: ("removed", None), 404: _STUDENT_NOT_FOUND, 429: _WRITE_LIMITED},
)
async def remove_student(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    klass = await _managed_class(request, caller)
    student = await _student(request, klass)
    async with request.app[PG].acquire() as conn, conn.transaction():
        matches = await cstore.remove_student(conn, uuid.UUID(student.id))
        if matches is None:
            raise NotFound("no such student in this class", code="student_not_found")
        await _audit(
            conn,
            request,
            "class.student.remove",
            caller,
            klass,
            student_id=student.id,
            matches=matches,
        )
        await revoke_user(request.app, student.id, "deleted")  # in the transaction, as delete_me
    return web.Response(status=204)


@api.route(
    "POST",
    "/api/v1/classes/{class_id}/students/{student_id}/code",
    summary="Reset a student's sign-in code: a new one (answered once), the old one and "
    "any password the student chose stop working, the student's sessions end",
    tag="classes",
    auth=True,
    responses={
        200: ("the student, the new code and the sheet to print it", _WITH_CODE),
        404: _STUDENT_NOT_FOUND,
        429: _WRITE_LIMITED,
    },
)
async def reset_code(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    klass = await _managed_class(request, caller)
    student = await _student(request, klass)
    code = codes.new_code()
    digest = await hash_code(code)
    pg = request.app[PG]
    sid = uuid.UUID(student.id)
    await cstore.set_code(pg, sid, digest)
    await revoke_user(request.app, student.id, "code_reset")
    await _audit(pg, request, "class.student.reset_code", caller, klass, student_id=student.id)
    now = await cstore.student_in_class(pg, uuid.UUID(klass.id), sid)
    assert now is not None
    body = {"student": now.public(), "code": codes.show(code), "sheet": _sheet([(now.id, code)])}
    return web.json_response(body)


# --- the printable sheet ----------------------------------------------------------------


def _sheet_page(
    request: web.Request, klass: cstore.ClassRow, cards: list[sheet.Card]
) -> web.Response:
    public = request.app[SETTINGS].server.public_url
    where = public.rstrip("/") if public else f"{request.scheme}://{request.host}"
    page = sheet.render(
        sheet.SheetClass(klass.name, klass.grade_level, klass.code, klass.teacher_name),
        cards,
        sign_in_at=where,
        made_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": sheet.CSP, "Referrer-Policy": "no-referrer"},
    )


@api.route(
    "GET",
    "/api/v1/classes/{class_id}/roster.html",
    summary="The printable roster: a card per student with a box to write a code in",
    tag="classes",
    auth=True,
    produces="text/html",
    responses={200: ("an HTML page to print", _HTML), 404: _NOT_FOUND},
)
async def roster_page(request: web.Request) -> web.Response:
    caller = await current_user(request)
    klass = await _managed_class(request, caller)
    students = await cstore.students_of(request.app[PG], uuid.UUID(klass.id))
    return _sheet_page(request, klass, [sheet.Card(s.name, s.username, None) for s in students])


@api.route(
    "POST",
    "/api/v1/classes/{class_id}/roster.html",
    summary="The printable sign-in cards for codes just created or reset: send the answer's sheet",
    tag="classes",
    auth=True,
    request=_SHEET_BODY,
    produces="text/html",
    responses={200: ("an HTML page to print", _HTML), 404: _NOT_FOUND},
)
async def roster_sheet(request: web.Request) -> web.Response:
    caller = await current_user(request)
    body = await json_body(request)
    f = Fields(body, {"codes"})
    items = body.get("codes")
    limit = request.app[SETTINGS].limits.class_students
    wanted: list[tuple[uuid.UUID, str]] = []
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        f.problem("codes", f"must be a list of 1 to {limit} {{student_id, code}} objects")
    else:
        for i, item in enumerate(items):
            where = f"codes[{i}]"
            if not isinstance(item, dict) or set(item) != {"student_id", "code"}:
                f.problem(where, "must be an object with student_id and code only")
                continue
            sid, code = item["student_id"], item["code"]
            parsed = cstore.as_uuid(sid) if isinstance(sid, str) else None
            if parsed is None:
                f.problem(f"{where}.student_id", "must be a uuid")
            elif not isinstance(code, str) or len(code) > 24:
                f.problem(f"{where}.code", "must be a sign-in code")
            elif problem := codes.code_problem(code):
                f.problem(f"{where}.code", problem)
            elif any(parsed == w for w, _ in wanted):
                f.problem(f"{where}.student_id", "is on the list twice")
            else:
                wanted.append((parsed, codes.normalize(code)))
    f.done()
    klass = await _managed_class(request, caller)
    by_id = {
        uuid.UUID(s.id): s for s in await cstore.students_of(request.app[PG], uuid.UUID(klass.id))
    }
    unknown = {
        f"codes[{i}].student_id": "is not a student of this class"
        for i, (sid, _) in enumerate(wanted)
        if sid not in by_id
    }
    if unknown:
        raise ValidationFailed(
            f"{next(iter(unknown))} is not a student of this class", details={"fields": unknown}
        )
    cards = [sheet.Card(by_id[sid].name, by_id[sid].username, code) for sid, code in wanted]
    cards.sort(key=lambda c: (c.name.casefold(), c.username.lower()))
    return _sheet_page(request, klass, cards)


# --- teachers -------------------------------------------------------------------------


@api.route(
    "POST",
    "/api/v1/admin/users/{user_id}/role",
    summary="Make an account a teacher, or a player again (admins)",
    tag="admin",
    auth=True,
    request=_ROLE,
    responses={
        200: ("the role is set (at once for the class routes, in tokens at refresh)", _ROLE_SET),
        403: ("not an admin", None),
        404: ("no such account (user_not_found)", None),
        409: (
            "an admin's role, a student account, or a teacher who still has classes "
            "(role_locked, teacher_has_classes)",
            None,
        ),
    },
)
async def set_role(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role != "admin":
        raise Forbidden("only an admin may change roles")
    f = Fields(await json_body(request), {"role"})
    role = f.string("role", max_len=32)
    if role is not None and role not in ASSIGNABLE_ROLES:
        f.problem("role", f"must be one of {', '.join(ASSIGNABLE_ROLES)}")
    f.done()
    assert role is not None
    raw = request.match_info["user_id"]
    target = cstore.as_uuid(raw)
    pg = request.app[PG]
    user = None if target is None else await accounts.user_by_id(pg, str(target))
    if target is None or user is None:
        raise NotFound(f"no account {raw!r}", code="user_not_found")
    if user.role == "admin":
        raise Conflict("an admin's role is changed by an operator", code="role_locked")
    if user.is_guest or await cstore.managing_class(pg, user.id) is not None:
        raise Conflict("guests and student accounts cannot be teachers", code="role_locked")
    if role != "teacher" and user.role == "teacher" and await cstore.count_classes(pg, user.id):
        raise Conflict(
            "this teacher still has classes; an admin manages them meanwhile, but a teacher "
            "with classes stays a teacher",
            code="teacher_has_classes",
        )
    previous = await cstore.set_role(pg, target, role)
    if previous is None:
        raise NotFound(f"no account {raw!r}", code="user_not_found")
    await audit_user(pg, request, "user.role", caller.id, user.id, role=role, previous=previous)
    return web.json_response({"user_id": user.id, "role": role, "previous_role": previous})


# --- a teacher's message to the class --------------------------------------------------

_MESSAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": text_schema("the message, 1–500 characters", minLength=1, maxLength=500)
    },
}
_SENT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sent"],
    "properties": {"sent": {"type": "integer", "minimum": 0, "description": "students told"}},
}


@api.route(
    "POST",
    "/api/v1/classes/{class_id}/messages",
    summary="Send the class's students a message (a teacher_message notification each)",
    tag="classes",
    auth=True,
    request=_MESSAGE,
    responses={
        201: ("sent to every student of the class, pushed to those connected", _SENT),
        403: ("a bot token", None),
        404: _NOT_FOUND,
        429: ("too many class changes a minute (bucket classes.write)", None),
    },
)
async def message_class(request: web.Request) -> web.Response:
    caller = await current_user(request)
    await _write_limit(request, caller)
    f = Fields(await json_body(request), {"text"})
    text = f.string("text", max_len=500)
    if text is not None and not text.strip():
        f.problem("text", "must not be blank")
    f.done()
    assert text is not None
    klass = await _managed_class(request, caller)
    pg = request.app[PG]
    data = {"text": text.strip(), "class_id": klass.id, "class_name": klass.name}
    async with pg.acquire() as conn, conn.transaction():
        members = await conn.fetch(
            "SELECT cm.user_id FROM class_members cm JOIN users u ON u.id = cm.user_id "
            "WHERE cm.class_id = $1 AND u.deleted_at IS NULL AND u.disabled_at IS NULL",
            uuid.UUID(klass.id),
        )
        sent = [
            await notes.notify(conn, str(m["user_id"]), "teacher_message", data) for m in members
        ]
        await _audit(conn, request, "class.message", caller, klass, students=len(sent))
    await notes.publish(request.app[REDIS], sent)
    return web.json_response({"sent": len(sent)}, status=201)

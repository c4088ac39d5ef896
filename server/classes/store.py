"""SQL for classes, their members and the student accounts they manage (asyncpg).

A student account is a ``users`` row (role ``player``, ``is_student``, the username as
its handle, no password unless the student chose one) plus a ``class_members`` row and
a ``students`` row holding the sign-in code's hash.  Lookups find live accounts only
(neither deleted nor disabled), like :mod:`server.accounts.store`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from server.accounts import store as accounts
from server.classes.codes import new_class_code, show

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
_LIVE = "u.deleted_at IS NULL AND u.disabled_at IS NULL"


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()


@dataclass(frozen=True, slots=True)
class ClassRow:
    id: str
    teacher_id: str
    teacher_name: str
    name: str
    grade_level: int
    code: str
    students_may_set_password: bool
    student_count: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ClassRow:
        return cls(
            id=str(row["id"]),
            teacher_id=str(row["teacher_id"]),
            teacher_name=row["teacher_name"],
            name=row["name"],
            grade_level=row["grade_level"],
            code=row["code"],
            students_may_set_password=row["students_may_set_password"],
            student_count=row["student_count"],
            created_at=row["created_at"],
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "grade_level": self.grade_level,
            "code": show(self.code),
            "teacher": {"id": self.teacher_id, "display_name": self.teacher_name},
            "students_may_set_password": self.students_may_set_password,
            "student_count": self.student_count,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class StudentRow:
    id: str
    username: str
    name: str
    created_at: datetime
    code_issued_at: datetime
    last_sign_in_at: datetime | None
    has_code: bool
    has_password: bool

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> StudentRow:
        return cls(
            id=str(row["id"]),
            username=row["handle"],
            name=row["display_name"],
            created_at=row["created_at"],
            code_issued_at=row["code_issued_at"],
            last_sign_in_at=row["last_sign_in_at"],
            has_code=row["code_hash"] is not None,
            has_password=row["password_hash"] is not None,
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "code_issued_at": self.code_issued_at.isoformat(),
            "last_sign_in_at": _iso(self.last_sign_in_at),
            "has_code": self.has_code,
            "has_password": self.has_password,
        }


_CLASS_SELECT = (
    "SELECT c.*, t.display_name AS teacher_name, "
    "(SELECT count(*) FROM students s WHERE s.class_id = c.id) AS student_count "
    "FROM classes c JOIN users t ON t.id = c.teacher_id"
)
_STUDENT_SELECT = (
    "SELECT u.id, u.handle, u.display_name, u.password_hash, s.created_at, "
    "s.code_hash, s.code_issued_at, s.last_sign_in_at "
    "FROM students s JOIN users u ON u.id = s.user_id"
)


def as_uuid(text: str) -> uuid.UUID | None:
    """``text`` as a UUID, or None (a path parameter can hold anything)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def create_class(
    db: Db, *, teacher_id: str, name: str, grade_level: int, students_may_set_password: bool
) -> ClassRow:
    """A new class with a fresh class code (drawn again in the rare case it is taken)."""
    for _ in range(8):
        try:
            class_id = await db.fetchval(
                "INSERT INTO classes (teacher_id, name, grade_level, code, "
                "students_may_set_password) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                uuid.UUID(teacher_id),
                name,
                grade_level,
                new_class_code(),
                students_may_set_password,
            )
        except asyncpg.UniqueViolationError:
            continue
        found = await class_by_id(db, class_id)
        assert found is not None
        return found
    raise RuntimeError("no free class code after 8 draws")


async def count_classes(db: Db, teacher_id: str) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM classes WHERE teacher_id = $1", uuid.UUID(teacher_id)
    )
    return count


async def class_by_id(db: Db, class_id: uuid.UUID) -> ClassRow | None:
    row = await db.fetchrow(f"{_CLASS_SELECT} WHERE c.id = $1", class_id)
    return None if row is None else ClassRow.from_row(row)


async def list_classes(
    db: Db, *, teacher_id: str | None, member_id: str | None, limit: int
) -> list[ClassRow]:
    """Classes of a teacher, or those a user is a member of, or (both None) all."""
    where, args = "", []
    if teacher_id is not None:
        where, args = "WHERE c.teacher_id = $1", [uuid.UUID(teacher_id)]
    elif member_id is not None:
        where = "WHERE c.id IN (SELECT class_id FROM class_members WHERE user_id = $1)"
        args = [uuid.UUID(member_id)]
    rows = await db.fetch(
        f"{_CLASS_SELECT} {where} ORDER BY c.created_at DESC, c.id LIMIT {int(limit)}", *args
    )
    return [ClassRow.from_row(r) for r in rows]


async def is_member(db: Db, class_id: uuid.UUID, user_id: str) -> bool:
    found = await db.fetchval(
        "SELECT 1 FROM class_members WHERE class_id = $1 AND user_id = $2",
        class_id,
        uuid.UUID(user_id),
    )
    return found is not None


async def update_class(
    db: Db,
    class_id: uuid.UUID,
    *,
    name: str | None,
    grade_level: int | None,
    students_may_set_password: bool | None,
) -> None:
    await db.execute(
        "UPDATE classes SET name = coalesce($2, name), "
        "grade_level = coalesce($3, grade_level), "
        "students_may_set_password = coalesce($4, students_may_set_password), "
        "updated_at = now() WHERE id = $1",
        class_id,
        name,
        grade_level,
        students_may_set_password,
    )


async def lock_class(conn: asyncpg.Connection, class_id: uuid.UUID) -> int:
    """Lock the class row (imports into one class queue up) and count its students."""
    await conn.execute("SELECT 1 FROM classes WHERE id = $1 FOR UPDATE", class_id)
    count: int = await conn.fetchval("SELECT count(*) FROM students WHERE class_id = $1", class_id)
    return count


async def students_of(db: Db, class_id: uuid.UUID) -> list[StudentRow]:
    rows = await db.fetch(
        f"{_STUDENT_SELECT} WHERE s.class_id = $1 AND u.deleted_at IS NULL "
        "ORDER BY lower(u.display_name), lower(u.handle)",
        class_id,
    )
    return [StudentRow.from_row(r) for r in rows]


async def student_in_class(db: Db, class_id: uuid.UUID, student_id: uuid.UUID) -> StudentRow | None:
    row = await db.fetchrow(
        f"{_STUDENT_SELECT} WHERE s.class_id = $1 AND s.user_id = $2 AND u.deleted_at IS NULL",
        class_id,
        student_id,
    )
    return None if row is None else StudentRow.from_row(row)


async def names_in_class(db: Db, class_id: uuid.UUID) -> set[str]:
    return {s.name.casefold() for s in await students_of(db, class_id)}


async def taken_handles(db: Db, exact: list[str], prefixes: list[str]) -> set[str]:
    """The lower-case handles among ``exact`` and those starting with the ``LIKE``
    patterns ``prefixes`` (see :func:`server.classes.roster.like_prefix`)."""
    if not exact and not prefixes:
        return set()
    rows = await db.fetch(
        "SELECT lower(handle) AS h FROM users WHERE handle IS NOT NULL AND "
        "(lower(handle) = ANY($1::text[]) OR lower(handle) LIKE ANY($2::text[]))",
        [e.lower() for e in exact],
        prefixes,
    )
    return {r["h"] for r in rows}


async def insert_student(
    conn: asyncpg.Connection,
    class_id: uuid.UUID,
    *,
    name: str,
    username: str,
    code_hash: str,
    created_by: str,
) -> StudentRow | None:
    """A new student account in the class; None when the username was taken (the
    savepoint keeps the caller's transaction usable)."""
    try:
        async with conn.transaction():
            user_id = await conn.fetchval(
                "INSERT INTO users (handle, display_name, role, password_hash, is_guest, "
                "is_student) VALUES ($1, $2, 'player', NULL, false, true) RETURNING id",
                username,
                name,
            )
            await conn.execute(
                "INSERT INTO class_members (class_id, user_id) VALUES ($1, $2)",
                class_id,
                user_id,
            )
            await conn.execute(
                "INSERT INTO students (user_id, class_id, code_hash, created_by) "
                "VALUES ($1, $2, $3, $4)",
                user_id,
                class_id,
                code_hash,
                uuid.UUID(created_by),
            )
    except asyncpg.UniqueViolationError:
        return None
    return await student_in_class(conn, class_id, user_id)


async def set_code(db: Db, student_id: uuid.UUID, code_hash: str) -> None:
    """A new sign-in code; a password the student chose is cleared (a reset is also
    how a student who forgot theirs gets back in)."""
    await db.execute(
        "WITH s AS (UPDATE students SET code_hash = $2, code_issued_at = now() "
        "WHERE user_id = $1 RETURNING user_id) "
        "UPDATE users SET password_hash = NULL, updated_at = now() "
        "WHERE id IN (SELECT user_id FROM s)",
        student_id,
        code_hash,
    )


async def rename_student(
    db: Db, student_id: uuid.UUID, *, name: str | None, username: str | None
) -> bool:
    """Change the name and/or username; False when the username is taken."""
    try:
        await db.execute(
            "UPDATE users SET display_name = coalesce($2, display_name), "
            "handle = coalesce($3, handle), updated_at = now() WHERE id = $1",
            student_id,
            name,
            username,
        )
    except asyncpg.UniqueViolationError:
        return False
    return True


async def remove_student(conn: asyncpg.Connection, student_id: uuid.UUID) -> int | None:
    """Delete the student's account as :func:`server.accounts.store.delete_user` does
    (personal data gone, matches kept for the others under a pseudonym) and take it
    out of the class; the number of matches it played.  Call inside a transaction."""
    matches = await accounts.delete_user(conn, str(student_id))
    await conn.execute("DELETE FROM class_members WHERE user_id = $1", student_id)
    return matches


@dataclass(frozen=True, slots=True)
class SignIn:
    user: accounts.User
    code_hash: str | None
    class_id: str


async def student_for_sign_in(db: Db, username: str) -> SignIn | None:
    row = await db.fetchrow(
        "SELECT u.id, u.handle, u.display_name, u.role, u.is_guest, u.password_hash, "
        "u.created_at, s.code_hash, s.class_id FROM users u "
        f"JOIN students s ON s.user_id = u.id WHERE lower(u.handle) = lower($1) AND {_LIVE}",
        username,
    )
    if row is None:
        return None
    return SignIn(accounts.User.from_row(row), row["code_hash"], str(row["class_id"]))


async def mark_signed_in(db: Db, user_id: str) -> None:
    await db.execute(
        "UPDATE students SET last_sign_in_at = now() WHERE user_id = $1", uuid.UUID(user_id)
    )


async def managing_class(db: Db, user_id: str) -> ClassRow | None:
    """The class that manages this student account, or None (not a student)."""
    class_id = await db.fetchval(
        "SELECT class_id FROM students WHERE user_id = $1", uuid.UUID(user_id)
    )
    return None if class_id is None else await class_by_id(db, class_id)


async def set_own_password(db: Db, user_id: str, password_hash: str) -> None:
    """A student's own password: the sign-in code stops working (a card left lying
    around no longer opens the account); a reset by the teacher issues a new one."""
    uid = uuid.UUID(user_id)
    await db.execute(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", uid, password_hash
    )
    await db.execute("UPDATE students SET code_hash = NULL WHERE user_id = $1", uid)


async def set_role(db: Db, user_id: uuid.UUID, role: str) -> str | None:
    """Set a live account's role; its previous role, or None when there is no such
    account."""
    row = await db.fetchrow(
        "WITH old AS (SELECT id, role FROM users u WHERE u.id = $1 AND "
        f"{_LIVE} FOR UPDATE) "
        "UPDATE users SET role = $2, updated_at = now() FROM old WHERE users.id = old.id "
        "RETURNING old.role",
        user_id,
        role,
    )
    return None if row is None else str(row["role"])

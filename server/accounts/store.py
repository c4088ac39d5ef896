"""SQL for users, refresh tokens and the audit log (asyncpg).

Lookups (:func:`user_by_handle`, :func:`user_by_id`, :func:`upgrade_guest`) only find live
accounts: neither deleted nor disabled, so a disabled account cannot sign in or refresh.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from server.reports.store import forget_user as forget_reports
from server.storage.pseudonyms import pseudonymize
from server.types import UserId


@dataclass(frozen=True, slots=True)
class User:
    id: UserId
    handle: str | None
    display_name: str
    role: str
    is_guest: bool
    password_hash: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> User:
        return cls(
            id=UserId(str(row["id"])),
            handle=row["handle"],
            display_name=row["display_name"],
            role=row["role"],
            is_guest=row["is_guest"],
            password_hash=row["password_hash"],
            created_at=row["created_at"],
        )

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "handle": self.handle,
            "display_name": self.display_name,
            "role": self.role,
            "guest": self.is_guest,
            "created_at": self.created_at.isoformat(),
        }


_USER_COLS = "id, handle, display_name, role, is_guest, password_hash, created_at"
_LIVE = "deleted_at IS NULL AND disabled_at IS NULL"
DELETED_NAME = "Deleted player"


def shared_name_sql(users: str = "u") -> str:
    """SQL for the name an account shows outside its class: its display name, except for a
    class's student (a child whose teacher made the account), whose real name stays in the
    class and who shows elsewhere (a study pod, its board) as a stable pseudonym."""
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM students st WHERE st.user_id = {users}.id) "
        f"THEN 'Writer ' || upper(left(md5({users}.id::text), 4)) "
        f"ELSE {users}.display_name END"
    )


async def token_secret(pool: asyncpg.Pool | asyncpg.Connection) -> bytes:
    """The access-token signing key shared by every node (created on first use)."""
    await pool.execute(
        "INSERT INTO app_secrets (name, value) VALUES ('access_token_key', $1) "
        "ON CONFLICT (name) DO NOTHING",
        secrets.token_bytes(32),
    )
    value: bytes = await pool.fetchval(
        "SELECT value FROM app_secrets WHERE name = 'access_token_key'"
    )
    return value


async def previous_token_secrets(pool: asyncpg.Pool | asyncpg.Connection) -> list[bytes]:
    """Signing keys still accepted while tokens they signed may live (key rotation).

    Rotating: rename the row ``access_token_key`` to ``access_token_key.previous`` (after
    deleting an older ``.previous``) and restart the nodes one by one; the first to start
    creates a new current key and verifies tokens of the previous one (their ``kid``
    names it).  Delete ``.previous`` once ``server.access_token_seconds`` have passed.
    """
    rows = await pool.fetch(
        "SELECT value FROM app_secrets WHERE name = 'access_token_key.previous'"
    )
    return [bytes(r["value"]) for r in rows]


async def create_user(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    handle: str | None,
    display_name: str,
    role: str,
    password_hash: str | None,
    is_guest: bool,
) -> User | None:
    """Insert a user; None when the handle is taken."""
    try:
        row = await conn.fetchrow(
            f"INSERT INTO users (handle, display_name, role, password_hash, is_guest) "
            f"VALUES ($1, $2, $3, $4, $5) RETURNING {_USER_COLS}",
            handle,
            display_name,
            role,
            password_hash,
            is_guest,
        )
    except asyncpg.UniqueViolationError:
        return None
    return User.from_row(row)


async def user_by_handle(conn: asyncpg.Connection | asyncpg.Pool, handle: str) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLS} FROM users WHERE lower(handle) = lower($1) AND {_LIVE}",
        handle,
    )
    return None if row is None else User.from_row(row)


async def user_by_id(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLS} FROM users WHERE id = $1 AND {_LIVE}", uuid.UUID(user_id)
    )
    return None if row is None else User.from_row(row)


async def upgrade_guest(
    conn: asyncpg.Connection | asyncpg.Pool,
    user_id: str,
    *,
    handle: str,
    password_hash: str,
    display_name: str | None,
) -> User | None:
    """Give a guest a handle and password; None when the handle is taken."""
    try:
        row = await conn.fetchrow(
            f"UPDATE users SET handle = $2, password_hash = $3, is_guest = false, "
            f"display_name = coalesce($4, display_name), updated_at = now() "
            f"WHERE id = $1 AND is_guest AND {_LIVE} RETURNING {_USER_COLS}",
            uuid.UUID(user_id),
            handle,
            password_hash,
            display_name,
        )
    except asyncpg.UniqueViolationError:
        return None
    return None if row is None else User.from_row(row)


async def insert_refresh_token(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    user_id: str,
    family_id: uuid.UUID,
    token_hash: bytes,
    lifetime_s: int,
    user_agent: str | None,
    ip: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, user_agent, ip) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        uuid.UUID(user_id),
        family_id,
        token_hash,
        datetime.now(UTC) + timedelta(seconds=lifetime_s),
        (user_agent or "")[:256],
        ip,
    )


async def refresh_row_for_update(
    conn: asyncpg.Connection, token_hash: bytes
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens "
        "WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )


async def mark_refresh_used(conn: asyncpg.Connection, token_id: uuid.UUID) -> None:
    await conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", token_id)


async def revoke_family(conn: asyncpg.Connection | asyncpg.Pool, family_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
        family_id,
    )


async def audit(
    conn: asyncpg.Connection | asyncpg.Pool,
    action: str,
    *,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    ip: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, details, request_id, ip) "
        "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
        uuid.UUID(actor_id) if actor_id else None,
        action,
        target_type,
        target_id,
        orjson.dumps(details or {}).decode(),
        request_id,
        ip,
    )


async def disable_user(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> datetime | None:
    """Disable an account and revoke its refresh tokens; when it was disabled (the first
    time), or None when there is no such (undeleted) account."""
    try:
        uid = uuid.UUID(user_id)
    except ValueError:
        return None
    disabled: datetime | None = await conn.fetchval(
        "UPDATE users SET disabled_at = coalesce(disabled_at, now()), updated_at = now() "
        "WHERE id = $1 AND deleted_at IS NULL RETURNING disabled_at",
        uid,
    )
    if disabled is not None:
        await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = now() "
            "WHERE user_id = $1 AND revoked_at IS NULL",
            uid,
        )
    return disabled


async def delete_user(conn: asyncpg.Connection, user_id: str) -> int | None:
    """Delete an account's personal data; the number of matches it played, or None when
    there is no such account.  Call inside a transaction.

    What goes: handle, password, display name (the row stays as a tombstone named
    ``Deleted player`` so audit entries keep their actor), refresh tokens (with their IP
    and user agent), the current rating and the rating history, the text and edit log of
    every piece the user wrote, the AI's rationale and suggestions on it, and the replays of
    the user's matches (a replay is the match's input log, keystrokes included, and cannot
    be re-run without them), their study-pod profile, membership and history, and a
    teacher's prompt images (the stored files: a photograph
    may show the teacher, their home or their class; unlike deleting one image, this does
    not wait for the lobbies that show one to close: their rounds show it as gone).  What
    stays, for the other players: every match row, the seats, ranks, scores and trait
    scores (the user's seat under a random per-match pseudonym ``deleted:<hex>`` with no
    account), and the reviews (those the user wrote keep their rating in the recipients'
    portfolios, their text blanked); reports the user filed stay anonymous, without note
    (:func:`server.reports.store.forget_user`).  The seats are made anonymous by
    :func:`server.storage.pseudonyms.pseudonymize`; a match in play now gets the same when
    it is saved (``scrub_deleted_seats``).
    """
    uid = uuid.UUID(user_id)
    found = await conn.fetchval(
        "SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE", uid
    )
    if found is None:
        return None
    player = str(uid)
    matches: list[uuid.UUID] = [
        r["match_id"]
        for r in await conn.fetch("SELECT match_id FROM seats WHERE player_id = $1", player)
    ]
    await pseudonymize(conn, player, matches)
    await conn.execute(
        "DELETE FROM rating_history WHERE user_id = $1 OR player_id = $2", uid, player
    )
    await conn.execute("DELETE FROM ratings WHERE user_id = $1", uid)
    await conn.execute("DELETE FROM refresh_tokens WHERE user_id = $1", uid)
    await conn.execute("DELETE FROM prompt_images WHERE teacher_id = $1", uid)
    # Study pods: the profile (time zone, free hours), the seat in a pod, the waitlist and
    # the departures; the other members' pod goes on without them.
    for table in (
        "pod_profiles",
        "pod_members",
        "pod_waitlist",
        "pod_departures",
        "pod_checkins",
    ):
        await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", uid)
    # Solo practice (docs/practice.md): the rounds keep the drafts as typed.
    await conn.execute("DELETE FROM practice_rounds WHERE user_id = $1", uid)
    await forget_reports(conn, user_id)  # reports filed: anonymous, note blanked
    # Tutor Q&A (docs/tutor.md): the user's threads go (messages and escalations with
    # them); what they answered as a teacher in a student's thread is blanked.
    await conn.execute("DELETE FROM tutor_threads WHERE user_id = $1", uid)
    await conn.execute(
        "UPDATE tutor_messages SET text = '', author_id = NULL WHERE author_id = $1", uid
    )
    await conn.execute(
        "UPDATE users SET handle = NULL, password_hash = NULL, display_name = $2, "
        "deleted_at = now(), updated_at = now() WHERE id = $1",
        uid,
        DELETED_NAME,
    )
    return len(matches)

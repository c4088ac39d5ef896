"""SQL for users, refresh tokens and the audit log (asyncpg)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

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


async def token_secret(pool: asyncpg.Pool) -> bytes:
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
        f"SELECT {_USER_COLS} FROM users WHERE lower(handle) = lower($1) AND deleted_at IS NULL",
        handle,
    )
    return None if row is None else User.from_row(row)


async def user_by_id(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> User | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLS} FROM users WHERE id = $1 AND deleted_at IS NULL", uuid.UUID(user_id)
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
            f"WHERE id = $1 AND is_guest AND deleted_at IS NULL RETURNING {_USER_COLS}",
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

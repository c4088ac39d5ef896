"""Plain-SQL migrations: ``migrations/NNNN_name.sql`` applied in order, once each.

Applied files are recorded in ``schema_migrations`` (name, checksum, applied_at).  The
runner holds a PostgreSQL advisory lock while it works, so several processes starting at
the same moment apply each file exactly once.  Each file runs in its own transaction.
A file whose checksum differs from the one recorded when it was applied is an error: a
migration that has run is never edited, a new one is added instead.

``quill migrate`` applies; ``quill serve`` only checks (:func:`check`) and refuses to start
on a schema that is behind the files.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from server.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOCK_KEY = 0x5175_696C_6C4D_6967  # "QuillMig": the advisory lock every runner takes
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; a misnamed file or a repeated number is an error."""
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} does not exist")
    found: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        m = _NAME.match(path.name)
        if m is None:
            raise MigrationError(
                f"migration file {path.name!r}: expected a name like 0001_accounts.sql"
            )
        if m.group(1) in numbers:
            raise MigrationError(
                f"migration files {numbers[m.group(1)]!r} and {path.name!r} share a number"
            )
        numbers[m.group(1)] = path.name
        found.append(Migration(path.name, path.read_text(encoding="utf-8")))
    return found


async def _applied(conn: asyncpg.Connection) -> dict[str, str]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT name, checksum FROM schema_migrations ORDER BY name")
    return {r["name"]: r["checksum"] for r in rows}


def _verify(applied: dict[str, str], migrations: list[Migration]) -> list[Migration]:
    """Check recorded checksums; return the migrations still to apply."""
    by_name = {m.name: m for m in migrations}
    for name, checksum in applied.items():
        m = by_name.get(name)
        if m is None:
            raise MigrationError(
                f"the database has migration {name!r} applied, which is not on disk: "
                "this code is older than the schema"
            )
        if m.checksum != checksum:
            raise MigrationError(
                f"migration {name!r} was changed after it was applied "
                f"(checksum {checksum[:12]} in the database, {m.checksum[:12]} on disk): "
                "add a new migration instead of editing an applied one"
            )
    return [m for m in migrations if m.name not in applied]


async def apply(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration under the advisory lock; return the names applied."""
    migrations = discover() if migrations is None else migrations
    done: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        pending = _verify(await _applied(conn), migrations)
        for m in pending:
            try:
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        m.name,
                        m.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {m.name!r} failed: {exc}") from exc
            done.append(m.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    return done


async def check(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> None:
    """Raise :class:`MigrationError` unless every migration on disk is applied, unchanged."""
    migrations = discover() if migrations is None else migrations
    pending = _verify(await _applied(conn), migrations)
    if pending:
        names = ", ".join(m.name for m in pending)
        raise MigrationError(
            f"the database schema is behind: {len(pending)} migration(s) not applied "
            f"({names}); run `quill migrate`"
        )

"""The migration runner: order, advisory lock under concurrency, checksum drift, checks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from server import migrate
from server.errors import MigrationError
from tests.conftest import ROOT


def _files(tmp_path: Path, files: dict[str, str]) -> list[migrate.Migration]:
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    return migrate.discover(tmp_path)


async def _rows(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT name, checksum FROM schema_migrations ORDER BY name")
    finally:
        await conn.close()
    return [(r["name"], r["checksum"]) for r in rows]


async def test_applies_in_order_once(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        assert await migrate.apply(conn) == [m.name for m in migrate.discover()]
        assert await migrate.apply(conn) == []
        await migrate.check(conn)
    finally:
        await conn.close()
    assert [name for name, _ in await _rows(empty_database)] == [m.name for m in migrate.discover()]


async def test_concurrent_runners_apply_each_file_once(empty_database: str, tmp_path: Path) -> None:
    # A slow migration widens the window in which racing runners would collide.
    migrations = _files(
        tmp_path,
        {
            "0001_a.sql": "CREATE TABLE a (id int); SELECT pg_sleep(0.2);",
            "0002_b.sql": "CREATE TABLE b (id int); INSERT INTO b VALUES (1);",
        },
    )
    conns = [await asyncpg.connect(empty_database) for _ in range(6)]
    try:
        results = await asyncio.gather(*(migrate.apply(c, migrations) for c in conns))
        assert sorted(n for r in results for n in r) == ["0001_a.sql", "0002_b.sql"]
        assert await conns[0].fetchval("SELECT count(*) FROM b") == 1
    finally:
        for c in conns:
            await c.close()


async def test_two_quill_migrate_processes_at_the_same_moment(empty_database: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database}
    env.pop("QUILL_CONFIG", None)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server",
            "migrate",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in procs))
    assert [p.returncode for p in procs] == [0, 0], outputs
    names = [name for name, _ in await _rows(empty_database)]
    assert names == [m.name for m in migrate.discover()]
    printed = sorted(out.decode().strip() for out, _ in outputs)
    assert printed[1] == "schema is up to date" or "applied:" in printed[1]
    assert any(line.startswith("applied:") for line in printed)


async def test_changed_checksum_is_an_error(empty_database: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        await migrate.apply(conn, _files(tmp_path, {"0001_a.sql": "CREATE TABLE a (id int);"}))
        drifted = _files(tmp_path, {"0001_a.sql": "CREATE TABLE a (id bigint);"})
        with pytest.raises(MigrationError, match=r"0001_a\.sql' was changed after it was applied"):
            await migrate.apply(conn, drifted)
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate.check(conn, drifted)
    finally:
        await conn.close()


async def test_check_reports_a_schema_behind_or_ahead(empty_database: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        first = _files(tmp_path, {"0001_a.sql": "CREATE TABLE a (id int);"})
        with pytest.raises(MigrationError, match="behind: 1 migration"):
            await migrate.check(conn, first)
        await migrate.apply(conn, first)
        both = _files(tmp_path, {"0002_b.sql": "CREATE TABLE b (id int);"})
        with pytest.raises(MigrationError, match=r"behind.*0002_b.sql.*quill migrate"):
            await migrate.check(conn, both)
        await migrate.apply(conn, both)
        with pytest.raises(MigrationError, match="not on disk"):
            await migrate.check(conn, first)
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_and_names_the_file(
    empty_database: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        bad = _files(
            tmp_path,
            {
                "0001_a.sql": "CREATE TABLE a (id int);",
                "0002_bad.sql": "CREATE TABLE c (id int); SELEC 1;",
            },
        )
        with pytest.raises(MigrationError, match=r"0002_bad\.sql' failed"):
            await migrate.apply(conn, bad)
        assert await conn.fetchval("SELECT to_regclass('c')") is None
    finally:
        await conn.close()
    assert [n for n, _ in await _rows(empty_database)] == ["0001_a.sql"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_a.sql": ""}, "expected a name like"),
        ({"0001_A.sql": ""}, "expected a name like"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "share a number"),
    ],
)
def test_discover_rejects_bad_names(tmp_path: Path, files: dict[str, str], message: str) -> None:
    with pytest.raises(MigrationError, match=message):
        _files(tmp_path, files)


def test_serve_refuses_an_outdated_schema(empty_database: str, redis_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database, "REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "schema is behind" in result.stderr and "quill migrate" in result.stderr


def test_serve_needs_urls() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "quill serve needs DATABASE_URL and REDIS_URL" in result.stderr

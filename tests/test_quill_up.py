"""``quill up`` in a subprocess: embedded servers, data kept across restarts, clean stops."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import psutil

from server.embedded import free_port
from tests.conftest import ROOT

STARTUP_LIMIT_S = 180  # a bound on a hung start, never a speed requirement


async def _wait_healthy(
    http: aiohttp.ClientSession, url: str, proc: asyncio.subprocess.Process
) -> bytes:
    """Read stderr until the node says it is running, then check /health answers."""
    assert proc.stderr is not None
    seen = b""
    while b"is running at" not in seen:
        line = await asyncio.wait_for(proc.stderr.readline(), STARTUP_LIMIT_S)
        if not line:
            raise AssertionError(f"quill up exited early: {seen.decode()}")
        seen += line
    async with http.get(url + "/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"
    return seen


def _servers_using(data_dir: Path) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if str(data_dir) in cmd:
            found.append(p)
    return found


async def _up(data_dir: Path, port: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process, sig: int) -> bytes:
    proc.send_signal(sig)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()
    return err


async def test_up_keeps_data_across_restarts_and_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "quill-data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    creds = {"handle": "keeper", "password": "correct horse battery"}
    async with aiohttp.ClientSession() as http:
        proc = await _up(data_dir, port)
        try:
            started = await _wait_healthy(http, url, proc)
            assert b"embedded PostgreSQL" in started and b"embedded Redis" in started
            async with http.get(url + "/ready") as resp:
                assert resp.status == 200
            async with http.post(url + "/api/v1/auth/register", json=creds) as resp:
                assert resp.status == 201
            assert len(_servers_using(data_dir)) == 2  # postgres + redis, our children
            children = psutil.Process(proc.pid).children(recursive=True)
            commands = [" ".join(c.cmdline()) for c in children]
            assert any("-m matchmaker" in c for c in commands), commands
        finally:
            await _stop(proc, signal.SIGINT)
        assert _servers_using(data_dir) == []
        # Children that their own parent's exit ends (PR_SET_PDEATHSIG, a closed pipe)
        # may still be on their way out when quill up returns: wait for them, bounded.
        _, alive = await asyncio.to_thread(psutil.wait_procs, children, 30)
        assert not [c for c in alive if c.status() != "zombie"], commands

        proc = await _up(data_dir, port)
        try:
            await _wait_healthy(http, url, proc)
            async with http.post(url + "/api/v1/auth/login", json=creds) as resp:
                assert resp.status == 200
                assert (await resp.json())["user"]["handle"] == "keeper"
        finally:
            await _stop(proc, signal.SIGTERM)
        assert _servers_using(data_dir) == []
    assert (data_dir / "pg" / "PG_VERSION").exists()
    assert (data_dir / "redis").is_dir()

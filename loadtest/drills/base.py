"""What a drill is (:class:`Drill`), what it reports (:class:`Check`), and the state of
one drill run that its fault and its checks share (:class:`DrillRun`).  No I/O here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loadtest.fleet import Fleet
from loadtest.stack import Stack
from loadtest.stats import Tally


@dataclass(frozen=True)
class Check:
    """One thing a drill verified: ``ok`` and what it saw."""

    name: str
    ok: bool
    detail: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class DrillRun:
    """One run of a drill: its stack, its players, what the fault did."""

    stack: Stack
    fleet: Fleet
    players: int
    fault_at: float | None = None  # time.time() when the fault began
    fault_done: float | None = None  # … and when it was over (restarted, reconnected)
    facts: dict[str, Any] = field(default_factory=dict)
    watch_pids: set[int] = field(default_factory=set)
    """Pids that must be gone at the end besides the stack's (e.g. a killed node's pool)."""


@dataclass(frozen=True)
class Drill:
    """A fault injected once in the middle of the write phase of a short load.

    ``inject`` runs on the main thread (children it starts die with that thread:
    ``PR_SET_PDEATHSIG``) once ``trigger`` of the players are writing, ``delay`` seconds
    later; ``verify`` adds the drill's own checks to the shared ones.
    """

    name: str
    summary: str
    inject: Callable[[DrillRun], None]
    verify: Callable[[DrillRun, Tally], list[Check]] | None = None
    nodes: int = 1
    matchmakers: int = 1
    scenario: str = "drill"
    duration: float = 6.0
    trigger: float = 0.5
    delay: float = 1.5
    cut_share: float = 0.0

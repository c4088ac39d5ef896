"""Match phases and the transitions between them.

::

    lobby ──▶ write ──▶ feedback ──▶ scoring ──▶ results ──▶ closed
      │                                                        ▲
      └──────────────── (aborted: too few players) ────────────┘
    any phase but closed ──(abort)──▶ closed

A move not in :data:`TRANSITIONS` raises :class:`server.errors.InvalidTransition`.
"""

from __future__ import annotations

from enum import StrEnum

from server.errors import InvalidTransition


class Phase(StrEnum):
    LOBBY = "lobby"
    WRITE = "write"
    FEEDBACK = "feedback"
    SCORING = "scoring"
    RESULTS = "results"
    CLOSED = "closed"


TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.LOBBY: frozenset({Phase.WRITE, Phase.CLOSED}),
    Phase.WRITE: frozenset({Phase.FEEDBACK, Phase.CLOSED}),
    Phase.FEEDBACK: frozenset({Phase.SCORING, Phase.CLOSED}),
    Phase.SCORING: frozenset({Phase.RESULTS, Phase.CLOSED}),
    Phase.RESULTS: frozenset({Phase.CLOSED}),
    Phase.CLOSED: frozenset(),
}
"""Allowed moves; ``→ closed`` from a running phase is an abort."""


def check_transition(current: Phase, target: Phase) -> None:
    """Raise ``InvalidTransition`` unless ``current → target`` is allowed."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            "bad_transition", f"a match cannot go from {current.value} to {target.value}"
        )

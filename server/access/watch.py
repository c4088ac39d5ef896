"""Who may watch which match, with what delay, under which names — every rule in one place.

Pure: no I/O.  The caller gathers a :class:`MatchFacts` (what the match is, whose lobby it
belongs to, who sat in it) and a :class:`Viewer` (who asks, and how they stand to the
lobby), and :func:`decide` answers with an :class:`Access` or ``None`` (not allowed: the
route then answers 404, as if the match did not exist).  :func:`seat_label` says what a
seat is called for that viewer.  The rules, first match wins:

==============================================  =========  =======  ==========  =========
who                                             finished   running  names       delay
==============================================  =========  =======  ==========  =========
an admin                                        yes        yes      real names  none
the lobby's teacher (lobby matches)             yes        yes      real names  none
a player who held a seat                        yes        **no**   as shown    —
the lobby's class, when the lobby allows it     yes        yes      as shown    spectator
anyone signed in (ranked, not a lobby match)    yes        yes      aliases     spectator
anyone else (practice, another class's lobby)   no         no       —           —
==============================================  =========  =======  ==========  =========

- *As shown*: the names the match itself showed — aliases, or in a lobby without
  anonymity the students' names (``MatchConfig.names``).  An anonymous lobby never shows a
  name to anyone but its teacher (and admins).
- A seat of a **deleted account** shows only its alias, to everyone, admins included.
- *Spectator* delay is ``match.spectator_delay_seconds``: a running match can be watched
  only up to ``now − delay``.  A seat-holder cannot watch their own match while it runs
  (they would see the other drafts); afterwards they may always replay it.
- The **class** of a lobby is its class's members (``class_members``), or for a lobby
  without a class, the players who joined it and were not banned.  The lobby allows it
  with ``lobbies.class_may_watch`` (migration 0008, default false).
- A piece **withheld by moderation** (not empty) is shown, keystrokes included, only to
  admins, the lobby's teacher and its writer; others see the seat with no text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Names(StrEnum):
    """Which name a seat carries for a viewer."""

    REAL = "real"  # the account's display name (teacher, admin)
    SHOWN = "shown"  # what the match showed: the lobby's names, else aliases
    ALIASES = "aliases"  # aliases only


class Why(StrEnum):
    """Why a viewer may watch (for logs and tests)."""

    ADMIN = "admin"
    TEACHER = "teacher"
    PLAYER = "player"
    CLASS = "class"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    role: str  # player, teacher, admin (read from PostgreSQL, not the token)
    in_class: bool = False  # in the class (or membership) of the match's lobby, if any


@dataclass(frozen=True, slots=True)
class LobbyFacts:
    teacher_id: str
    class_may_watch: bool = False


@dataclass(frozen=True, slots=True)
class MatchFacts:
    ranked: bool
    finished: bool  # results are in (the outcome is saved, or the log has its results)
    players: frozenset[str] = field(default_factory=frozenset)  # user ids of the seats
    lobby: LobbyFacts | None = None


@dataclass(frozen=True, slots=True)
class Access:
    why: Why
    names: Names
    delay: float  # seconds behind now a running match is shown (0: live)
    sees_withheld: bool  # pieces withheld by moderation, keystrokes included


@dataclass(frozen=True, slots=True)
class SeatFacts:
    player: str
    alias: str  # the seed's alias (server/game/assign.make_aliases), never a name
    shown: str  # what the match called the seat (a lobby's name, or the alias)
    real_name: str | None  # the account's display name; None for bots and unknown ids
    deleted: bool = False
    bot: bool = False


def decide(viewer: Viewer, match: MatchFacts, spectator_delay: float) -> Access | None:
    """May ``viewer`` watch ``match`` (see the module docstring); None: no."""
    lobby = match.lobby
    if viewer.role == "admin":
        return Access(Why.ADMIN, Names.REAL, 0.0, True)
    if lobby is not None and viewer.user_id == lobby.teacher_id:
        return Access(Why.TEACHER, Names.REAL, 0.0, True)
    if viewer.user_id in match.players:
        if not match.finished:
            return None
        return Access(Why.PLAYER, Names.SHOWN, 0.0, False)
    if lobby is not None:
        if lobby.class_may_watch and viewer.in_class:
            return Access(Why.CLASS, Names.SHOWN, spectator_delay, False)
        return None
    if match.ranked:
        return Access(Why.PUBLIC, Names.ALIASES, spectator_delay, False)
    return None


def seat_label(access: Access, seat: SeatFacts) -> tuple[str, str | None]:
    """``(alias, name)`` of a seat for the viewer: the alias always, a name or None."""
    if seat.deleted or seat.bot:
        return seat.alias, None
    if access.names is Names.REAL:
        return seat.alias, seat.real_name or (seat.shown if seat.shown != seat.alias else None)
    if access.names is Names.SHOWN and seat.shown != seat.alias:
        return seat.alias, seat.shown
    return seat.alias, None


def cutoff(access: Access, now: float, finished: bool) -> float | None:
    """The last server time the viewer may see; None: everything (a finished match)."""
    if finished:
        return None
    return now - access.delay


def shows_text(access: Access, seat: SeatFacts, viewer: Viewer, withheld: bool) -> bool:
    """Whether the seat's keystrokes are shown: not a deleted account's, and a piece
    withheld by moderation only to those who may see it and to its writer."""
    if seat.deleted:
        return False
    if withheld:
        return access.sees_withheld or seat.player == viewer.user_id
    return True

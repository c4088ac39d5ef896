"""Goals on a trait: the pure rules (:mod:`server.goals.rules`) and their storage and the
check after stored scores (:mod:`server.goals.store`, :func:`check_goals`)."""

from server.goals.store import check_goals

__all__ = ["check_goals"]

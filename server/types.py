"""Identifiers used across the server, each its own type so they cannot be mixed up."""

from __future__ import annotations

from typing import NewType

UserId = NewType("UserId", str)
"""A user's id: the UUID of the ``users`` row, as text."""

PlayerId = NewType("PlayerId", str)
"""A player in a match: a user's id, or ``bot:<n>`` for a bot seat."""

MatchId = NewType("MatchId", str)
"""A match's id: a UUID as text, chosen by whoever creates the match."""

NodeId = NewType("NodeId", str)
"""A server node's id, stable across restarts of the same node."""

SeatToken = NewType("SeatToken", str)
"""An opaque token that reserves one seat of one match for one player."""

SessionToken = NewType("SessionToken", str)
"""An opaque token that lets a dropped connection resume its session and seat."""

RequestId = NewType("RequestId", str)
"""The id bound to one HTTP request in logs and error bodies."""

"""Tickets, assignments and notifications as they travel through Redis (msgpack maps)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import msgpack

from server.types import MatchId, NodeId, PlayerId, SeatToken


def _pack(obj: dict[str, Any]) -> bytes:
    return bytes(msgpack.packb(obj))


def _unpack(raw: bytes) -> dict[str, Any]:
    data = msgpack.unpackb(raw)
    if not isinstance(data, dict):
        raise ValueError("expected a msgpack map")
    return data


@dataclass(frozen=True, slots=True)
class QueueTicket:
    player: PlayerId
    mu: float
    sigma: float
    mode: str
    enqueued_at: float  # epoch seconds
    node: NodeId  # where the player is connected

    def encode(self) -> bytes:
        return _pack(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> QueueTicket:
        d = _unpack(raw)
        return cls(
            PlayerId(d["player"]),
            float(d["mu"]),
            float(d["sigma"]),
            str(d["mode"]),
            float(d["enqueued_at"]),
            NodeId(d["node"]),
        )


@dataclass(frozen=True, slots=True)
class AssignedSeat:
    player: PlayerId
    mu: float
    sigma: float
    node: NodeId  # the node the player waits on
    seat_token: SeatToken


@dataclass(frozen=True, slots=True)
class Assignment:
    """A match the matchmaker gives to a node: humans with seat tokens, and bot seats."""

    match_id: MatchId
    mode: str
    seats: tuple[AssignedSeat, ...]
    bot_seats: int = 0
    bot_mu: float | None = None
    quality: float = 0.0
    created_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return _pack(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> Assignment:
        d = _unpack(raw)
        seats = tuple(
            AssignedSeat(
                PlayerId(s["player"]),
                float(s["mu"]),
                float(s["sigma"]),
                NodeId(s["node"]),
                SeatToken(s["seat_token"]),
            )
            for s in d["seats"]
        )
        return cls(
            MatchId(d["match_id"]),
            str(d["mode"]),
            seats,
            int(d["bot_seats"]),
            d["bot_mu"],
            float(d["quality"]),
            float(d["created_at"]),
            dict(d.get("extra") or {}),
        )


@dataclass(frozen=True, slots=True)
class MatchFound:
    """Tells a player's node where the player's match is."""

    player: PlayerId
    match_id: MatchId
    node: NodeId  # the hosting node
    url: str  # the hosting node's public URL
    seat_token: SeatToken

    def encode(self) -> bytes:
        return _pack(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> MatchFound:
        d = _unpack(raw)
        return cls(
            PlayerId(d["player"]),
            MatchId(d["match_id"]),
            NodeId(d["node"]),
            str(d["url"]),
            SeatToken(d["seat_token"]),
        )


@dataclass(frozen=True, slots=True)
class BotRequest:
    """A bot seat for the bot pool to fill: connect to ``url``, take ``seat_token`` as
    ``player`` (``bot:<id>``) and play at ``skill`` (0–1)."""

    match_id: MatchId
    url: str  # the hosting node's base URL (http://host:port); the socket is url + /ws
    player: PlayerId
    seat_token: SeatToken
    skill: float
    requested_at: float  # epoch seconds

    def encode(self) -> bytes:
        return _pack(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> BotRequest:
        d = _unpack(raw)
        return cls(
            MatchId(d["match_id"]),
            str(d["url"]),
            PlayerId(d["player"]),
            SeatToken(d["seat_token"]),
            float(d["skill"]),
            float(d["requested_at"]),
        )

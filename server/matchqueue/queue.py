"""The node's side of the queue: a player joins or leaves; wait estimates are read.

A join writes the ticket to the tickets hash and a ``join`` record to the events stream in
one MULTI, so the matchmaker (which follows the stream) and the hash never disagree. A
leave removes the ticket and records ``leave`` atomically; leaving twice is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis

from server.matchqueue import keys
from server.matchqueue.messages import QueueTicket
from server.types import PlayerId

_LEAVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'op', 'leave', 'player', ARGV[1])
  return 1
end
return 0
"""


_JOIN = """
local held = redis.call('HGET', KEYS[3], ARGV[1])
if held then
  if tonumber(held) > tonumber(redis.call('TIME')[1]) then return 0 end
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'op', 'join', 'player', ARGV[1],
           'ticket', ARGV[2])
return 1
"""


async def join(redis: Redis, ticket: QueueTicket) -> bool:
    """Write the ticket, unless the player's last ticket was claimed for a match that is
    still being created (False: their ``matched`` status is on its way).  Without that
    hold, a player who queued again in the moment between the claim and the match (from
    a new socket, say) was put in a second party, which then had a seat nobody took."""
    raw = ticket.encode()
    written = await redis.eval(
        _JOIN, 3, keys.TICKETS, keys.EVENTS, keys.CLAIMED, ticket.player, raw, keys.EVENTS_MAXLEN
    )
    return bool(written)


async def release_claims(redis: Redis, players: Iterable[PlayerId]) -> None:
    """The claimed tickets' match exists now (its host holds the seats): the players may
    queue again once it lets them go."""
    players = list(players)
    if players:
        await redis.hdel(keys.CLAIMED, *players)


async def leave(redis: Redis, player: PlayerId) -> bool:
    """Remove the player's ticket; False when there was none (already matched or left)."""
    removed = await redis.eval(_LEAVE, 2, keys.TICKETS, keys.EVENTS, player, keys.EVENTS_MAXLEN)
    return bool(removed)


async def leave_all(redis: Redis, players: Iterable[PlayerId]) -> None:
    """:func:`leave` for several players, in one round trip."""
    players = list(players)
    if not players:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for player in players:
            pipe.eval(_LEAVE, 2, keys.TICKETS, keys.EVENTS, player, keys.EVENTS_MAXLEN)
        await pipe.execute()


async def queued(redis: Redis, player: PlayerId) -> QueueTicket | None:
    raw: bytes | None = await redis.hget(keys.TICKETS, player)  # type: ignore[assignment]
    return None if raw is None else QueueTicket.decode(raw)


async def estimate(redis: Redis, mode: str, mu: float, default: float) -> float:
    """The matchmaker's latest wait estimate for this mode and rating, in seconds."""
    raw = await redis.hget(keys.ESTIMATES, keys.estimate_field(mode, mu))
    return default if raw is None else float(raw)


async def estimates(
    redis: Redis, wanted: Iterable[tuple[str, float]], default: float
) -> dict[tuple[str, float], float]:
    """:func:`estimate` for many (mode, rating) pairs in one round trip."""
    pairs = list(dict.fromkeys(wanted))
    if not pairs:
        return {}
    fields = [keys.estimate_field(mode, mu) for mode, mu in pairs]
    unique = list(dict.fromkeys(fields))
    raw = dict(zip(unique, await redis.hmget(keys.ESTIMATES, unique), strict=True))
    found = {f: default if v is None else float(v) for f, v in raw.items()}
    return {pair: found[f] for pair, f in zip(pairs, fields, strict=True)}

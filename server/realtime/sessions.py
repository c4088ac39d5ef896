"""Realtime sessions: a session token ↔ a user and the match the user is seated in.

A session is what ``session.resume`` names.  It is kept in Redis
(``quill:session:<token>``, msgpack) so it outlives the socket and the node process:

- while a socket holds the session, its TTL is ``reconnect_grace_seconds`` plus two
  refresh periods, renewed every ``Tuning.session_refresh_seconds`` by the node;
- when the socket goes, the TTL drops to ``reconnect_grace_seconds``: a client that comes
  back within that time resumes its seat with the same token; after it, the token is
  unknown and ``session.resume`` opens a fresh session with no match.

The token belongs to one user: a token presented by a socket authenticated as somebody
else is refused with ``bad_session``.  Tokens are ``st_`` + 128 random bits.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from server.realtime import keys
from server.realtime.store import pack, unpack
from server.types import MatchId, PlayerId, SessionToken

TOKEN_PREFIX = "st_"


def new_token() -> SessionToken:
    return SessionToken(TOKEN_PREFIX + secrets.token_urlsafe(16))


@dataclass(slots=True)
class Session:
    """What the server remembers of a session between sockets."""

    player: PlayerId
    match_id: MatchId | None = None


class SessionStore:
    """The Redis side of sessions."""

    def __init__(self, redis: Redis, grace_seconds: float, refresh_seconds: float) -> None:
        self.redis = redis
        self.grace_ms = max(0, math.ceil(grace_seconds * 1000))
        self.live_ms = self.grace_ms + math.ceil(2 * refresh_seconds * 1000)

    async def load(self, token: str) -> Session | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        raw = await self.redis.get(keys.session(token))
        if raw is None:
            return None
        data = unpack(raw)
        match_id = data.get("m")
        return Session(PlayerId(data["p"]), None if match_id is None else MatchId(match_id))

    async def save(self, token: SessionToken, session: Session) -> None:
        """Store the session with the TTL of a live socket."""
        record = {"p": session.player, "m": session.match_id}
        await self.redis.set(keys.session(token), pack(record), px=self.live_ms)

    async def refresh(self, tokens: list[SessionToken]) -> None:
        """Renew the TTL of every live session in one round trip."""
        if not tokens:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for token in tokens:
                pipe.pexpire(keys.session(token), self.live_ms)
            await pipe.execute()

    async def release(self, token: SessionToken) -> None:
        """The socket went away: the session lives ``reconnect_grace_seconds`` more."""
        if self.grace_ms == 0:
            await self.redis.delete(keys.session(token))
        else:
            await self.redis.pexpire(keys.session(token), self.grace_ms)

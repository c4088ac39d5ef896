"""Access tokens for bot players, minted by the pool itself.

A bot logs in like nobody else: the pool holds the nodes' signing key (the secret in
PostgreSQL, ``server.accounts.store.token_secret``, or ``server.token_secret`` when the
configuration sets one, exactly as ``server/app.py`` chooses it) and signs short-lived
access tokens with :class:`~server.accounts.tokens.TokenSigner`::

    AccessClaims(user_id="bot:<id>", role="bot", guest=False,
                 session_id=<fresh uuid>, issued_at=now, expires_at=now + ttl)

The node verifies them like any access token (``?token=`` on ``GET /ws``); the socket's
player is the token's ``sub``, which is the ``player`` of the ``BotRequest``.  A token is
minted for each connection attempt, so a reconnect never presents an expired one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import asyncpg

from bots.client import TokenSource
from server.accounts.store import token_secret
from server.accounts.tokens import AccessClaims, TokenSigner
from server.config import Settings
from server.types import PlayerId, UserId

BOT_ROLE = "bot"


def bot_claims(player: PlayerId | str, now: float, ttl: int) -> AccessClaims:
    issued = int(now)
    return AccessClaims(
        user_id=UserId(str(player)),
        role=BOT_ROLE,
        guest=False,
        session_id=str(uuid.uuid4()),
        issued_at=issued,
        expires_at=issued + ttl,
    )


class BotTokens:
    """Mints access tokens for bot players with the nodes' signing key."""

    def __init__(
        self, signer: TokenSigner, ttl: int = 900, clock: Callable[[], float] = time.time
    ) -> None:
        if ttl <= 0:
            raise ValueError("the token lifetime must be positive")
        self.signer = signer
        self.ttl = ttl
        self.clock = clock

    @classmethod
    async def from_database(cls, dsn: str, settings: Settings) -> BotTokens:
        """Read the signing key the nodes use (configured, else PostgreSQL's)."""
        secret = settings.server.token_secret.encode()
        if not secret:
            conn = await asyncpg.connect(dsn)
            try:
                secret = await token_secret(conn)
            finally:
                await conn.close()
        return cls(TokenSigner(secret), settings.server.access_token_seconds)

    def mint(self, player: PlayerId | str) -> str:
        return self.signer.issue(bot_claims(player, self.clock(), self.ttl))

    def source(self, player: PlayerId | str) -> TokenSource:
        """A :data:`~bots.client.TokenSource` that mints a fresh token per attempt."""

        async def mint() -> str:
            return self.mint(player)

        return mint

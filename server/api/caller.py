"""The signed-in account as the database has it now (role included), for REST handlers
whose rules depend on more than the token's claims."""

from __future__ import annotations

import uuid

from aiohttp import web

from server.accounts import store as accounts
from server.api.session import authenticate
from server.errors import Unauthorized
from server.http.state import PG


async def current_user(request: web.Request) -> accounts.User:
    """401 ``invalid_token`` when the token's account is gone."""
    claims = await authenticate(request)
    user = None
    try:
        uuid.UUID(claims.user_id)
    except ValueError:
        pass
    else:
        user = await accounts.user_by_id(request.app[PG], claims.user_id)
    if user is None:
        raise Unauthorized("this account no longer exists", code="invalid_token")
    return user

"""One audit-log entry about a user, with who did it and from where."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from server.accounts import store
from server.http.middleware import client_ip, request_id


async def audit_user(
    db: asyncpg.Connection | asyncpg.Pool,
    request: web.Request,
    action: str,
    actor: str | None,
    target: str | None,
    **details: Any,
) -> None:
    await store.audit(
        db,
        action,
        actor_id=actor,
        target_type="user",
        target_id=target,
        details=details,
        request_id=request_id(request),
        ip=client_ip(request),
    )

"""Helpers of the class tests: accounts of each role, requests with a token, errors."""

from __future__ import annotations

import time
import uuid
from typing import Any

import aiohttp

from server.accounts import store
from server.accounts.tokens import AccessClaims
from server.http.state import PG, SIGNER
from server.types import UserId
from tests.conftest import Node, unique_handle

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(node: Node, role: str = "player") -> dict[str, Any]:
    """A new account signed up over REST (teachers may sign up as such)."""
    resp = await node.post(
        "/api/v1/auth/register",
        {"handle": unique_handle("u"), "password": PASSWORD, "role": role},
    )
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def admin_token(node: Node) -> tuple[str, str]:
    """An admin made in PostgreSQL (admins cannot sign up) and a token of theirs."""
    user = await store.create_user(
        node.app[PG],
        handle=unique_handle("a"),
        display_name="Head Office",
        role="admin",
        password_hash="!",
        is_guest=False,
    )
    assert user is not None
    now = int(time.time())
    token = node.app[SIGNER].issue(
        AccessClaims(UserId(user.id), "admin", False, str(uuid.uuid4()), now, now + 900)
    )
    return user.id, token


async def call(
    node: Node, method: str, path: str, token: str | None = None, json: Any = None, **kw: Any
) -> aiohttp.ClientResponse:
    headers = {**kw.pop("headers", {}), **(bearer(token) if token else {})}
    return await node.http.request(method, node.url + path, json=json, headers=headers, **kw)


async def ok(resp: aiohttp.ClientResponse, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def error_of(resp: aiohttp.ClientResponse) -> tuple[int, str, dict[str, Any]]:
    body = await resp.json()
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["message"]
    return resp.status, body["error"]["code"], body["error"]["details"]


async def new_class(node: Node, token: str, name: str = "7B English", grade: int = 7) -> Any:
    resp = await call(node, "POST", "/api/v1/classes", token, {"name": name, "grade_level": grade})
    return await ok(resp, 201)


async def new_student(node: Node, token: str, class_id: str, name: str, **extra: Any) -> Any:
    resp = await call(
        node, "POST", f"/api/v1/classes/{class_id}/students", token, {"name": name, **extra}
    )
    return await ok(resp, 201)


async def student_sign_in(node: Node, username: str, code: str) -> aiohttp.ClientResponse:
    return await node.post("/api/v1/auth/student", {"username": username, "code": code})

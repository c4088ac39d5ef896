"""Schemathesis over the whole API: every answer is documented in the OpenAPI document.

The document is the one the node serves (``server.app.openapi_document``); every
operation gets bounded, deterministic examples (positive and negative), each sent
twice to a real node on loopback (real PostgreSQL and Redis): as generated, then with a
valid Bearer token of a new account (an admin's or a guest's, by turns, so that the
admin routes and the guest's upgrade are reached, and logging out or deleting the
account in one example does not spoil the next).  Checks: no 5xx, every status
and content type documented, every body matching its schema.  The rate limits are
raised out of the way: hundreds of requests come from one address within a minute.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from schemathesis import Case

from server.app import openapi_document
from server.config import Settings
from tests.conftest import UNTHROTTLED, ThreadedNode

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260801,
        "generation": {
            "mode": "all",
            "max-examples": 30,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(limits=UNTHROTTLED)


_turn = itertools.count()


def fresh_token(node: ThreadedNode) -> str:
    """A valid token of a new account, by turns an admin's and a guest's: an example may
    log out, delete its account or upgrade its guest without spoiling the next."""
    if next(_turn) % 2:
        return node.token(node.user(guest=True), guest=True)
    return node.token(node.user("admin"), "admin")


@SCHEMA.parametrize()
def test_every_answer_is_documented(case: Case, threaded_node: ThreadedNode) -> None:
    case.call_and_validate(base_url=threaded_node.url)
    bearer = {"Authorization": f"Bearer {fresh_token(threaded_node)}"}
    case.call_and_validate(base_url=threaded_node.url, headers=bearer)

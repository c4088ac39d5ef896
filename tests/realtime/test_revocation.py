"""Revoking a session closes its live sockets on every node (1008 ``session_revoked``):
logout, refresh-token reuse, account deletion and disabling.  Two in-process nodes share
PostgreSQL and Redis; the REST call goes to node A, the sockets live on node B."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgpack
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from server.accounts.tokens import AccessClaims
from server.api.session import Revocation, revoked_key
from server.app import openapi_document
from server.config import Settings
from server.http.state import REALTIME, SIGNER
from server.types import UserId
from tests.conftest import Node
from tests.realtime.client import WAIT, Client
from tests.realtime.helpers import FAST, PASSWORD, Http, fetch, http_for, running_node
from tests.realtime.players import Player

REVOKED = (1008, "session_revoked")


@contextlib.asynccontextmanager
async def two_nodes(
    settings: Settings, database: str, redis_url: str
) -> AsyncIterator[tuple[Node, Node]]:
    s = settings.replace(match=FAST)
    async with (
        running_node(s.replace(server={"node_id": "rev-a"}), database, redis_url) as a,
        running_node(s.replace(server={"node_id": "rev-b"}), database, redis_url) as b,
    ):
        yield a, b


async def login(http: Http, handle: str) -> dict[str, Any]:
    status, body = await http.post("/api/v1/auth/login", {"handle": handle, "password": PASSWORD})
    assert status == 200, body
    result: dict[str, Any] = body
    return result


async def playing(node: Node, admin: str, user_id: str, token: str) -> Player:
    """A player seated in a running match on ``node`` (with bots)."""
    created = await http_for(node).create_match(admin, [user_id], bots=3)
    player = Player("p", user_id, token, node.url)
    await player.connect()
    await player.join(created["seats"][0]["seat_token"])
    return player


async def alive(client: Client) -> None:
    """The socket still answers."""
    mark = len(client.events)
    await client.send("ping", {"client_time": 1})
    await client.wait("pong", start=mark)


async def handshake(node: Node, token: str) -> tuple[int, str]:
    """The status and error code of a ``/ws`` handshake with ``token``."""
    async with node.http.get(
        node.url + f"/ws?token={token}",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Protocol": "quill.v1.json",
        },
    ) as resp:
        return resp.status, (await resp.json())["error"]["code"]


async def me(node: Node, token: str) -> tuple[int, str | None]:
    async with node.http.get(
        node.url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        body = await resp.json()
        return resp.status, body.get("error", {}).get("code")


async def test_logout_on_one_node_closes_the_session_s_sockets_on_another(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with two_nodes(settings, database, redis_url) as (a, b):
        http_a = http_for(a)
        admin = await http_a.admin(database)
        user = await http_a.register()
        other_session = (await login(http_a, user.handle))["access_token"]
        player = await playing(b, admin, user.id, user.token)
        second = await Client.session(b.url, user.token)  # same session, second socket
        elsewhere = await Client.session(b.url, other_session)  # the user's other session
        on_a = await Client.session(a.url, user.token)

        async with a.http.post(
            a.url + "/api/v1/auth/logout", headers={"Authorization": f"Bearer {user.token}"}
        ) as resp:
            assert resp.status == 204

        assert await player.c.wait_closed(WAIT) == REVOKED
        assert await second.wait_closed(WAIT) == REVOKED
        assert await on_a.wait_closed(WAIT) == REVOKED
        await alive(elsewhere)  # another session of the same account stays
        assert await me(a, user.token) == (401, "session_revoked")
        assert (await me(b, other_session))[0] == 200
        assert await handshake(b, user.token) == (401, "session_revoked")
        await elsewhere.close()


async def test_refresh_token_reuse_closes_the_family_s_sockets(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with two_nodes(settings, database, redis_url) as (a, b):
        http_a = http_for(a)
        user = await http_a.register()
        first = await login(http_a, user.handle)
        client = await Client.session(b.url, first["access_token"])
        status, rotated = await http_a.post(
            "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
        )
        assert status == 200
        await alive(client)  # a rotation is not a revocation
        status, body = await http_a.post(
            "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
        )
        assert (status, body["error"]["code"]) == (401, "refresh_token_reused")
        assert await client.wait_closed(WAIT) == REVOKED
        assert await me(a, rotated["access_token"]) == (401, "session_revoked")


async def seed_finished_match(database: str, user_id: str, other_id: str) -> uuid.UUID:
    """A finished match of ``user_id`` and ``other_id`` as storage leaves it."""
    match_id = uuid.uuid4()
    conn = await asyncpg.connect(database)
    try:
        await conn.execute(
            "INSERT INTO matches (id, node_id, mode, ranked, prompt_id, focus, finished_at) "
            "VALUES ($1, 'n', 'ranked', true, 'p', 'voice', now())",
            match_id,
        )
        for rank, (player, alias) in enumerate([(user_id, "Amber Otter"), (other_id, "Jade Fox")]):
            await conn.execute(
                "INSERT INTO seats (match_id, player_id, user_id, alias, is_bot, rank, score, "
                "writing, review) VALUES ($1, $2, $3, $4, false, $5, 4.0, 4.0, 4.0)",
                match_id,
                player,
                uuid.UUID(player),
                alias,
                rank + 1,
            )
            await conn.execute(
                "INSERT INTO submissions (match_id, player_id, text, words, empty, withheld, "
                "edit_log) VALUES ($1, $2, $3, 3, false, false, $4)",
                match_id,
                player,
                f"words of {alias}",
                msgpack.packb([{"at": 1.0, "seq": 1, "ops": []}]),
            )
            await conn.execute(
                "INSERT INTO piece_scores (match_id, player_id, overall, rationale, suggestions, "
                "engine, provisional) VALUES ($1, $2, 4.0, $3, '[\"more\"]', 'offline', false)",
                match_id,
                player,
                f"about {alias}",
            )
            await conn.execute(
                "INSERT INTO scores (match_id, player_id, trait, value, engine, provisional) "
                "VALUES ($1, $2, 'voice', 4, 'offline', false)",
                match_id,
                player,
            )
            await conn.execute(
                "INSERT INTO rating_history (match_id, player_id, user_id, is_bot, rank, "
                "mu_before, sigma_before, mu_after, sigma_after) "
                "VALUES ($1, $2, $3, false, $4, 25, 8, 26, 7)",
                match_id,
                player,
                uuid.UUID(player),
                rank + 1,
            )
            await conn.execute(
                "INSERT INTO ratings (user_id, mu, sigma) VALUES ($1, 26, 7)", uuid.UUID(player)
            )
        for n, (reviewer, writer) in enumerate([(user_id, other_id), (other_id, user_id)]):
            await conn.execute(
                "INSERT INTO reviews (match_id, review_id, reviewer_id, writer_id, strength, "
                "suggestion, rating, shown_strength, shown_suggestion, withheld, helpfulness, "
                "written_at) VALUES ($1, $2, $3, $4, 'strong', 'more', 4, 'strong', 'more', "
                "false, 4, now())",
                match_id,
                f"r{n}",
                reviewer,
                writer,
            )
        await conn.execute(
            "INSERT INTO replays (match_id, encoding, records, data) "
            "VALUES ($1, 'msgpack+zlib', 0, ''::bytea)",
            match_id,
        )
    finally:
        await conn.close()
    return match_id


async def test_deleting_an_account_closes_all_its_sockets_and_keeps_others_matches(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with two_nodes(settings, database, redis_url) as (a, b):
        http_a = http_for(a)
        user, other = await http_a.register(), await http_a.register()
        second_session = (await login(http_a, user.handle))["access_token"]
        match_id = await seed_finished_match(database, user.id, other.id)
        sockets = [
            await Client.session(b.url, user.token),
            await Client.session(b.url, second_session),
            await Client.session(a.url, second_session),
        ]
        bystander = await Client.session(b.url, other.token)
        url = a.url + "/api/v1/auth/me"
        auth = {"Authorization": f"Bearer {user.token}"}
        async with a.http.delete(url, headers=auth) as resp:
            assert resp.status == 422  # an account with a password must confirm it
        async with a.http.delete(url, headers=auth, json={"password": "not it at all"}) as resp:
            assert (resp.status, (await resp.json())["error"]["code"]) == (
                401,
                "invalid_credentials",
            )
        for client in sockets:
            await alive(client)
        async with a.http.delete(url, headers=auth, json={"password": PASSWORD}) as resp:
            assert resp.status == 204

        for client in sockets:
            assert await client.wait_closed(WAIT) == REVOKED
        await alive(bystander)
        await bystander.close()
        assert await me(b, second_session) == (401, "session_revoked")
        status, body = await http_a.post(
            "/api/v1/auth/login", {"handle": user.handle, "password": PASSWORD}
        )
        assert (status, body["error"]["code"]) == (401, "invalid_credentials")

        # The account is a tombstone; the handle is free again.
        (row,) = await fetch(database, "SELECT * FROM users WHERE id = $1", uuid.UUID(user.id))
        assert row["deleted_at"] is not None and row["handle"] is None
        assert row["password_hash"] is None and row["display_name"] == "Deleted player"
        await http_a.register(user.handle)
        # The match stays for the other player; the user is a pseudonym without an account.
        seats = await fetch(
            database, "SELECT * FROM seats WHERE match_id = $1 ORDER BY rank", match_id
        )
        assert [s["rank"] for s in seats] == [1, 2]
        gone, kept = seats
        assert gone["player_id"].startswith("deleted:") and gone["user_id"] is None
        assert gone["alias"] == "Amber Otter" and kept["player_id"] == other.id
        texts = await fetch(
            database,
            "SELECT player_id, text FROM submissions WHERE match_id = $1 ORDER BY player_id",
            match_id,
        )
        assert {r["player_id"]: r["text"] for r in texts} == {
            gone["player_id"]: "",
            other.id: "words of Jade Fox",
        }
        scores = await fetch(
            database, "SELECT player_id, rationale FROM piece_scores WHERE match_id = $1", match_id
        )
        assert {r["player_id"]: r["rationale"] for r in scores} == {
            gone["player_id"]: "",
            other.id: "about Jade Fox",
        }
        reviews = await fetch(
            database, "SELECT reviewer_id, writer_id FROM reviews WHERE match_id = $1", match_id
        )
        assert {(r["reviewer_id"], r["writer_id"]) for r in reviews} == {
            (gone["player_id"], other.id),
            (other.id, gone["player_id"]),
        }
        everywhere = await fetch(
            database,
            "SELECT (SELECT count(*) FROM rating_history WHERE user_id = $1) AS history, "
            "(SELECT count(*) FROM ratings WHERE user_id = $1) AS ratings, "
            "(SELECT count(*) FROM refresh_tokens WHERE user_id = $1) AS tokens, "
            "(SELECT count(*) FROM replays WHERE match_id = $2) AS replays, "
            "(SELECT count(*) FROM rating_history WHERE user_id = $3) AS others",
            uuid.UUID(user.id),
            match_id,
            uuid.UUID(other.id),
        )
        assert dict(everywhere[0]) == {
            "history": 0,
            "ratings": 0,
            "tokens": 0,
            "replays": 0,
            "others": 1,
        }
        audit = await fetch(
            database,
            "SELECT details FROM audit_log WHERE action = 'user.delete' AND actor_id = $1",
            uuid.UUID(user.id),
        )
        assert len(audit) == 1


async def test_a_guest_deletes_its_account_without_a_password(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with two_nodes(settings, database, redis_url) as (a, b):
        status, guest = await http_for(a).post("/api/v1/auth/guest", {})
        assert status == 201
        token = guest["access_token"]
        client = await Client.session(b.url, token)
        async with a.http.delete(
            a.url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 204
        assert await client.wait_closed(WAIT) == REVOKED


async def test_an_admin_disables_an_account(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with two_nodes(settings, database, redis_url) as (a, b):
        http_a = http_for(a)
        admin = await http_a.admin(database)
        user = await http_a.register()
        tokens = await login(http_a, user.handle)
        player = await playing(b, admin, user.id, user.token)
        other = await Client.session(b.url, tokens["access_token"])
        path = f"/api/v1/admin/users/{user.id}/disable"

        status, body = await http_a.post(path, {}, token=user.token)
        assert (status, body["error"]["code"]) == (403, "forbidden")
        status, body = await http_a.post(path, {"reason": "spam"}, token=admin)
        assert status == 200 and body["user_id"] == user.id and body["disabled_at"]

        assert await player.c.wait_closed(WAIT) == REVOKED
        assert await other.wait_closed(WAIT) == REVOKED
        status, again = await http_a.post(path, {}, token=admin)
        assert status == 200 and again["disabled_at"] == body["disabled_at"]
        status, body = await http_a.post(
            "/api/v1/auth/login", {"handle": user.handle, "password": PASSWORD}
        )
        assert (status, body["error"]["code"]) == (401, "invalid_credentials")
        status, body = await http_a.post(
            "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}
        )
        assert status == 401
        assert await me(a, tokens["access_token"]) == (401, "session_revoked")

        for target, code in [
            (str(uuid.uuid4()), (404, "user_not_found")),
            ("bot:1", (404, "user_not_found")),
        ]:
            status, body = await http_a.post(
                f"/api/v1/admin/users/{target}/disable", {}, token=admin
            )
            assert (status, body["error"]["code"]) == code
        audit = await fetch(database, "SELECT details FROM audit_log WHERE action = 'user.disable'")
        assert len(audit) == 2


async def test_an_admin_cannot_disable_themselves(node: Node, database: str) -> None:
    http = http_for(node)
    admin = await http.admin(database)
    async with node.http.get(
        node.url + "/api/v1/auth/me", headers={"Authorization": f"Bearer {admin}"}
    ) as resp:
        admin_id = (await resp.json())["id"]
    status, body = await http.post(f"/api/v1/admin/users/{admin_id}/disable", {}, token=admin)
    assert (status, body["error"]["code"]) == (409, "cannot_disable_self")


async def test_a_revocation_missed_while_the_channel_was_down_still_closes(
    settings: Settings, database: str, redis_url: str
) -> None:
    """The revoked key is written but its message is lost (the node's subscription was
    cut): the node re-checks its sockets when it subscribes again."""
    async with two_nodes(settings, database, redis_url) as (a, b):
        user = await http_for(a).register()
        client = await Client.session(b.url, user.token)
        hub = b.app[REALTIME]
        (conn,) = hub.by_player[user.id]  # type: ignore[index]
        redis = Redis.from_url(redis_url)
        try:
            await redis.set(revoked_key(conn.auth_session), "test", ex=60)
            await redis.client_kill_filter(_type="pubsub")
            assert await client.wait_closed(WAIT) == REVOKED
        finally:
            await redis.aclose()


def test_the_routes_declare_every_status() -> None:
    paths = openapi_document()["paths"]
    assert isinstance(paths, dict)
    delete = paths["/api/v1/auth/me"]["delete"]
    assert set(delete["responses"]) >= {"204", "401", "403", "422", "429"}
    disable = paths["/api/v1/admin/users/{user_id}/disable"]["post"]
    assert set(disable["responses"]) >= {"200", "401", "403", "404", "409"}
    assert disable["parameters"][0]["name"] == "user_id"


async def test_a_sign_in_after_an_account_revocation_is_not_refused(
    settings: Settings, database: str, redis_url: str
) -> None:
    """The node remembers an account's revocation for a while (for sockets opened by a
    token from before it that Redis has not caught up with); a token issued after it —
    a student signing in with the new code their teacher just gave them — gets in."""
    async with running_node(settings, database, redis_url) as node:
        user = await http_for(node).register()
        node.app[REALTIME].revoke(Revocation("code_reset", user_id=user.id))
        now = int(time.time())

        def token(issued_at: int) -> str:
            claims = AccessClaims(
                UserId(user.id), "player", False, str(uuid.uuid4()), issued_at, now + 900
            )
            return node.app[SIGNER].issue(claims)

        try:  # closed at once: usually before the welcome arrives
            before = await Client.session(node.url, token(now - 1))
            closed = await before.wait_closed(WAIT)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None
            closed = (exc.rcvd.code, exc.rcvd.reason)
        assert closed == REVOKED
        after = await Client.session(node.url, token(now + 1))
        await alive(after)
        await after.close()

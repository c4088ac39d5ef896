"""Deleting a teacher's prompt image, on a real node (real PostgreSQL and Redis).

``DELETE /api/v1/prompt-images/{id}``: the teacher's own (an admin: anyone's); anyone
else gets 404 as if it did not exist.  An image that a lobby that may still play it
shows (open, or closed while a round plays) is 409 ``image_in_use``; once deleted it is
no longer served, a lobby cannot pick it, and the same file uploaded again is a new
image.  Deleting the teacher's account deletes their images.  The lock that keeps a
lobby from picking an image while it is deleted is checked with two transactions.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson
import pytest

from server.config import Settings
from server.uploads import store as image_store
from tests.classes.helpers import PASSWORD, admin_token, call, error_of, ok
from tests.conftest import Node
from tests.lobbies.helpers import classroom, open_lobby, teacher
from tests.lobbies.test_images import picture, upload
from tests.realtime.helpers import fetch, running_node

UPLOAD = "/api/v1/prompt-images"


def custom(image_id: str) -> dict[str, Any]:
    return {
        "kind": "custom",
        "title": "Our garden",
        "text": "Describe the garden after the rain.",
        "image_id": image_id,
        "image_description": "Wet tomato plants in a school garden.",
    }


async def served(node: Node, image: dict[str, Any]) -> int:
    resp = await call(node, "GET", image["url"])
    return resp.status


async def new_image(node: Node, token: str, size: tuple[int, int]) -> dict[str, Any]:
    status, image = await upload(node, token, picture("PNG", size))
    assert status == 201, image
    return image


async def test_a_teacher_deletes_an_image_no_lobby_may_still_play(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(settings, database, redis_url) as node:
        room = await classroom(node, 1)
        token = room.teacher.token
        first = await new_image(node, token, (300, 200))
        second = await new_image(node, token, (200, 300))
        path = f"{UPLOAD}/{first['id']}"

        # Not theirs: no such image; not a teacher: 403; not an id: no such image.
        stranger = await teacher(node)
        resp = await call(node, "DELETE", path, stranger.token)
        assert (await error_of(resp))[:2] == (404, "image_not_found")
        resp = await call(node, "DELETE", path, room.students[0].token)
        assert (await error_of(resp))[:2] == (403, "not_a_teacher")
        for where in (f"{UPLOAD}/not-an-id", f"{UPLOAD}/{uuid.uuid4()}"):
            resp = await call(node, "DELETE", where, token)
            assert (await error_of(resp))[:2] == (404, "image_not_found")

        # The prompt of an open lobby: in use.
        lobby = await open_lobby(node, token, room.class_id, prompt=custom(first["id"]))
        status, code, details = await error_of(await call(node, "DELETE", path, token))
        assert (status, code, details) == (409, "image_in_use", {"lobby_ids": [lobby["id"]]})
        assert await served(node, first) == 200

        # Closed while a round plays: still in use until the round has ended.
        await ok(await call(node, "POST", f"/api/v1/lobbies/{lobby['id']}/close", token))
        await fetch(
            database,
            "INSERT INTO lobby_rounds (lobby_id, round, prompt_id) VALUES ($1, 1, 'custom-x')",
            uuid.UUID(lobby["id"]),
        )
        assert (await error_of(await call(node, "DELETE", path, token)))[:2] == (
            409,
            "image_in_use",
        )
        await fetch(
            database,
            "UPDATE lobby_rounds SET ended_at = now() WHERE lobby_id = $1",
            uuid.UUID(lobby["id"]),
        )

        # Deleted: no longer served or found; audited; the lobby's rules keep the name.
        resp = await call(node, "DELETE", path, token)
        assert resp.status == 204 and await resp.read() == b""
        assert await served(node, first) == 404
        assert (await error_of(await call(node, "DELETE", path, token)))[:2] == (
            404,
            "image_not_found",
        )
        (entry,) = await fetch(
            database,
            "SELECT actor_id, target_id, details FROM audit_log "
            "WHERE action = 'prompt_image.delete'",
        )
        assert (str(entry["actor_id"]), entry["target_id"]) == (room.teacher.id, first["id"])
        assert orjson.loads(entry["details"])["sha256"] == first["sha256"]
        closed = await ok(await call(node, "GET", f"/api/v1/lobbies/{lobby['id']}", token))
        assert closed["lobby"]["settings"]["prompt"]["image"] == first["image"]

        # A lobby cannot pick it any more; the same file again is a new image.
        resp = await call(
            node, "POST", "/api/v1/lobbies", token, {"settings": {"prompt": custom(first["id"])}}
        )
        assert (await error_of(resp))[:2] == (404, "image_not_found")
        again = await new_image(node, token, (300, 200))
        assert again["sha256"] == first["sha256"] and again["id"] != first["id"]

        # An admin may delete any teacher's image.
        _, admin = await admin_token(node)
        resp = await call(node, "DELETE", f"{UPLOAD}/{second['id']}", admin)
        assert resp.status == 204 and await served(node, second) == 404
        left = await fetch(
            database,
            "SELECT id FROM prompt_images WHERE teacher_id = $1",
            uuid.UUID(room.teacher.id),
        )
        assert [str(r["id"]) for r in left] == [again["id"]]


async def test_deleting_the_account_deletes_its_images(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(settings, database, redis_url) as node:
        doomed, kept = await teacher(node), await teacher(node)
        mine = [await new_image(node, doomed.token, (300 + i, 200)) for i in range(2)]
        theirs = await new_image(node, kept.token, (300, 200))  # the same file, another owner
        assert theirs["sha256"] == mine[0]["sha256"]
        await open_lobby(node, doomed.token, None, prompt=custom(mine[0]["id"]))  # open still
        resp = await call(node, "DELETE", "/api/v1/auth/me", doomed.token, {"password": PASSWORD})
        assert resp.status == 204
        assert not await fetch(
            database,
            "SELECT 1 FROM prompt_images WHERE teacher_id = $1",
            uuid.UUID(doomed.id),
        )
        assert [await served(node, image) for image in mine] == [404, 404]
        assert await served(node, theirs) == 200


async def test_a_lobby_picking_an_image_holds_it_from_deletion(
    settings: Settings, database: str, redis_url: str
) -> None:
    """The REST handlers pick an image with ``info(hold=True)`` in the transaction that
    writes the lobby: a deletion must wait for that transaction (its row lock is held,
    shown without waiting by NOWAIT), and once the lobby is committed it is refused."""
    async with running_node(settings, database, redis_url) as node:
        who = await teacher(node)
        image = await new_image(node, who.token, (300, 200))
        picking, deleting = await asyncpg.connect(database), await asyncpg.connect(database)
        try:
            pick = picking.transaction()
            await pick.start()
            assert await image_store.info(picking, image["id"], hold=True) is not None
            with pytest.raises(asyncpg.LockNotAvailableError):
                async with deleting.transaction():  # the lock image_store.delete takes
                    await deleting.execute(
                        "SELECT 1 FROM prompt_images WHERE id = $1 FOR UPDATE NOWAIT",
                        uuid.UUID(image["id"]),
                    )
            settings_json = orjson.dumps({"prompt": {"image_id": image["id"]}}).decode()
            await picking.execute(
                "INSERT INTO lobbies (teacher_id, name, code, settings, node_id) "
                "VALUES ($1, 'Lobby', 'ABCDEF', $2::jsonb, 'n1')",
                uuid.UUID(who.id),
                settings_json,
            )
            await pick.commit()
            with pytest.raises(image_store.ImageInUse):
                async with deleting.transaction():
                    await image_store.delete(deleting, image["id"])
        finally:
            await picking.close()
            await deleting.close()
        assert await served(node, image) == 200

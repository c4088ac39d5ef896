"""``GET /api/v1/prompts``: the pack for a teacher choosing a prompt, on a real node.

Every prompt of ``content/prompts/prompts.toml`` in file order, with the fields the
OpenAPI document names; ``?level=`` filters; each id listed is one a lobby's rules
accept (and each level); a teacher's uploaded image is not a prompt of the pack; only
teachers and admins may read it.
"""

from __future__ import annotations

from typing import Any

from server.ai.content import load_prompts
from server.app import openapi_document
from server.config import Settings
from server.lobbies.rules import LEVELS
from tests.classes.helpers import admin_token, call, error_of, ok, register
from tests.lobbies.helpers import classroom, open_lobby
from tests.lobbies.test_images import picture, upload
from tests.realtime.helpers import running_node

PACK = load_prompts()
FIELDS = {"id", "title", "text", "level", "focus", "image", "url", "image_description"}


def test_the_document_declares_the_route_and_its_level() -> None:
    op = openapi_document()["paths"]["/api/v1/prompts"]["get"]  # type: ignore[index]
    (level,) = op["parameters"]
    assert (level["name"], level["in"], level["required"]) == ("level", "query", False)
    assert level["schema"]["enum"] == list(LEVELS)
    item = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert set(item["items"]["items"]["required"]) == FIELDS
    assert {"401", "403", "422", "429"} <= set(op["responses"])


async def test_a_teacher_reads_the_pack(settings: Settings, database: str, redis_url: str) -> None:
    async with running_node(settings, database, redis_url) as node:
        room = await classroom(node, 1)
        token = room.teacher.token
        status, image = await upload(node, token, picture("PNG", (300, 200)))
        assert status == 201

        listed: list[dict[str, Any]] = (
            await ok(await call(node, "GET", "/api/v1/prompts", token))
        )["items"]
        assert [p["id"] for p in listed] == list(PACK)  # every prompt, in file order
        for item in listed:
            prompt = PACK[item["id"]]
            assert set(item) == FIELDS
            assert item == {
                "id": prompt.id,
                "title": prompt.title,
                "text": prompt.text,
                "level": prompt.level,
                "focus": prompt.focus.value,
                "image": prompt.image,
                "url": f"/prompts/{prompt.image}",
                "image_description": prompt.image_description,
            }
            resp = await call(node, "GET", item["url"])  # served where the item says
            assert resp.status == 200 and resp.content_type == "image/svg+xml"
        assert image["id"] not in {p["id"] for p in listed}
        assert image["image"] not in {p["image"] for p in listed}  # not the teacher's own

        # Every id and level listed is one a lobby may pick.
        choices = [{"kind": "pack", "id": p["id"]} for p in listed[:3]]
        choices += [{"kind": "level", "level": level} for level in {p["level"] for p in listed}]
        for choice in choices:
            lobby = await open_lobby(node, token, None, prompt=choice)
            assert {k: lobby["settings"]["prompt"][k] for k in choice} == choice
            await ok(await call(node, "POST", f"/api/v1/lobbies/{lobby['id']}/close", token))

        # ?level=: exactly that level's prompts, in order; a level with none is empty.
        seen = 0
        for level in LEVELS:
            resp = await call(node, "GET", f"/api/v1/prompts?level={level}", token)
            items = (await ok(resp))["items"]
            assert [p["id"] for p in items] == [p.id for p in PACK.values() if p.level == level]
            seen += len(items)
        assert seen == len(PACK)
        for bad in ("phd", "", "MIDDLE"):
            resp = await call(node, "GET", "/api/v1/prompts", token, params={"level": bad})
            status, code, details = await error_of(resp)
            assert (status, code) == (422, "validation_failed") and "level" in details["fields"]

        # Teachers and admins only.
        _, admin = await admin_token(node)
        assert len((await ok(await call(node, "GET", "/api/v1/prompts", admin)))["items"]) == len(
            PACK
        )
        guest = await ok(await node.post("/api/v1/auth/guest", {}), 201)
        for who in (
            room.students[0].token,
            (await register(node))["access_token"],
            guest["access_token"],
        ):
            resp = await call(node, "GET", "/api/v1/prompts", who)
            assert (await error_of(resp))[:2] == (403, "not_a_teacher")
        resp = await call(node, "GET", "/api/v1/prompts")
        assert (await error_of(resp))[:2] == (401, "missing_token")

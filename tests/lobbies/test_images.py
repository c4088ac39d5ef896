"""A teacher's own prompt image, on a real node: uploaded, checked by content, re-encoded,
served with safe headers, picked by a lobby's custom prompt, shown to the students.

Every image here is made with Pillow in the test.  What must be refused is refused with
its own code, never a 5xx: an SVG, an HTML page sent as ``photo.png`` with
``Content-Type: image/png``, a GIF, a truncated PNG, a PNG whose header claims a
decompression bomb's size, and any bytes at all (hypothesis, against a node on its own
loop driven by a blocking client).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from server.config import Settings
from server.uploads.images import ImageLimits, ImageRefused, reencode
from tests.classes.helpers import bearer, call, ok
from tests.conftest import UNTHROTTLED, Node, ThreadedNode
from tests.lobbies.helpers import (
    FAST_LOBBY,
    acked,
    classroom,
    join,
    lobby_settings,
    teacher,
    watch,
)
from tests.realtime.helpers import running_node
from tests.realtime.players import gather

UPLOAD = "/api/v1/prompt-images"
MAX_BYTES = 256 * 1024
ERROR_KEYS = {"code", "message", "details", "request_id"}


@pytest.fixture
def settings() -> Settings:
    return Settings().replace(lobbies={"image_max_bytes": MAX_BYTES})


def drawn(size: tuple[int, int]) -> Image.Image:
    """Colour gradients: small as a PNG, yet not one flat colour."""
    across = Image.linear_gradient("L").resize(size)
    around = Image.radial_gradient("L").resize(size)
    back = across.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return Image.merge("RGB", (across, around, back))


def picture(fmt: str, size: tuple[int, int] = (2000, 1000), mode: str = "RGB", **kw: Any) -> bytes:
    image = drawn(size).convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    """A 400×200 JPEG taken "sideways" (Orientation 6) with a camera name and a GPS tag."""
    image = drawn((400, 200))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS IFD: somewhere in London
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"my home address")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ms Secret")
    info.add_text("Comment", "12 Home Street")
    image = drawn((300, 300)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((300, 300)))  # see-through at the top
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height``: a decompression bomb's shape."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + png_chunk(b"IEND", b"")
    )


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, format="GIF")
    return out.getvalue()


async def upload(
    node: Node, token: str, data: bytes, content_type: str = "application/octet-stream"
) -> tuple[int, Any]:
    resp = await node.post(
        UPLOAD, data=data, headers={**bearer(token), "Content-Type": content_type}
    )
    body = await resp.json()
    return resp.status, body


async def uploaded(node: Node, token: str, data: bytes) -> dict[str, Any]:
    status, body = await upload(node, token, data)
    assert status == 201, body
    return dict(body)


@pytest.mark.parametrize(
    ("fmt", "kw"), [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {"quality": 90})]
)
async def test_png_jpeg_and_webp_are_stored_re_encoded(
    node: Node, fmt: str, kw: dict[str, Any]
) -> None:
    who = await teacher(node)
    sent = picture(fmt, (2000, 1000), **kw)
    assert len(sent) < MAX_BYTES
    image = await uploaded(node, who.token, sent)
    assert image["content_type"] == "image/webp"
    assert (image["width"], image["height"]) == (1600, 800)  # scaled to the display size
    assert image["image"] == f"{image['id']}.webp" and image["url"] == f"/prompts/{image['image']}"

    resp = await node.get(image["url"])
    assert resp.status == 200
    body = await resp.read()
    assert body != sent and hashlib.sha256(body).hexdigest() == image["sha256"]
    assert len(body) == image["bytes"]
    with Image.open(io.BytesIO(body)) as served:
        assert served.format == "WEBP" and served.size == (1600, 800)

    # The same file again is the same image, not a second copy.
    status, again = await upload(node, who.token, sent, "image/png")
    assert status == 200 and again["id"] == image["id"]


async def test_metadata_is_gone_and_the_photo_is_upright(node: Node) -> None:
    who = await teacher(node)
    photo = await uploaded(node, who.token, jpeg_with_exif())
    assert (photo["width"], photo["height"]) == (200, 400)  # turned by its Orientation
    body = await (await node.get(photo["url"])).read()
    assert b"SecretCam" not in body and b"home address" not in body and b"Exif" not in body
    with Image.open(io.BytesIO(body)) as served:
        assert (
            not served.getexif() and "exif" not in served.info and "icc_profile" not in served.info
        )

    drawing = await uploaded(node, who.token, png_with_text())
    body = await (await node.get(drawing["url"])).read()
    assert b"Ms Secret" not in body and b"Home Street" not in body
    with Image.open(io.BytesIO(body)) as served:
        assert served.mode == "RGBA" and served.size == (300, 300)  # transparency kept


async def test_the_served_image_has_safe_headers(node: Node) -> None:
    who = await teacher(node)
    image = await uploaded(node, who.token, picture("PNG", (64, 48)))
    resp = await node.get(image["url"])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/webp"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["ETag"] == f'"{image["sha256"]}"'
    cached = await node.get(image["url"], headers={"If-None-Match": resp.headers["ETag"]})
    assert cached.status == 304
    # Another extension, an unknown id, a name that is not an id: no such image.
    for bad in (
        image["url"].replace(".webp", ".png"),
        "/prompts/3f1c2a9e-0000-4000-8000-000000000000.webp",
        "/prompts/" + image["id"],
    ):
        assert (await node.get(bad)).status == 404, bad


REFUSED = [
    (
        "svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        415,
        "unsupported_image",
    ),
    (
        "html named .png",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        415,
        "unsupported_image",
    ),
    ("gif", gif(), 415, "unsupported_image"),
    ("text", b"hello", 415, "unsupported_image"),
    ("truncated png", picture("PNG", (300, 300))[:400], 422, "invalid_image"),
    ("truncated jpeg", picture("JPEG", (300, 300))[:300], 422, "invalid_image"),
    ("webp signature only", b"RIFF\0\0\0\0WEBPVP8 ", 422, "invalid_image"),
    ("bomb header", png_claiming(100_000, 100_000), 422, "image_too_many_pixels"),
    ("too wide", png_claiming(5000, 10), 422, "image_too_many_pixels"),
]


@pytest.mark.parametrize(("what", "data", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_what_is_not_a_clean_image_is_refused_with_its_code(
    node: Node, what: str, data: bytes, status: int, code: str
) -> None:
    who = await teacher(node)
    headers = {
        **bearer(who.token),
        "Content-Type": "image/png",  # the header lies: it changes nothing
        "Content-Disposition": 'attachment; filename="photo.png"',
    }
    resp = await node.post(UPLOAD, data=data, headers=headers)
    body = await resp.json()
    assert resp.status == status, body
    assert set(body["error"]) == ERROR_KEYS and body["error"]["code"] == code


async def test_size_limits_and_who_may_upload(node: Node) -> None:
    who = await teacher(node)
    status, body = await upload(node, who.token, b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_BYTES)
    assert status == 413 and body["error"]["code"] == "image_too_large"
    assert body["error"]["details"]["max_bytes"] == MAX_BYTES

    async def chunked() -> Any:  # no Content-Length: refused as it passes the limit
        for _ in range(MAX_BYTES // 4096 + 2):
            yield b"\xff" * 4096

    resp = await node.post(UPLOAD, data=chunked(), headers=bearer(who.token))
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "image_too_large"

    status, body = await upload(node, who.token, b"")
    assert status == 400 and body["error"]["code"] == "missing_body"
    assert (await node.post(UPLOAD, data=picture("PNG", (10, 10)))).status == 401
    student = (await classroom(node, 1)).students[0]
    status, body = await upload(node, student.token, picture("PNG", (10, 10)))
    assert status == 403 and body["error"]["code"] == "not_a_teacher"


def custom_prompt(image_id: Any, alt: str | None = "Our garden after the rain.") -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "kind": "custom",
        "title": "The school garden",
        "text": "Describe the garden in the picture.",
        "image_id": image_id,
    }
    if alt is not None:
        prompt["image_description"] = alt
    return prompt


async def test_a_lobby_takes_only_its_teachers_own_image(node: Node) -> None:
    alice, bob = await teacher(node), await teacher(node)
    image = await uploaded(node, alice.token, picture("JPEG", (640, 480)))

    resp = await call(
        node,
        "POST",
        "/api/v1/lobbies",
        bob.token,
        {"settings": {"prompt": custom_prompt(image["id"])}},
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "image_not_found"
    mine = await ok(await call(node, "POST", "/api/v1/lobbies", bob.token, {}), 201)
    resp = await call(
        node,
        "PATCH",
        f"/api/v1/lobbies/{mine['id']}",
        bob.token,
        {"settings": {"prompt": custom_prompt(image["id"])}},
    )
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "image_not_found"

    for prompt, where in (
        (custom_prompt(image["id"], alt=None), "settings.prompt.image_description"),
        (custom_prompt(image["id"], alt="  "), "settings.prompt.image_description"),
        (custom_prompt("not-a-uuid"), "settings.prompt.image_id"),
        (custom_prompt(7), "settings.prompt.image_id"),
        ({**custom_prompt(None), "image": image["image"]}, "settings.prompt.image"),
    ):
        resp = await call(
            node, "POST", "/api/v1/lobbies", alice.token, {"settings": {"prompt": prompt}}
        )
        body = await resp.json()
        assert resp.status == 422 and where in body["error"]["details"]["fields"], body

    lobby = await ok(
        await call(
            node,
            "POST",
            "/api/v1/lobbies",
            alice.token,
            {"settings": {"prompt": custom_prompt(image["id"].upper())}},
        ),
        201,
    )
    prompt = lobby["settings"]["prompt"]
    assert prompt["image_id"] == image["id"] and prompt["image"] == image["image"]
    # Changing something else keeps the image; a custom prompt without one drops it.
    patched = await ok(
        await call(
            node,
            "PATCH",
            f"/api/v1/lobbies/{lobby['id']}",
            alice.token,
            {"settings": {"focus": "voice"}},
        )
    )
    assert patched["settings"]["prompt"]["image"] == image["image"]
    patched = await ok(
        await call(
            node,
            "PATCH",
            f"/api/v1/lobbies/{lobby['id']}",
            alice.token,
            {"settings": {"prompt": custom_prompt(None, alt="")}},
        )
    )
    assert patched["settings"]["prompt"]["image"] == ""


async def test_the_students_match_shows_the_teachers_image(
    settings: Settings, database: str, redis_url: str
) -> None:
    async with running_node(lobby_settings(settings), database, redis_url) as node:
        room = await classroom(node, 4)
        image = await uploaded(node, room.teacher.token, picture("PNG", (800, 600)))
        body = {
            "class_id": room.class_id,
            "settings": {**FAST_LOBBY, "prompt": custom_prompt(image["id"])},
        }
        lobby = await ok(await call(node, "POST", "/api/v1/lobbies", room.teacher.token, body), 201)
        teacher_socket = await watch(node, room.teacher.token, lobby["id"])
        await gather(*(join(p, lobby["code"]) for p in room.students))
        await teacher_socket.until(lambda: len(teacher_socket.all("lobby.member")) >= 4)
        await acked(teacher_socket, "teacher.start")
        await acked(teacher_socket, "teacher.pause")  # the write phase opens with the clock still
        seats = await gather(*(p.c.wait("lobby.seat") for p in room.students))
        await gather(
            *(p.join(s["d"]["seat_token"]) for p, s in zip(room.students, seats, strict=True))
        )
        for p in room.students:
            await p.ready()
        reveals = await gather(*(p.c.wait("match.prompt") for p in room.students))
        for reveal in reveals:
            prompt = reveal["d"]["prompt"]
            assert prompt["image"] == image["image"]
            assert prompt["image_description"] == "Our garden after the rain."
            assert prompt["title"] == "The school garden"
        # A student who comes back gets it in the match.state snapshot too, and the file
        # is where the client looks for it (/prompts/<image>).
        student = room.students[0]
        await student.c.close()
        await student.connect()
        state = (await student.c.wait("match.state"))["d"]
        assert state["prompt"]["image"] == image["image"]
        resp = await node.get(f"/prompts/{state['prompt']['image']}")
        assert resp.status == 200 and resp.content_type == "image/webp"


# --- any bytes at all ------------------------------------------------------------------


LIMITS = ImageLimits(max_side=512, max_pixels=100_000, display_px=256)
SIGNATURES = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP", b"GIF89a", b"<svg", b""]
anything = st.one_of(
    st.binary(max_size=2048),
    st.tuples(st.sampled_from(SIGNATURES), st.binary(max_size=2048)).map(b"".join),
    st.tuples(
        st.sampled_from(
            [picture("PNG", (40, 30)), picture("JPEG", (40, 30)), picture("WEBP", (40, 30))]
        ),
        st.integers(0, 4000),
        st.binary(max_size=16),
    ).map(lambda t: t[0][: t[1]] + t[2]),
)


@hsettings(max_examples=300, deadline=None)
@given(data=anything)
def test_any_bytes_are_an_image_or_a_named_refusal(data: bytes) -> None:
    try:
        image = reencode(data, LIMITS)
    except ImageRefused as refused:
        assert refused.code in {"unsupported_image", "invalid_image", "image_too_many_pixels"}
        assert refused.status in (415, 422)
        return
    assert max(image.width, image.height) <= 256
    with Image.open(io.BytesIO(image.data)) as again:
        assert again.format == "WEBP"


@pytest.fixture(scope="module")
def module_settings() -> Settings:
    return Settings().replace(
        limits=UNTHROTTLED,
        lobbies={"writes_per_account_per_minute": 100_000, "image_max_bytes": 64 * 1024},
    )


def send(node: ThreadedNode, token: str, body: bytes) -> tuple[int, Any]:
    url = urlsplit(node.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/png"}
        conn.request("POST", UPLOAD, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, orjson.loads(resp.read())
    finally:
        conn.close()


@hsettings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=anything)
def test_any_bytes_over_http_never_a_server_error(threaded_node: ThreadedNode, data: bytes) -> None:
    token = threaded_node.token(threaded_node.user("teacher"), "teacher")
    status, body = send(threaded_node, token, data)
    assert status < 500, body
    if status in (200, 201):
        assert body["content_type"] == "image/webp"
        return
    assert set(body["error"]) == ERROR_KEYS
    assert (status, body["error"]["code"]) in {
        (400, "missing_body"),
        (415, "unsupported_image"),
        (422, "invalid_image"),
        (422, "image_too_many_pixels"),
    }, body

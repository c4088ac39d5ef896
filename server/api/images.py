"""``POST /api/v1/prompt-images``: a teacher uploads an image for their custom prompts;
``DELETE /api/v1/prompt-images/{image_id}`` deletes one.

The body is the image file itself (not JSON, not a multipart form).  What it is is read
from its bytes (:mod:`server.uploads.images`): PNG, JPEG or WebP, at most
``lobbies.image_max_bytes`` (413 ``image_too_large``, refused from ``Content-Length``
before the body is read, or as soon as a chunked body passes it), at most
``lobbies.image_max_side`` × … and ``lobbies.image_max_pixels`` pixels.  It is stored
re-encoded (WebP, no metadata, at most ``lobbies.image_display_px`` on its longer side)
and served at ``/prompts/<id>.webp`` (``server/webapp.py``), which is what a custom
prompt's ``image`` names once a lobby's rules pick it with ``image_id``.

Decoding and encoding are CPU work (up to a second for a large photo): they run in a
thread (``asyncio.to_thread``), at most :data:`DECODERS` at once per node so that a burst
of uploads cannot take every core or hold many decoded bitmaps in memory (a 16-megapixel
RGBA bitmap is 64 MB).  A thread rather than the AI process pool: Pillow drops the GIL
while it decodes, resizes and encodes, the bytes need not be copied to another process,
and uploads neither wait behind nor delay the scoring at a phase change.

Who may fetch an image: anyone with its address.  The id is a random uuid (v4, 122 random
bits), given only to the teacher who uploaded it and, through the prompt, to the players of
the matches that use it; an ``<img>`` cannot send the Bearer token, so the address itself is
the permission (``docs/lobbies.md``).

Deleting: the teacher's own image (an admin: anyone's); anyone else's is 404
``image_not_found``, as if it did not exist.  An image that is the prompt of a lobby that
may still play it — open, or closed while its round plays — is refused with 409
``image_in_use`` (``details.lobby_ids``): a round about to start, or playing, would show
the class a broken image.  Lobbies that closed keep their rules as they were (the image's
file name): their results and replays show the image as gone.  Deleting the account
deletes its images too (``server/accounts/store.py``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from server.accounts import store as accounts
from server.api.caller import current_user
from server.classes import store as cstore
from server.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from server.http import ratelimit
from server.http.body import ClientAborted, RequestTimeout
from server.http.middleware import client_ip, request_id
from server.http.openapi import Api, Schema
from server.http.state import PG, SETTINGS
from server.uploads import images
from server.uploads import store as image_store

api = Api()

UPLOAD_PATH = "/api/v1/prompt-images"
DECODERS = 2
"""Uploads decoded at once per node; more wait their turn."""
SLOTS: web.AppKey[asyncio.Semaphore] = web.AppKey("image_decoders")
MEDIA_TYPES = ("application/octet-stream", "image/png", "image/jpeg", "image/webp")
"""What the document offers to send; the server does not trust the header either way."""

IMAGE: Schema = {
    "type": "object",
    "required": ["id", "image", "url", "content_type", "bytes", "width", "height", "sha256"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "use as image_id"},
        "image": {"type": "string", "description": "the file name a prompt's image holds"},
        "url": {"type": "string", "description": "where it is served: /prompts/<image>"},
        "content_type": {"type": "string", "enum": ["image/webp", "image/png"]},
        "bytes": {"type": "integer"},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "sha256": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "the image file itself (PNG, JPEG or WebP; recognised by its bytes, "
    "whatever the Content-Type), at most lobbies.image_max_bytes",
    "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES},
}


def describe(document: dict[str, Any]) -> None:
    """Put the upload's binary body into the OpenAPI document (``Api`` describes JSON
    bodies only; the route is declared without one)."""
    document["paths"][UPLOAD_PATH]["post"]["requestBody"] = REQUEST_BODY


def _too_large(max_bytes: int, length: int | None = None) -> ApiError:
    said = f"{length} bytes" if length is not None else f"over {max_bytes} bytes"
    return ApiError(
        f"the image is {said}; the limit is {max_bytes} (lobbies.image_max_bytes)",
        code="image_too_large",
        status=413,
        details={"max_bytes": max_bytes},
    )


async def _read(request: web.Request, max_bytes: int) -> bytes:
    """The body, refused at once when it says or turns out to be over ``max_bytes``."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise _too_large(max_bytes, length)
    if not request.body_exists:
        raise BadRequest("send the image file as the request body", code="missing_body")
    seconds = request.app[SETTINGS].server.request_read_seconds
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise _too_large(max_bytes)
    except TimeoutError:
        if request.transport is None or request.transport.is_closing():
            raise ClientAborted("the connection closed while the image was read") from None
        raise RequestTimeout(
            f"the request body did not arrive within {seconds:g} s",
            details={"read_seconds": seconds},
        ) from None
    except (ConnectionError, HttpProcessingError, web.RequestPayloadError) as exc:
        raise ClientAborted(str(exc)) from None
    if not body:
        raise BadRequest("send the image file as the request body", code="missing_body")
    return bytes(body)


def _limits(request: web.Request) -> images.ImageLimits:
    s = request.app[SETTINGS].lobbies
    return images.ImageLimits(
        max_side=s.image_max_side, max_pixels=s.image_max_pixels, display_px=s.image_display_px
    )


async def reencode(
    app: web.Application, data: bytes, limits: images.ImageLimits
) -> images.StoredImage:
    """:func:`images.reencode` in a thread, at most :data:`DECODERS` at once."""
    async with app[SLOTS]:
        return await asyncio.to_thread(images.reencode, data, limits)


@api.route(
    "POST",
    UPLOAD_PATH,
    summary="Upload an image for your custom prompts (teachers and admins); the body is "
    "the PNG, JPEG or WebP file, stored re-encoded",
    tag="lobbies",
    auth=True,
    responses={
        200: ("you had uploaded this same image already: that one", IMAGE),
        201: ("the stored image: pick it with a custom prompt's image_id", IMAGE),
        400: ("no body (missing_body)", None),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
        408: ("the body did not arrive within server.request_read_seconds", None),
        409: ("lobbies.images_per_teacher images are stored (too_many_images)", None),
        413: ("larger than lobbies.image_max_bytes (image_too_large)", None),
        415: ("not a PNG, JPEG or WebP by its content (unsupported_image)", None),
        422: (
            "a damaged image (invalid_image), or too many pixels (image_too_many_pixels)",
            None,
        ),
        429: ("rate limited (lobbies.write or the per-address limit); see Retry-After", None),
    },
)
async def upload_prompt_image(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in ("teacher", "admin"):
        raise Forbidden("only teachers and admins upload prompt images", code="not_a_teacher")
    settings = request.app[SETTINGS]
    await ratelimit.per_account(
        request, "lobbies.write", caller.id, settings.lobbies.writes_per_account_per_minute
    )
    data = await _read(request, settings.lobbies.image_max_bytes)
    pg = request.app[PG]
    limit = settings.lobbies.images_per_teacher
    if await image_store.count(pg, caller.id) >= limit:
        raise Conflict(
            f"a teacher may keep at most {limit} prompt images",
            code="too_many_images",
            details={"limit": limit},
        )
    try:
        clean = await reencode(request.app, data, _limits(request))
    except images.ImageRefused as refused:
        raise ApiError(
            refused.message, code=refused.code, status=refused.status, details=refused.details
        ) from None
    try:
        stored, new = await image_store.save(pg, caller.id, clean)
    except image_store.OwnerGone:
        raise Unauthorized("this account no longer exists", code="invalid_token") from None
    if new:
        await accounts.audit(
            pg,
            "prompt_image.create",
            actor_id=caller.id,
            target_type="prompt_image",
            target_id=stored.id,
            details={
                "source": clean.source,
                "uploaded_bytes": len(data),
                "bytes": stored.size,
                "width": stored.width,
                "height": stored.height,
            },
            request_id=request_id(request),
            ip=client_ip(request),
        )
    return web.json_response(stored.public(), status=201 if new else 200)


async def owned_image(
    db: image_store.Db, image_id: str, owners: set[str], *, hold: bool = False
) -> image_store.ImageInfo:
    """The image ``image_id`` when one of ``owners`` uploaded it; 404 ``image_not_found``
    otherwise (someone else's image does not exist for you).  ``hold``: kept from being
    deleted until ``db``'s transaction ends (:func:`image_store.info`)."""
    found = await image_store.info(db, image_id, hold=hold)
    if found is None or found.teacher_id not in owners:
        raise NotFound(
            "no such image among those you uploaded (POST /api/v1/prompt-images)",
            code="image_not_found",
            details={"field": "settings.prompt.image_id"},
        )
    return found


@api.route(
    "DELETE",
    UPLOAD_PATH + "/{image_id}",
    summary="Delete one of your prompt images (teachers and admins; admins: anyone's), "
    "unless a lobby that may still play it shows it",
    tag="lobbies",
    auth=True,
    responses={
        204: ("deleted: /prompts/<image> answers 404 from now on", None),
        403: ("not a teacher (not_a_teacher), or a bot token", None),
        404: ("no such image among yours (image_not_found)", None),
        409: (
            "the prompt of a lobby that is open, or closed while a round plays "
            "(image_in_use; details.lobby_ids): change its prompt or close it first",
            None,
        ),
        429: ("rate limited (lobbies.write or the per-address limit); see Retry-After", None),
    },
)
async def delete_prompt_image(request: web.Request) -> web.Response:
    caller = await current_user(request)
    if caller.role not in ("teacher", "admin"):
        raise Forbidden("only teachers and admins have prompt images", code="not_a_teacher")
    await ratelimit.per_account(
        request,
        "lobbies.write",
        caller.id,
        request.app[SETTINGS].lobbies.writes_per_account_per_minute,
    )
    missing = NotFound(
        "no such image among those you uploaded (POST /api/v1/prompt-images)",
        code="image_not_found",
    )
    image_id = cstore.as_uuid(request.match_info["image_id"])
    if image_id is None:
        raise missing
    async with request.app[PG].acquire() as conn, conn.transaction():
        found = await image_store.info(conn, str(image_id))
        if found is None or not (caller.role == "admin" or found.teacher_id == caller.id):
            raise missing
        try:
            deleted = await image_store.delete(conn, found.id)
        except image_store.ImageInUse as in_use:
            raise Conflict(
                "a lobby that may still play this image shows it in its prompt: change that "
                "lobby's prompt, or close it, first",
                code="image_in_use",
                details={"lobby_ids": in_use.lobby_ids},
            ) from None
        if deleted is None:  # deleted meanwhile by another request
            raise missing
        await accounts.audit(
            conn,
            "prompt_image.delete",
            actor_id=caller.id,
            target_type="prompt_image",
            target_id=deleted.id,
            details={"teacher_id": deleted.teacher_id, "sha256": deleted.sha256},
            request_id=request_id(request),
            ip=client_ip(request),
        )
    return web.Response(status=204)

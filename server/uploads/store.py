"""SQL for prompt images (asyncpg); see migrations/0007_prompt_images.sql."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from server.uploads.images import EXTENSION, StoredImage

Db: TypeAlias = asyncpg.Connection | asyncpg.Pool
FILE_NAME = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.(\w+)$"
)
"""An uploaded image's file name, ``<uuid4>.webp``: what ``Prompt.image`` holds and what
``/prompts/{name}`` serves (the pack's own images are named by word, never like this)."""
EXTENSIONS = {"image/webp": "webp", "image/png": "png"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    id: str
    teacher_id: str
    created_at: datetime
    content_type: str
    size: int
    width: int
    height: int
    sha256: str

    @property
    def file_name(self) -> str:
        return f"{self.id}.{EXTENSIONS.get(self.content_type, EXTENSION)}"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "image": self.file_name,
            "url": f"/prompts/{self.file_name}",
            "content_type": self.content_type,
            "bytes": self.size,
            "width": self.width,
            "height": self.height,
            "sha256": self.sha256,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> ImageInfo:
        return cls(
            id=str(row["id"]),
            teacher_id=str(row["teacher_id"]),
            created_at=row["created_at"],
            content_type=row["content_type"],
            size=row["size"],
            width=row["width"],
            height=row["height"],
            sha256=row["sha256"],
        )


_INFO = (
    "id, teacher_id, created_at, content_type, octet_length(bytes) AS size, width, height, sha256"
)


async def count(db: Db, teacher_id: str) -> int:
    found: int = await db.fetchval(
        "SELECT count(*) FROM prompt_images WHERE teacher_id = $1", uuid.UUID(teacher_id)
    )
    return found


class OwnerGone(Exception):
    """The uploading account was deleted while its image was being stored."""


async def save(db: Db, teacher_id: str, image: StoredImage) -> tuple[ImageInfo, bool]:
    """The stored image and whether it is new (the teacher's same file again is not).

    Stored only for a live account, whose row is held while the image is written: an
    account being deleted at the same moment either deletes the image with it or is
    seen as gone (:class:`OwnerGone`), never leaves an image behind."""
    for _ in range(3):
        row = await db.fetchrow(
            "INSERT INTO prompt_images (teacher_id, content_type, bytes, width, height, sha256) "
            "SELECT u.id, $2, $3, $4, $5, $6 FROM users u "
            "WHERE u.id = $1 AND u.deleted_at IS NULL FOR KEY SHARE "
            f"ON CONFLICT (teacher_id, sha256) DO NOTHING RETURNING {_INFO}",
            uuid.UUID(teacher_id),
            image.content_type,
            image.data,
            image.width,
            image.height,
            image.sha256,
        )
        if row is not None:
            return ImageInfo.from_row(row), True
        row = await db.fetchrow(
            f"SELECT {_INFO} FROM prompt_images WHERE teacher_id = $1 AND sha256 = $2",
            uuid.UUID(teacher_id),
            image.sha256,
        )
        if row is not None:
            return ImageInfo.from_row(row), False
        live = await db.fetchval(
            "SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL", uuid.UUID(teacher_id)
        )
        if live is None:
            raise OwnerGone
        # The same image was deleted between the two statements: store it anew.
    raise RuntimeError("the image was deleted again and again while it was stored")


async def info(db: Db, image_id: str, *, hold: bool = False) -> ImageInfo | None:
    """The image, or None.  ``hold`` (inside a transaction): it cannot be deleted until
    the transaction ends (:func:`delete` waits), so a lobby that picks it while it is
    being deleted either sees it gone or keeps it."""
    lock = " FOR KEY SHARE" if hold else ""
    row = await db.fetchrow(
        f"SELECT {_INFO} FROM prompt_images WHERE id = $1{lock}", uuid.UUID(image_id)
    )
    return None if row is None else ImageInfo.from_row(row)


IN_USE = (
    "SELECT l.id FROM lobbies l WHERE l.settings -> 'prompt' ->> 'image_id' = $1 "
    "AND (l.closed_at IS NULL OR EXISTS (SELECT 1 FROM lobby_rounds r "
    "WHERE r.lobby_id = l.id AND r.ended_at IS NULL)) ORDER BY l.created_at, l.id"
)
"""The lobbies whose prompt shows the image and that may still play it: not closed, or
closed while a round plays (the round ends on its own, its prompt showing the image)."""


class ImageInUse(Exception):
    """The image is the prompt of lobbies that may still play it (``lobby_ids``)."""

    def __init__(self, lobby_ids: list[str]) -> None:
        super().__init__(f"the prompt image is in use by {len(lobby_ids)} lobbies")
        self.lobby_ids = lobby_ids


async def delete(conn: asyncpg.Connection, image_id: str) -> ImageInfo | None:
    """Delete the image (the one stored copy of its file) unless a lobby that may still
    play it shows it (:class:`ImageInUse`); what was deleted, or None when there was no
    such image.  Call inside a transaction: the row is locked first, so a lobby picking
    the image at the same moment (:func:`info` with ``hold``) is seen."""
    row = await conn.fetchrow(
        f"SELECT {_INFO} FROM prompt_images WHERE id = $1 FOR UPDATE", uuid.UUID(image_id)
    )
    if row is None:
        return None
    found = ImageInfo.from_row(row)
    using = [str(r["id"]) for r in await conn.fetch(IN_USE, found.id)]
    if using:
        raise ImageInUse(using)
    await conn.execute("DELETE FROM prompt_images WHERE id = $1", uuid.UUID(image_id))
    return found


async def by_file_name(db: Db, name: str) -> tuple[ImageInfo, bytes] | None:
    """The image served as ``name`` (``<id>.webp``), or None."""
    m = FILE_NAME.match(name)
    if m is None:
        return None
    row = await db.fetchrow(
        f"SELECT {_INFO}, bytes FROM prompt_images WHERE id = $1", uuid.UUID(m.group(1))
    )
    if row is None:
        return None
    found = ImageInfo.from_row(row)
    if found.file_name != name:  # <id>.png for a WebP: not this image's name
        return None
    return found, bytes(row["bytes"])

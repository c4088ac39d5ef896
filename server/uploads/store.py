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


async def save(db: Db, teacher_id: str, image: StoredImage) -> tuple[ImageInfo, bool]:
    """The stored image and whether it is new (the teacher's same file again is not)."""
    row = await db.fetchrow(
        "INSERT INTO prompt_images (teacher_id, content_type, bytes, width, height, sha256) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (teacher_id, sha256) DO NOTHING "
        f"RETURNING {_INFO}",
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
    assert row is not None  # rows are never deleted
    return ImageInfo.from_row(row), False


async def info(db: Db, image_id: str) -> ImageInfo | None:
    row = await db.fetchrow(f"SELECT {_INFO} FROM prompt_images WHERE id = $1", uuid.UUID(image_id))
    return None if row is None else ImageInfo.from_row(row)


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

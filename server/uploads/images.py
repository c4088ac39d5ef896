"""A teacher's prompt image: recognised by its content, bounded, re-encoded as WebP.

Pure and blocking (no asyncio, no I/O): :func:`reencode` takes the uploaded bytes and
returns the image to store, or raises :class:`ImageRefused` naming why.  The caller runs
it off the event loop (``asyncio.to_thread``; Pillow releases the GIL while it decodes,
resizes and encodes, so threads run it in parallel without copying the bytes to another
process).

What is accepted is decided by the bytes, never by a file name or a Content-Type:

1. the first bytes must be the signature of PNG, JPEG or WebP (:func:`sniff`); anything
   else — SVG, HTML, GIF, PDF, text — is ``unsupported_image``;
2. Pillow opens it with that one format's decoder only (``formats=``), which reads the
   header, not the pixels; the size it declares must be at most ``max_side`` on each
   side and ``max_pixels`` in all (``image_too_many_pixels``) — a decompression bomb is
   refused here, before a pixel is decoded;
3. the whole image is decoded (a truncated or corrupt file is ``invalid_image``); the
   first frame of an animation is kept;
4. it is turned upright by its EXIF orientation, converted to RGB (RGBA when it has
   transparency), scaled down to at most ``display_px`` on its longer side, and encoded
   afresh as WebP.  Nothing of the original file survives but its pixels: no EXIF (GPS,
   camera), XMP, ICC profile, comments or trailing bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageOps

Kind = Literal["png", "jpeg", "webp"]
PILLOW_FORMATS: dict[Kind, str] = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
CONTENT_TYPE = "image/webp"
EXTENSION = "webp"
WEBP_QUALITY = 85  # photos and drawings alike look as sent; ~100–300 KB at 1600 px


class ImageRefused(Exception):
    """Why an upload is not an acceptable image: ``code`` and ``status`` are the API's."""

    def __init__(
        self, code: str, status: int, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details or {}


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_side: int = 4096
    max_pixels: int = 16_777_216
    display_px: int = 1600


@dataclass(frozen=True, slots=True)
class StoredImage:
    """The re-encoded image as it is stored and served."""

    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str
    source: Kind  # what was uploaded (for the log and the audit entry)


def sniff(data: bytes) -> Kind | None:
    """PNG, JPEG or WebP by their signatures; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _looks_like(data: bytes) -> str:
    """A word for what a refused upload seems to be, for the error message."""
    head = data[:512].lstrip().lower()
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"<?xml") or b"<svg" in head:
        return "svg"
    if head.startswith((b"<!doctype html", b"<html")) or b"<script" in head:
        return "html"
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"BM"):
        return "bmp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    return "unknown"


def _too_many_pixels(size: tuple[int, int] | None, limits: ImageLimits) -> ImageRefused:
    """``size`` is None when Pillow's own, larger, cap refused the header first."""
    said = f"is {size[0]}×{size[1]} pixels" if size else "claims far too many pixels"
    details: dict[str, Any] = {"max_side": limits.max_side, "max_pixels": limits.max_pixels}
    if size:
        details.update(width=size[0], height=size[1])
    return ImageRefused(
        "image_too_many_pixels",
        422,
        f"the image {said}; at most {limits.max_side} on a side and "
        f"{limits.max_pixels} in all are accepted",
        details,
    )


def _invalid(kind: Kind, exc: BaseException) -> ImageRefused:
    return ImageRefused(
        "invalid_image",
        422,
        f"the file starts like a {kind.upper()} image but cannot be decoded: "
        f"{type(exc).__name__}: {str(exc)[:200]}",
        {"format": kind},
    )


def reencode(data: bytes, limits: ImageLimits) -> StoredImage:
    """The upload as a clean WebP of at most ``limits.display_px`` on its longer side;
    raises :class:`ImageRefused` (never anything else for any input)."""
    kind = sniff(data)
    if kind is None:
        seen = _looks_like(data)
        raise ImageRefused(
            "unsupported_image",
            415,
            f"only PNG, JPEG and WebP images are accepted (this looks like {seen}); "
            "the file's content decides, not its name or Content-Type",
            {"detected": seen, "accepted": ["png", "jpeg", "webp"]},
        )
    try:
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own cap (MAX_IMAGE_PIXELS, ~89 million), checked as it opens: ours
        # is lower, so such a header is past it by far.
        raise _too_many_pixels(None, limits) from None
    except Exception as exc:  # any failure to read the header is a bad file, not a bug
        raise _invalid(kind, exc) from None
    with image:
        width, height = image.size
        if (
            width < 1
            or height < 1
            or max(width, height) > limits.max_side
            or width * height > limits.max_pixels
        ):
            raise _too_many_pixels((width, height), limits)
        try:
            return _clean(image, kind, limits)
        except ImageRefused:
            raise
        except Exception as exc:  # truncated, corrupt, or a mode Pillow cannot convert
            raise _invalid(kind, exc) from None


def _clean(image: Image.Image, kind: Kind, limits: ImageLimits) -> StoredImage:
    image.load()  # every pixel of the first frame: a truncated file fails here
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    pixels.info.clear()  # no ICC profile, EXIF, XMP or comments carried over
    if max(pixels.size) > limits.display_px:
        pixels.thumbnail((limits.display_px, limits.display_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pixels.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
    body = out.getvalue()
    return StoredImage(
        data=body,
        content_type=CONTENT_TYPE,
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(body).hexdigest(),
        source=kind,
    )

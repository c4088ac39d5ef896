"""The browser client: its pages, its static files and the prompt images.

Everything a player's browser loads comes from here (nothing from another origin):

- every screen's path (``/``, ``/play``, ``/match``, ``/me``, ``/me/matches/{id}``) answers
  ``server/web/index.html`` (single-page routing; the client draws the screen);
- ``/app/{name}`` and ``/app/{folder}/{name}`` are the files under ``server/web/`` (ES
  modules, CSS, the vendored view library) plus ``/app/rubrics.json``, built from
  ``content/rubrics/``;
- ``/sw.js`` is the service worker, served from the root so that it may control every
  screen; its cache name and file list are filled in from the files it caches;
- ``/prompts/{name}`` is a prompt's SVG, only for images named in
  ``content/prompts/prompts.toml``, with a sandboxing Content-Security-Policy; or a
  teacher's uploaded image, ``<id>.webp`` (``server/uploads``, from PostgreSQL), served
  with ``nosniff``, a CSP that allows nothing and a year's ``immutable`` cache: the
  bytes under an id never change.

Files are read once per process and answered with a strong ``ETag`` and
``Cache-Control: no-cache`` (the browser revalidates; an unchanged file costs a 304), so a
new release is picked up on the next load without hashed file names.  Every answer
carries the client's Content-Security-Policy: the node's own origin only, no inline script.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aiohttp import web

from server.ai.content import load_prompts, load_rubrics, prompt_image_path
from server.errors import NotFound
from server.http.openapi import Api, Handler
from server.http.state import PG
from server.uploads import store as image_store

api = Api()

WEB_DIR = Path(__file__).resolve().parent / "web"
"""The client's files (``index.html``, ``sw.js``, ``style.css``, ``js/``, ``screens/``…)."""

SCREENS = (
    "/",
    "/play",
    "/match",
    "/me",
    "/me/matches/{match_id}",
    "/notifications",
    "/join",
    "/teach",
    "/teach/classes/{class_id}",
    "/teach/students/{user_id}",
    "/teach/new-lobby",
    "/teach/lobbies/{lobby_id}",
    "/teach/lobbies/{lobby_id}/results",
    "/watch",
    "/boards",
    "/pods",
    "/practice",
    "/portfolio",
    "/teach/reports",
    "/tutor",
    "/tutor/{thread_id}",
    "/teach/questions",
    "/watch/{match_id}",
    "/replays/{match_id}",
)
"""Paths the client routes itself (js/router.js; a test checks they agree); each answers
``index.html``, and offline the service worker opens the shell for each."""


def screens_pattern() -> str:
    """:data:`SCREENS` as one regular expression (JavaScript's syntax is Python's here)."""
    parts = (re.sub(r"\\\{\w+\\\}", "[0-9a-fA-F-]{36}", re.escape(p)) for p in SCREENS)
    return "^(?:" + "|".join(parts) + ")$"


CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
"""Prompt images opened on their own: no script, no requests, a sandboxed document."""
UPLOAD_CSP = "default-src 'none'; sandbox"
"""A teacher's uploaded image (a WebP re-encoded by us) needs nothing at all."""
UPLOAD_CACHE = "public, max-age=31536000, immutable"

SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SHELL_SUFFIXES = (".js", ".css", ".svg", ".json", ".webmanifest")
"""What the service worker keeps for offline use (not the licences and notes)."""
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".txt": "text/plain",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str
    csp: str = CSP
    cache_control: str = "no-cache"


def _asset(body: bytes, content_type: str, **kw: str) -> Asset:
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, content_type, etag, **kw)


def _type_of(path: Path) -> str:
    return _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"


def _rubrics_json() -> bytes:
    rubrics = {
        str(trait): {
            "name": r.name,
            "summary": r.summary,
            "look_for": list(r.look_for),
            "descriptors": list(r.descriptors),
        }
        for trait, r in load_rubrics().items()
    }
    return json.dumps(rubrics, ensure_ascii=False, sort_keys=True).encode()


@cache
def assets() -> dict[str, Asset]:
    """URL path → file, for ``index.html``, ``/sw.js`` and everything under ``/app/``."""
    found: dict[str, Asset] = {}
    for path in sorted(WEB_DIR.rglob("*")):
        rel = path.relative_to(WEB_DIR)
        if not path.is_file() or len(rel.parts) > 2 or rel.name.startswith("."):
            continue
        if rel.as_posix() in ("index.html", "sw.js"):
            continue
        found["/app/" + rel.as_posix()] = _asset(path.read_bytes(), _type_of(path))
    found["/app/rubrics.json"] = _asset(_rubrics_json(), "application/json")
    index = _asset((WEB_DIR / "index.html").read_bytes(), "text/html; charset=utf-8")
    shell = ["/", *sorted(p for p in found if p.endswith(SHELL_SUFFIXES))]
    version = hashlib.sha256(
        b"".join(a.etag.encode() for a in (index, *found.values()))
    ).hexdigest()[:12]
    worker = (
        (WEB_DIR / "sw.js")
        .read_text()
        .replace('"__SHELL__"', json.dumps(shell))
        .replace("__VERSION__", version)
        .replace('"__SCREENS__"', json.dumps(screens_pattern()))
    )
    found["/sw.js"] = _asset(worker.encode(), "text/javascript")
    found["/index.html"] = index
    return found


@cache
def prompt_images() -> dict[str, Asset]:
    """File name → SVG, for the images that ``content/prompts/prompts.toml`` names."""
    images: dict[str, Asset] = {}
    for prompt in load_prompts().values():
        if not prompt.image:
            continue
        path = prompt_image_path(prompt)
        if path.suffix != ".svg" or not path.is_file():
            continue
        images[prompt.image] = _asset(
            path.read_bytes(),
            "image/svg+xml",
            csp=SVG_CSP,
            cache_control="public, max-age=86400",
        )
    return images


def answer(request: web.Request, asset: Asset) -> web.Response:
    """The file, or 304 when the browser already holds this version."""
    headers = {
        "ETag": asset.etag,
        "Cache-Control": asset.cache_control,
        "Content-Security-Policy": asset.csp,
        **SECURITY_HEADERS,
    }
    if asset.etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers={**headers, "Content-Type": asset.content_type})


def _lookup(path: str) -> Asset:
    asset = assets().get(path)
    if asset is None:
        raise NotFound(f"no such file: {path}")
    return asset


def _page(path: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return answer(request, _lookup("/index.html"))

    name = path.strip("/").replace("/", "_").replace("{", "").replace("}", "") or "home"
    handler.__name__ = f"page_{name}"
    return handler


for _path in SCREENS:
    api.route(
        "GET",
        _path,
        summary="The browser client (index.html; the client draws this screen)",
        tag="web",
        responses={200: ("the client's HTML page", None)},
    )(_page(_path))


@api.route(
    "GET",
    "/sw.js",
    summary="The client's service worker (caches the app shell and prompt images)",
    tag="web",
    responses={200: ("JavaScript", None)},
)
async def service_worker(request: web.Request) -> web.Response:
    return answer(request, _lookup("/sw.js"))


@api.route(
    "GET",
    "/app/{name}",
    summary="A static file of the browser client",
    tag="web",
    responses={200: ("the file", None), 404: ("no such file", None)},
)
async def app_file(request: web.Request) -> web.Response:
    return answer(request, _lookup(f"/app/{request.match_info['name']}"))


@api.route(
    "GET",
    "/app/{folder}/{name}",
    summary="A static file of the browser client, in a folder (js, screens, vendor)",
    tag="web",
    responses={200: ("the file", None), 404: ("no such file", None)},
)
async def app_folder_file(request: web.Request) -> web.Response:
    info = request.match_info
    return answer(request, _lookup(f"/app/{info['folder']}/{info['name']}"))


@api.route(
    "GET",
    "/prompts/{name}",
    summary="A prompt's image: an SVG of content/prompts/prompts.toml, or a teacher's "
    "uploaded image (<id>.webp; the unguessable id is the permission)",
    tag="web",
    responses={
        200: ("image/svg+xml, or image/webp for an uploaded image", None),
        304: ("the browser holds this version (If-None-Match)", None),
        404: ("no such prompt image", None),
    },
)
async def prompt_image(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    asset = prompt_images().get(name)
    if asset is None and image_store.FILE_NAME.match(name):
        found = await image_store.by_file_name(request.app[PG], name)
        if found is not None:
            info, body = found
            asset = Asset(
                body,
                info.content_type,
                f'"{info.sha256}"',
                csp=UPLOAD_CSP,
                cache_control=UPLOAD_CACHE,
            )
    if asset is None:
        raise NotFound("no such prompt image")
    return answer(request, asset)

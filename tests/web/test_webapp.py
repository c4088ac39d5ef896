"""The client's files over HTTP: pages, static modules, prompt images, headers, caching."""

from __future__ import annotations

import json
import re
import uuid

from server import webapp
from server.ai.content import load_prompts
from tests.conftest import Node

REQUIRED_CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self' ws: wss:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


ROUTE_RE = re.compile(r'\[\s*"(\w+)",\s*/\^(.*?)\$/\s*\]')


def client_paths() -> list[str]:
    """A path of every route the client's router knows (js/router.js), ids filled in."""
    source = (webapp.WEB_DIR / "js" / "router.js").read_text()
    paths = []
    for _name, pattern in ROUTE_RE.findall(source):
        path = pattern.replace("([0-9a-fA-F-]{36})", str(uuid.uuid4())).replace("\\/", "/")
        assert re.fullmatch(r"[/\w-]+", path), f"a route the test cannot fill in: {pattern}"
        paths.append(path)
    return paths


async def test_every_route_of_the_client_is_a_page_of_the_server(node: Node) -> None:
    """A reload or a shared link of any screen answers the client, not a JSON 404."""
    paths = client_paths()
    assert "/boards" in paths and len(paths) >= 15
    for path in paths:
        resp = await node.get(path)
        assert resp.status == 200 and resp.content_type == "text/html", path


async def test_every_screen_path_serves_the_client_with_its_csp(node: Node) -> None:
    paths = ["/", "/play", "/match", "/me", f"/me/matches/{uuid.uuid4()}"]
    bodies = set()
    for path in paths:
        resp = await node.get(path)
        assert resp.status == 200, path
        assert resp.content_type == "text/html"
        csp = resp.headers["Content-Security-Policy"]
        for directive in REQUIRED_CSP:
            assert directive in csp, (path, directive)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["ETag"] and resp.headers["Cache-Control"] == "no-cache"
        bodies.add(await resp.text())
    (index,) = bodies
    assert '<script type="module" src="/app/js/main.js"></script>' in index
    assert "<script>" not in index and "style=" not in index  # nothing inline


async def test_static_files_revalidate_with_etags(node: Node) -> None:
    resp = await node.get("/app/js/main.js")
    assert resp.status == 200 and resp.content_type == "text/javascript"
    etag = resp.headers["ETag"]
    again = await node.get("/app/js/main.js", headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    css = await node.get("/app/style.css")
    assert css.status == 200 and css.content_type == "text/css"
    rubrics = await (await node.get("/app/rubrics.json")).json()
    assert len(rubrics["voice"]["descriptors"]) == 6
    licence = await node.get("/app/vendor/LICENSE-preact")
    assert licence.status == 200


async def test_unknown_files_are_404_in_the_error_shape(node: Node) -> None:
    for path in (
        "/app/nope.js",
        "/app/js/nope.js",
        "/app/..%2Fwebapp.py",
        "/app/js/..%2F..%2Fapp.py",
    ):
        resp = await node.get(path)
        assert resp.status == 404, path
        assert (await resp.json())["error"]["code"] == "not_found"


async def test_every_module_the_client_imports_is_served(node: Node) -> None:
    """Walk the import graph from main.js over HTTP: no import points at a missing file
    or at another origin."""
    seen: set[str] = set()
    todo = ["/app/js/main.js"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = await node.get(path)
        assert resp.status == 200, path
        source = await resp.text()
        for spec in re.findall(r"""(?:import|from)\s*["']([^"']+)["']""", source):
            assert spec.startswith("."), f"{path} imports {spec!r} (not a relative module)"
            base = path.rsplit("/", 1)[0]
            parts = base.split("/")
            for piece in spec.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            todo.append("/".join(parts))
    assert "/app/vendor/preact.module.js" in seen and "/app/screens/write.js" in seen
    for path in seen:  # user text goes in as text: no innerHTML anywhere in our code
        if "/vendor/" not in path:
            assert "innerHTML" not in await (await node.get(path)).text(), path


async def test_prompt_images_are_listed_svgs_with_a_sandbox(node: Node) -> None:
    prompt = next(iter(load_prompts().values()))
    resp = await node.get(f"/prompts/{prompt.image}")
    assert resp.status == 200 and resp.content_type == "image/svg+xml"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert (await resp.read()).lstrip().startswith(b"<svg")
    for bad in ("/prompts/prompts.toml", "/prompts/unknown.svg", "/prompts/..%2F..%2Fconfig.toml"):
        assert (await node.get(bad)).status == 404, bad


async def test_the_service_worker_knows_the_shell_it_caches(node: Node) -> None:
    resp = await node.get("/sw.js")
    assert resp.status == 200 and resp.content_type == "text/javascript"
    source = await resp.text()
    assert "__SHELL__" not in source and "__VERSION__" not in source
    assert '"/app/js/main.js"' in source and '"/app/style.css"' in source
    assert "LICENSE" not in source.split("const SHELL =")[1].split("\n")[0]


async def test_offline_the_service_worker_opens_every_screen_and_nothing_else(
    node: Node,
) -> None:
    source = await (await node.get("/sw.js")).text()
    pattern = re.search(r"const SCREENS = new RegExp\((.*)\);", source)
    assert pattern is not None
    screens = re.compile(json.loads(pattern.group(1)))
    for path in webapp.SCREENS:
        assert screens.match(re.sub(r"\{\w+\}", str(uuid.uuid4()), path)), path
    for other in ("/api/v1/me", "/prompts/x.webp", "/app/js/main.js", "/teach/x", "/watchx"):
        assert not screens.match(other), other


def test_assets_cover_every_file_of_the_client() -> None:
    served = webapp.assets()
    for path in webapp.WEB_DIR.rglob("*"):
        rel = path.relative_to(webapp.WEB_DIR).as_posix()
        if path.is_file() and rel not in ("index.html", "sw.js"):
            assert "/app/" + rel in served, rel


# Ways to turn a string into markup. The client renders through Preact/htm templates,
# which set text nodes and attributes; the vendored library has an innerHTML path only
# behind ``dangerouslySetInnerHTML``, so that name must never appear in our own code.
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write"
    r"|\beval\s*\(|new\s+Function\s*\(|createContextualFragment|DOMParser"
)


def test_the_client_s_own_modules_build_no_html_from_strings() -> None:
    root = webapp.WEB_DIR
    own = [p for p in root.rglob("*.js") if "vendor" not in p.parts]
    assert own, "no client modules found"
    found = [
        f"{p.relative_to(root)}:{n}: {line.strip()}"
        for p in own
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if HTML_SINKS.search(line)
    ]
    assert found == []

"""The engine and the codec do no I/O and read no clock: checked on their imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "server"
FORBIDDEN = {
    "asyncio",
    "aiohttp",
    "redis",
    "asyncpg",
    "time",
    "datetime",
    "socket",
    "os",
    "threading",
    "uvloop",
    "websockets",
    "anthropic",
}
FILES = sorted([*ROOT.joinpath("game").glob("*.py"), *ROOT.joinpath("protocol").glob("*.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
            assert not name.startswith(("server.realtime", "server.storage", "server.http")), name


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_modules_stay_small_and_documented(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 450
    assert ast.get_docstring(ast.parse(text)), f"{path.name} has no module docstring"

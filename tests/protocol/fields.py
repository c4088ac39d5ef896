"""Where strings go in client messages: every ``str`` (and ``Literal``) field of every
message in ``CLIENT_MESSAGES``, found from the declarations, with a valid frame around it.

Shared by the text-rule table tests and the property tests, so a new string field is
covered the day it is declared.
"""

from __future__ import annotations

import copy
import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from server.protocol import CLIENT_MESSAGES
from tests.protocol.test_codec import VALID

Path = tuple[str | int, ...]

EXCLUSIVE: dict[tuple[str, Path], dict[str, Any]] = {
    ("draft.edit", ("snapshot",)): {"seq": 3},  # a snapshot replaces the example's ops
}
"""Payloads to start from when the example of ``VALID`` cannot hold the field."""


def _unwrap(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        (inner,) = [a for a in get_args(tp) if a is not type(None)]
        return inner
    return tp


def _walk(cls: type, prefix: Path) -> list[tuple[Path, bool]]:
    out: list[tuple[Path, bool]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = _unwrap(hints[f.name])
        if tp is str:
            out.append(((*prefix, f.name), False))
        elif get_origin(tp) is Literal:
            out.append(((*prefix, f.name), True))
        elif get_origin(tp) is tuple:
            item = get_args(tp)[0]
            if dataclasses.is_dataclass(item) and isinstance(item, type):
                out.extend(_walk(item, (*prefix, f.name, 0)))
        elif dataclasses.is_dataclass(tp) and isinstance(tp, type):
            out.extend(_walk(tp, (*prefix, f.name)))
    return out


STRING_FIELDS: list[tuple[str, Path]] = []
"""(message type, path inside ``d``) of every free-text ``str`` field."""
LITERAL_FIELDS: list[tuple[str, Path]] = []
"""The same for enum (``Literal``) fields."""
for _kind, _cls in sorted(CLIENT_MESSAGES.items()):
    for _path, _literal in _walk(_cls, ()):
        (LITERAL_FIELDS if _literal else STRING_FIELDS).append((_kind, _path))


def wire_path(path: Path) -> str:
    """``("ops", 0, "insert")`` as the error ``path`` names it: ``d.ops[0].insert``."""
    out = "d"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def payload_with(kind: str, path: Path, value: Any) -> dict[str, Any]:
    """A valid ``d`` for ``kind`` with ``value`` put at ``path``."""
    payload: Any = copy.deepcopy(EXCLUSIVE.get((kind, path), VALID[kind]))
    node = payload
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    result: dict[str, Any] = payload
    return result


def strings_in(value: Any) -> list[str]:
    """Every string in a decoded message's plain form, dict keys included."""
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            out.extend(k for k in v if isinstance(k, str))
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
    return out

"""Engine objects as plain data (dicts, lists, str, int, float, bool, None) and back.

:func:`dump` is ``server.protocol.schema.to_plain`` (dataclasses → dicts, enums → values,
tuples and frozensets → lists); :func:`load` rebuilds a value of a given type from it,
driven by type hints.  Both sides of msgpack and JSON round-trip through these, so the
engine's snapshots and log records need no hand-written (de)serialisers.  ``load`` trusts
its input (our own snapshots and logs); it is not a validator for client data.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from server.protocol.schema import to_plain

T = TypeVar("T")

dump = to_plain

_HINTS: dict[type, list[tuple[str, Any]]] = {}


def _fields(cls: type) -> list[tuple[str, Any]]:
    cached = _HINTS.get(cls)
    if cached is None:
        hints = get_type_hints(cls)
        cached = _HINTS[cls] = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    return cached


def load(tp: type[T], data: Any) -> T:
    """Rebuild a ``tp`` from :func:`dump` output."""
    result: T = _load(tp, data)
    return result


def _load(tp: Any, data: Any) -> Any:
    supertype = getattr(tp, "__supertype__", None)  # NewType ids
    if supertype is not None:
        return _load(supertype, data)
    if tp is Any or data is None:
        return data
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return _load(members[0], data)
    if origin is Literal:
        return data
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in data)
        return tuple(_load(a, v) for a, v in zip(args, data, strict=True))
    if origin is list:
        (item,) = get_args(tp)
        return [_load(item, v) for v in data]
    if origin in (frozenset, set):
        (item,) = get_args(tp)
        return origin(_load(item, v) for v in data)
    if origin in (dict, Mapping):
        key_t, val_t = get_args(tp)
        return {_load(key_t, k): _load(val_t, v) for k, v in data.items()}
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return tp(data)
        if tp is float:
            return float(data)
        if tp in (str, int, bool):
            return data
        if dataclasses.is_dataclass(tp):
            return tp(
                **{name: _load(hint, data[name]) for name, hint in _fields(tp) if name in data}
            )
    raise TypeError(f"cannot load {tp!r}")

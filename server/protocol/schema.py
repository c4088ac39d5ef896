"""Typed messages: field constraints, validation on decode, plain data on encode.

Every message is a frozen, keyword-only dataclass declared once (``client.py`` for what
clients send, ``events.py`` for what the server sends) and registered under its wire
type with :func:`client_message` / :func:`server_event`.  Constraints sit on the field::

    @client_message("review.submit")
    @dataclass(frozen=True, slots=True, kw_only=True)
    class ReviewSubmit(Message):
        rating: int = spec(lo=1, hi=6)

Decoding (:func:`decode_payload`) walks the field types once compiled per class and
raises :class:`ProtocolError` with ``missing_field``, ``bad_field_type``,
``out_of_range``, ``bad_value`` or ``draft_too_long`` and the field's path.  A value of
the wrong type is ``bad_field_type`` (also for a ``Literal`` field: ``5`` or bytes where
a string is expected); the right type but not allowed is ``bad_value`` (a ``Literal``
outside its choices, and every string that breaks the text rule of ``server.text``:
control characters other than tab and newline, lone surrogates, non-characters).  Supported
field types: ``str``, ``int``, ``float``, ``bool``, ``Literal[...]``, ``X | None``,
``tuple[X, ...]`` and nested dataclasses.  Fields the class does not declare are ignored,
so newer clients can send more.  A class may define ``check(self, limits)`` for rules
that span fields.

Encoding (:func:`to_plain`) turns a message into dicts, lists, strings and numbers that
both orjson and msgpack accept (enums become their values, tuples lists).
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from server.config import LimitSettings
from server.protocol.errors import ErrorCode, ProtocolError
from server.text import text_problem

MAX_SAFE_INT = 2**53 - 1  # the largest integer JavaScript holds exactly


class Message:
    """Base of every client message and server event; ``TYPE`` is the wire type."""

    __slots__ = ()
    TYPE: ClassVar[str] = ""


M = TypeVar("M", bound=Message)
CLIENT_MESSAGES: dict[str, type[Message]] = {}
"""Wire type → class for every message a client may send."""
SERVER_EVENTS: dict[str, type[Message]] = {}
"""Wire type → class for every event the server sends."""


def spec(
    default: Any = dataclasses.MISSING,
    *,
    lo: float | None = None,
    hi: float | None = None,
    min_len: int | None = None,
    max_len: int | None = None,
    draft: bool = False,
) -> Any:
    """A message field with bounds: numbers in ``lo..hi``, lengths in ``min_len..max_len``.

    ``draft=True`` bounds a string by ``limits.draft_chars`` (error ``draft_too_long``).
    """
    meta = {"lo": lo, "hi": hi, "min_len": min_len, "max_len": max_len, "draft": draft}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _register(table: dict[str, type[Message]], name: str) -> Callable[[type[M]], type[M]]:
    def deco(cls: type[M]) -> type[M]:
        if name in table:
            raise ValueError(f"message type {name!r} registered twice")
        cls.TYPE = name
        table[name] = cls
        return cls

    return deco


def client_message(name: str) -> Callable[[type[M]], type[M]]:
    """Register a client message class under its wire type."""
    return _register(CLIENT_MESSAGES, name)


def server_event(name: str) -> Callable[[type[M]], type[M]]:
    """Register a server event class under its wire type."""
    return _register(SERVER_EVENTS, name)


# --- decoding ----------------------------------------------------------------------------

Check = Callable[[Any, str, LimitSettings], Any]


def _fail(code: ErrorCode, path: str, message: str) -> ProtocolError:
    return ProtocolError(code, f"{path}: {message}", path=path)


def kind_of(value: Any) -> str:
    """How an error message names the type of a decoded value (``a string``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes | bytearray):
        return "binary data"
    return type(value).__name__


def _check_str(meta: dict[str, Any]) -> Check:
    min_len, max_len, draft = meta.get("min_len"), meta.get("max_len"), meta.get("draft")

    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        if not isinstance(value, str):
            raise _fail(ErrorCode.BAD_FIELD_TYPE, path, f"expected a string, got {kind_of(value)}")
        n = len(value)
        if draft and n > limits.draft_chars:
            raise _fail(
                ErrorCode.DRAFT_TOO_LONG, path, f"{n} characters, at most {limits.draft_chars}"
            )
        if max_len is not None and n > max_len:
            raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{n} characters, at most {max_len}")
        if min_len is not None and n < min_len:
            raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{n} characters, at least {min_len}")
        problem = text_problem(value)
        if problem is not None:
            raise _fail(ErrorCode.BAD_VALUE, path, problem)
        return value

    return check


def _bound(x: float) -> str:
    """A bound as a person writes it: ``2147483647``, not ``2.14748e+09``."""
    if isinstance(x, int) or x.is_integer():
        return str(int(x))
    return repr(x)


def _range(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"..{_bound(hi)}" if hi is not None else ".."
    return f"{_bound(lo)}.." if hi is None else f"{_bound(lo)}..{_bound(hi)}"


def huge_integer(value: float) -> bool:
    """A float holding a whole number beyond 2**53-1.  orjson reads integer literals too
    large for 64 bits as floats (and ``1e23`` is one too): out of range, not a wrong type."""
    return math.isfinite(value) and value.is_integer() and abs(value) > MAX_SAFE_INT


def _check_number(tp: type, meta: dict[str, Any]) -> Check:
    lo, hi = meta.get("lo"), meta.get("hi")
    want_int = tp is int
    if want_int:
        lo = -MAX_SAFE_INT if lo is None else lo
        hi = MAX_SAFE_INT if hi is None else hi

    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(ErrorCode.BAD_FIELD_TYPE, path, f"expected a number, got {kind_of(value)}")
        if want_int and not isinstance(value, int):
            if huge_integer(value):
                raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{value:g} is outside {_range(lo, hi)}")
            raise _fail(ErrorCode.BAD_FIELD_TYPE, path, "expected an integer")
        if not want_int:
            if not math.isfinite(value):
                raise _fail(ErrorCode.OUT_OF_RANGE, path, "expected a finite number")
            value = float(value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{value} is outside {_range(lo, hi)}")
        return value

    return check


def _check_bool(value: Any, path: str, limits: LimitSettings) -> Any:
    if not isinstance(value, bool):
        raise _fail(ErrorCode.BAD_FIELD_TYPE, path, f"expected a boolean, got {kind_of(value)}")
    return value


def _check_literal(choices: tuple[Any, ...]) -> Check:
    if not all(type(c) is str for c in choices):
        raise TypeError(f"Literal fields take strings only, not {choices!r}")
    shown = ", ".join(choices)

    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        if not isinstance(value, str):
            raise _fail(
                ErrorCode.BAD_FIELD_TYPE,
                path,
                f"expected a string (one of {shown}), got {kind_of(value)}",
            )
        if value not in choices:
            raise _fail(ErrorCode.BAD_VALUE, path, f"expected one of {shown}")
        return value

    return check


def _check_optional(inner: Check) -> Check:
    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        return None if value is None else inner(value, path, limits)

    return check


def _check_tuple(inner: Check, meta: dict[str, Any]) -> Check:
    min_len, max_len = meta.get("min_len"), meta.get("max_len")

    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        if not isinstance(value, list | tuple):
            raise _fail(ErrorCode.BAD_FIELD_TYPE, path, f"expected an array, got {kind_of(value)}")
        n = len(value)
        if max_len is not None and n > max_len:
            raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{n} items, at most {max_len}")
        if min_len is not None and n < min_len:
            raise _fail(ErrorCode.OUT_OF_RANGE, path, f"{n} items, at least {min_len}")
        return tuple(inner(item, f"{path}[{i}]", limits) for i, item in enumerate(value))

    return check


def _check_for(tp: Any, meta: dict[str, Any]) -> Check:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return _check_optional(_check_for(args[0], meta))
    if origin is Literal:
        return _check_literal(get_args(tp))
    if origin is tuple:
        item, ellipsis = get_args(tp)
        if ellipsis is not Ellipsis:
            raise TypeError(f"unsupported tuple {tp!r}")
        return _check_tuple(_check_for(item, {}), meta)
    if tp is str:
        return _check_str(meta)
    if tp is bool:
        return _check_bool
    if tp in (int, float):
        return _check_number(tp, meta)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _check_object(tp)
    raise TypeError(f"unsupported field type {tp!r}")


def _check_object(cls: type) -> Check:
    fields: list[tuple[str, Check, bool, Any]] = []
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory
        fields.append((f.name, _check_for(hints[f.name], dict(f.metadata)), required, default))
    post = getattr(cls, "check", None)

    def check(value: Any, path: str, limits: LimitSettings) -> Any:
        if not isinstance(value, dict):
            raise _fail(ErrorCode.BAD_FIELD_TYPE, path, f"expected an object, got {kind_of(value)}")
        kwargs: dict[str, Any] = {}
        for name, field_check, required, _default in fields:
            sub = f"{path}.{name}"
            if name not in value:
                if required:
                    raise _fail(ErrorCode.MISSING_FIELD, sub, "is required")
                continue
            kwargs[name] = field_check(value[name], sub, limits)
        obj = cls(**kwargs)
        if post is not None:
            try:
                obj.check(limits)
            except ProtocolError as exc:
                if exc.path is None:
                    exc.path = path
                raise
        return obj

    return check


_DECODERS: dict[type, Check] = {}


def decode_payload(cls: type[M], payload: Any, limits: LimitSettings, path: str = "d") -> M:
    """Validate ``payload`` (the envelope's ``d``) into an instance of ``cls``."""
    checker = _DECODERS.get(cls)
    if checker is None:
        checker = _DECODERS[cls] = _check_object(cls)
    result: M = checker(payload, path, limits)
    return result


# --- encoding ----------------------------------------------------------------------------

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_plain(obj: Any) -> Any:
    """A message (or any value in one) as plain dicts/lists/str/int/float/bool/None."""
    if obj is None or type(obj) in (str, int, float, bool):
        return obj
    if isinstance(obj, Enum):
        return obj.value
    names = _FIELD_NAMES.get(type(obj))
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    if names is not None:
        return {name: to_plain(getattr(obj, name)) for name in names}
    if isinstance(obj, Mapping):
        return {to_plain(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, frozenset | set):
        return sorted(to_plain(v) for v in obj)
    if isinstance(obj, str | int | float):  # subclasses such as NewType'd ids
        return obj
    raise TypeError(f"cannot encode {type(obj).__name__}")

"""docs/protocol.md stays true: every example decodes, every message type is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.config import LimitSettings
from server.game.plain import load
from server.protocol import (
    CLIENT_MESSAGES,
    SERVER_EVENTS,
    Codec,
    ErrorCode,
    RefusalCode,
    decode_frame,
)
from server.protocol.schema import to_plain

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLES = [orjson.loads(block) for block in re.findall(r"```json\n(.*?)\n```", TEXT, re.S)]


def test_examples_exist() -> None:
    assert len(EXAMPLES) > 25


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: str(e.get("t")))
def test_each_example_is_a_valid_message(example: dict[str, Any]) -> None:
    kind = example["t"]
    if kind in CLIENT_MESSAGES:
        decode_frame(orjson.dumps(example).decode(), Codec.JSON, LimitSettings())
    else:
        cls = SERVER_EVENTS[kind]
        assert set(example) == {"t", "ts", "d"}
        assert to_plain(load(cls, example["d"])) == example["d"]  # every field, no extra


def test_every_message_type_is_documented_with_an_example() -> None:
    shown = {e["t"] for e in EXAMPLES}
    assert shown == set(CLIENT_MESSAGES) | set(SERVER_EVENTS)


def test_every_error_code_is_documented() -> None:
    for code in [*ErrorCode, *RefusalCode]:
        assert f"`{code.value}`" in TEXT, code

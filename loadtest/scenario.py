"""Scenarios: what the simulated players do, as data (``scenarios.toml``).

A scenario is parsed once into a frozen :class:`Scenario`; unknown keys and bad values
raise :class:`ScenarioError` naming the key (fail fast, like ``server.config``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SCENARIOS_FILE = Path(__file__).with_name("scenarios.toml")
QUEUES = ("ranked", "quickplay")
ACTIONS = ("type", "pause", "correct", "insert_middle")


class ScenarioError(ValueError):
    """A scenario that cannot be used (unknown name or key, bad value)."""


@dataclass(frozen=True)
class Scenario:
    name: str = "default"
    queue: str = "ranked"
    ramp_up_seconds: float = 20.0
    msgpack_share: float = 0.5
    drop_share: float = 0.03
    review_share: float = 0.95
    finish_wait_seconds: float = 120.0
    typing: dict[str, float] = field(
        default_factory=lambda: {"type": 0.78, "pause": 0.1, "correct": 0.08, "insert_middle": 0.04}
    )
    match: dict[str, float] = field(default_factory=dict)
    matchmaker: dict[str, float] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """``QUILL_*`` overrides for the stack's processes."""
        out = {f"QUILL_MATCH__{k.upper()}": str(v) for k, v in self.match.items()}
        out |= {f"QUILL_MATCHMAKER__{k.upper()}": str(v) for k, v in self.matchmaker.items()}
        return out

    @property
    def grace_seconds(self) -> float:
        return float(self.match.get("grace_seconds", 2.0))


def _number(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{name}: expected a number, got {value!r}")
    if not lo <= value <= hi:
        raise ScenarioError(f"{name}: {value!r} is outside {lo:g}..{hi:g}")
    return float(value)


def _table(name: str, value: Any, keys: tuple[str, ...] | None) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{name}: expected a table")
    out: dict[str, float] = {}
    for k, v in value.items():
        if keys is not None and k not in keys:
            raise ScenarioError(f"{name}.{k}: unknown key (expected one of {', '.join(keys)})")
        out[k] = _number(f"{name}.{k}", v, 0.0, 3600.0)
    return out


def parse(name: str, table: dict[str, Any]) -> Scenario:
    """One scenario from its TOML table."""
    known = {f.name for f in fields(Scenario)} - {"name"}
    for key in table:
        if key not in known:
            raise ScenarioError(f"{name}.{key}: unknown key")
    kw: dict[str, Any] = {"name": name}
    if "queue" in table:
        if table["queue"] not in QUEUES:
            raise ScenarioError(f"{name}.queue: {table['queue']!r} is not one of {QUEUES}")
        kw["queue"] = table["queue"]
    for key in ("msgpack_share", "drop_share", "review_share"):
        if key in table:
            kw[key] = _number(f"{name}.{key}", table[key], 0.0, 1.0)
    for key in ("ramp_up_seconds", "finish_wait_seconds"):
        if key in table:
            kw[key] = _number(f"{name}.{key}", table[key], 0.0, 3600.0)
    if "typing" in table:
        weights = _table(f"{name}.typing", table["typing"], ACTIONS)
        if weights.get("type", 0.0) <= 0:
            raise ScenarioError(f"{name}.typing.type: must be above 0")
        kw["typing"] = weights
    for key in ("match", "matchmaker"):
        if key in table:
            kw[key] = _table(f"{name}.{key}", table[key], None)
    return Scenario(**kw)


def load(name: str, path: Path = SCENARIOS_FILE) -> Scenario:
    """The scenario ``name`` of ``path``."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    if name not in data:
        raise ScenarioError(f"no scenario {name!r} in {path} (have: {', '.join(data)})")
    return parse(name, data[name])

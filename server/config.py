"""Configuration: one TOML file, environment overrides, typed frozen settings.

Sources, later wins:

1. the defaults declared below (the same values as the repository's ``config.toml``);
2. the TOML file (``--config PATH``, else ``$QUILL_CONFIG``, else ``./config.toml`` if present);
3. ``QUILL_<SECTION>__<KEY>`` environment variables (``QUILL_MATCH__WRITE_SECONDS=240``);
4. ``DATABASE_URL``, ``REDIS_URL`` and ``ANTHROPIC_API_KEY`` for the secrets and endpoints.

Every value is checked once, at start-up.  Anything wrong (unknown section or key, wrong
type, out of range, not one of the allowed choices) raises :class:`ConfigError` whose
message is one line naming the key, the value and what was expected.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, get_type_hints

from server.errors import ConfigError

ENV_PREFIX = "QUILL_"
NOT_CONFIG_ENV = frozenset({"QUILL_CONFIG", "QUILL_ARTIFACTS", "QUILL_CHROMIUM"})
"""``QUILL_`` variables that are not config keys: the config file's path, and where the
test suite saves screenshots and finds Chromium.  Any other unknown ``QUILL_`` name is an
error, so that a misspelt override (``QUILL_MATCH_WRITE_SECONDS``) is not silently lost."""


def _opt(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    return field(default=default, metadata={"lo": lo, "hi": hi, "choices": choices})


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = _opt("127.0.0.1")
    port: int = _opt(8080, lo=0, hi=65535)
    node_id: str = _opt("")
    public_url: str = _opt("")
    log_level: str = _opt("info", choices=("debug", "info", "warning", "error"))
    log_format: str = _opt("json", choices=("json", "console"))
    shutdown_grace_seconds: float = _opt(10.0, lo=0, hi=600)
    access_token_seconds: int = _opt(900, lo=30, hi=86400)
    refresh_token_seconds: int = _opt(604800, lo=300, hi=7776000)
    token_secret: str = _opt("")
    trust_forwarded_for: bool = _opt(False)
    request_read_seconds: float = _opt(15.0, lo=0.5, hi=600)
    metrics_allow: str = _opt("127.0.0.0/8,::1/128")


@dataclass(frozen=True, slots=True)
class MatchSettings:
    lobby_seconds: float = _opt(10.0, lo=0, hi=3600)
    write_seconds: float = _opt(240.0, lo=1, hi=7200)
    feedback_seconds: float = _opt(120.0, lo=1, hi=3600)
    results_seconds: float = _opt(30.0, lo=0, hi=3600)
    grace_seconds: float = _opt(2.0, lo=0, hi=30)
    reviews_per_piece: int = _opt(2, lo=1, hi=5)
    min_players: int = _opt(4, lo=2, hi=6)
    max_players: int = _opt(6, lo=2, hi=12)
    writing_weight: float = _opt(0.8, lo=0, hi=1)
    review_weight: float = _opt(0.2, lo=0, hi=1)
    paste_chars: int = _opt(60, lo=1, hi=100000)
    reconnect_grace_seconds: float = _opt(90.0, lo=0, hi=3600)
    spectator_delay_seconds: float = _opt(30.0, lo=0, hi=3600)
    max_spectators: int = _opt(1000, lo=0, hi=100000)
    spectator_tick_seconds: float = _opt(1.0, lo=0.01, hi=10)


@dataclass(frozen=True, slots=True)
class MatchmakerSettings:
    tick_seconds: float = _opt(0.5, lo=0.01, hi=60)
    party_min: int = _opt(4, lo=2, hi=12)
    party_max: int = _opt(6, lo=2, hi=12)
    accept_five_after_seconds: float = _opt(10.0, lo=0, hi=3600)
    accept_four_after_seconds: float = _opt(20.0, lo=0, hi=3600)
    bot_fill_after_seconds: float = _opt(30.0, lo=0, hi=3600)
    lock_ttl_seconds: float = _opt(5.0, lo=1, hi=600)
    node_ttl_seconds: float = _opt(10.0, lo=1, hi=600)


@dataclass(frozen=True, slots=True)
class AISettings:
    engine: str = _opt("auto", choices=("auto", "offline", "claude"))
    model: str = _opt("claude-sonnet-4-6")
    max_tokens: int = _opt(1024, lo=64, hi=8192)
    timeout_seconds: float = _opt(20.0, lo=0.1, hi=600)
    max_retries: int = _opt(3, lo=0, hi=10)
    concurrency: int = _opt(8, lo=1, hi=256)
    breaker_failures: int = _opt(5, lo=1, hi=1000)
    breaker_reset_seconds: float = _opt(30.0, lo=0.01, hi=3600)
    base_url: str = _opt("")
    input_cost_per_mtok: float = _opt(3.0, lo=0, hi=1000)
    output_cost_per_mtok: float = _opt(15.0, lo=0, hi=1000)
    offline_workers: int = _opt(1, lo=0, hi=64)
    api_key: str = field(default="", repr=False, metadata={"env_only": True})


@dataclass(frozen=True, slots=True)
class BotSettings:
    enabled: bool = _opt(True)
    default_skill: float = _opt(0.5, lo=0, hi=1)
    max_bots: int = _opt(200, lo=0, hi=100000)
    offline_workers: int = _opt(1, lo=0, hi=64)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    max_body_bytes: int = _opt(65536, lo=1024, hi=16 * 1024 * 1024)
    frame_bytes: int = _opt(65536, lo=1024, hi=16 * 1024 * 1024)
    messages_per_second: int = _opt(30, lo=1, hi=10000)
    draft_chars: int = _opt(20000, lo=100, hi=1_000_000)
    auth_per_ip_per_minute: int = _opt(30, lo=1, hi=100000)
    auth_per_account_per_minute: int = _opt(10, lo=1, hi=100000)
    auth_per_handle_per_minute: int = _opt(100, lo=1, hi=1000000)
    sockets_per_account: int = _opt(5, lo=1, hi=1000)
    api_per_ip_per_minute: int = _opt(600, lo=1, hi=1000000)
    api_per_account_per_minute: int = _opt(100, lo=1, hi=1000000)
    student_signin_per_ip_per_minute: int = _opt(120, lo=1, hi=100000)
    class_writes_per_account_per_minute: int = _opt(60, lo=1, hi=100000)
    pod_writes_per_account_per_minute: int = _opt(30, lo=1, hi=100000)
    progress_reads_per_account_per_minute: int = _opt(60, lo=1, hi=100000)
    goal_writes_per_account_per_minute: int = _opt(30, lo=1, hi=100000)
    notification_writes_per_account_per_minute: int = _opt(120, lo=1, hi=100000)
    report_writes_per_account_per_minute: int = _opt(10, lo=1, hi=100000)
    exports_per_account_per_hour: int = _opt(10, lo=1, hi=100000)
    classes_per_teacher: int = _opt(50, lo=1, hi=10000)
    class_students: int = _opt(60, lo=1, hi=1000)
    roster_import_lines: int = _opt(200, lo=1, hi=10000)


@dataclass(frozen=True, slots=True)
class StorageSettings:
    data_dir: str = _opt(".quill")
    database_url: str = field(default="", repr=False, metadata={"env_only": True})
    redis_url: str = field(default="", repr=False, metadata={"env_only": True})
    pg_pool_min: int = _opt(1, lo=0, hi=100)
    pg_pool_max: int = _opt(10, lo=1, hi=500)
    save_attempts: int = _opt(8, lo=1, hi=1000)
    redis_pool_max: int = _opt(64, lo=1, hi=10000)
    redis_pool_timeout_seconds: float = _opt(5.0, lo=0.01, hi=600)


@dataclass(frozen=True, slots=True)
class RealtimeSettings:
    """Gateway and match-runner knobs; explained in ``server/realtime/tuning.py``, which
    turns them into the in-process :class:`~server.realtime.tuning.Tuning`."""

    heartbeat_seconds: float = _opt(20.0, lo=0.05, hi=3600)
    send_queue_frames: int = _opt(256, lo=1, hi=1_000_000)
    send_timeout_seconds: float = _opt(10.0, lo=0.01, hi=600)
    close_timeout_seconds: float = _opt(5.0, lo=0.01, hi=600)
    oversize_factor: int = _opt(4, lo=1, hi=1000)
    bad_frames_close: int = _opt(20, lo=1, hi=1_000_000)
    flood_close: int = _opt(100, lo=1, hi=1_000_000)
    inbox_size: int = _opt(1024, lo=1, hi=1_000_000)
    batch_max: int = _opt(512, lo=1, hi=1_000_000)
    join_wait_seconds: float = _opt(5.0, lo=0, hi=600)
    ai_concurrency: int = _opt(32, lo=1, hi=10000)
    ai_timeout_seconds: float = _opt(90.0, lo=0.1, hi=3600)
    bot_edit_seconds: float = _opt(1.0, lo=0.01, hi=600)
    queue_update_seconds: float = _opt(5.0, lo=0.01, hi=3600)
    session_refresh_seconds: float = _opt(30.0, lo=0.01, hi=86400)
    seat_ttl_seconds: float = _opt(21600.0, lo=60, hi=30 * 86400)
    retry_max_seconds: float = _opt(2.0, lo=0.001, hi=600)
    save_retry_max_seconds: float = _opt(30.0, lo=0.001, hi=3600)
    shutdown_wait_seconds: float = _opt(5.0, lo=0, hi=600)


@dataclass(frozen=True, slots=True)
class LobbySettings:
    """Private lobbies (docs/lobbies.md)."""

    members: int = _opt(60, lo=1, hi=1000)
    open_per_teacher: int = _opt(10, lo=1, hi=1000)
    writes_per_account_per_minute: int = _opt(60, lo=1, hi=100000)
    actions_per_minute: int = _opt(60, lo=1, hi=100000)
    live_view_seconds: float = _opt(2.0, lo=0.01, hi=60)
    draft_moderation_seconds: float = _opt(10.0, lo=0.01, hi=600)
    image_max_bytes: int = _opt(5 * 1024 * 1024, lo=64 * 1024, hi=64 * 1024 * 1024)
    image_max_side: int = _opt(4096, lo=64, hi=16384)
    image_max_pixels: int = _opt(16_777_216, lo=4096, hi=89_000_000)
    image_display_px: int = _opt(1600, lo=64, hi=4096)
    images_per_teacher: int = _opt(200, lo=1, hi=100000)


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """Replays (docs/replays.md)."""

    keyframe_seconds: float = _opt(10.0, lo=1, hi=600)
    max_response_bytes: int = _opt(8 * 1024 * 1024, lo=65536, hi=1 << 30)
    cache_megabytes: int = _opt(64, lo=0, hi=65536)
    build_concurrency: int = _opt(2, lo=1, hi=64)
    reads_per_account_per_minute: int = _opt(120, lo=1, hi=100000)
    live_list_cache_seconds: float = _opt(1.0, lo=0, hi=60)


@dataclass(frozen=True, slots=True)
class SeasonSettings:
    """Leaderboard seasons (docs/leaderboards.md#seasons)."""

    first_start: str = _opt("2026-09-07")
    weeks: int = _opt(12, lo=0, hi=520)


@dataclass(frozen=True, slots=True)
class PodSettings:
    """Study pods' weekly sessions (docs/pods.md#the-weekly-session)."""

    notify_minutes_before: int = _opt(10, lo=0, hi=1440)
    start_after_minutes: int = _opt(5, lo=0, hi=40)
    session_bots: bool = _opt(True)
    tick_seconds: float = _opt(30.0, lo=0.05, hi=3600)


@dataclass(frozen=True, slots=True)
class PracticeSettings:
    """Solo practice rounds (docs/practice.md)."""

    write_seconds: float = _opt(240.0, lo=30, hi=3600)
    grace_seconds: float = _opt(5.0, lo=0, hi=120)
    starts_per_account_per_hour: int = _opt(30, lo=1, hi=100000)
    writes_per_account_per_minute: int = _opt(120, lo=1, hi=100000)


@dataclass(frozen=True, slots=True)
class TutorSettings:
    """Tutoring Q&A (docs/tutor.md)."""

    questions_per_day: int = _opt(30, lo=1, hi=10000)
    guest_questions_per_day: int = _opt(3, lo=0, hi=1000)
    daily_spend_usd: float = _opt(5.0, lo=0, hi=100000)
    cache_seconds: int = _opt(86400, lo=0, hi=30 * 86400)
    answer_timeout_seconds: float = _opt(30.0, lo=0.1, hi=600)
    history_turns: int = _opt(4, lo=0, hi=20)
    recent_pieces: int = _opt(3, lo=0, hi=20)
    thread_messages: int = _opt(100, lo=2, hi=10000)
    writes_per_account_per_minute: int = _opt(20, lo=1, hi=100000)


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    match: MatchSettings = field(default_factory=MatchSettings)
    matchmaker: MatchmakerSettings = field(default_factory=MatchmakerSettings)
    ai: AISettings = field(default_factory=AISettings)
    bots: BotSettings = field(default_factory=BotSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    realtime: RealtimeSettings = field(default_factory=RealtimeSettings)
    lobbies: LobbySettings = field(default_factory=LobbySettings)
    replays: ReplaySettings = field(default_factory=ReplaySettings)
    seasons: SeasonSettings = field(default_factory=SeasonSettings)
    tutor: TutorSettings = field(default_factory=TutorSettings)
    pods: PodSettings = field(default_factory=PodSettings)
    practice: PracticeSettings = field(default_factory=PracticeSettings)

    def replace(self, **sections: Mapping[str, Any]) -> Settings:
        """Return a copy with some keys changed, validated like the file (used by tests)."""
        data = _as_dict(self)
        secrets = {k: data[k[0]].pop(k[1]) for k in _ENV_ONLY}
        for name, values in sections.items():
            for key, value in values.items():
                if (name, key) in _ENV_ONLY:
                    secrets[(name, key)] = value
                else:
                    data.setdefault(name, {})[key] = value
        return _build(data, env={}, secrets=secrets)


_ENV_ONLY = {
    ("storage", "database_url"): "DATABASE_URL",
    ("storage", "redis_url"): "REDIS_URL",
    ("ai", "api_key"): "ANTHROPIC_API_KEY",
}


def _as_dict(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        f.name: dataclasses.asdict(getattr(settings, f.name)) for f in dataclasses.fields(settings)
    }


def _describe(tp: type, meta: Mapping[str, Any]) -> str:
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    kind = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[tp]
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{kind} between {lo:g} and {hi:g}"
    return kind


def _coerce(key: str, raw: Any, tp: type, meta: Mapping[str, Any], from_env: bool) -> Any:
    expected = _describe(tp, meta)

    def bad() -> ConfigError:
        return ConfigError(f"config key {key} = {raw!r}: expected {expected}")

    value: Any = raw
    if from_env:
        text = str(raw).strip()
        try:
            if tp is bool:
                if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise bad()
                value = text.lower() in ("true", "1", "yes")
            elif tp is int:
                value = int(text)
            elif tp is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise bad() from None
    else:
        if tp is bool and not isinstance(value, bool):
            raise bad()
        if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad()
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad()
            value = float(value)
        if tp is str and not isinstance(value, str):
            raise bad()
    if tp in (int, float):
        lo, hi = meta.get("lo"), meta.get("hi")
        if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
            raise bad()
    choices = meta.get("choices")
    if choices and value not in choices:
        raise bad()
    return value


def _build(
    data: Mapping[str, Any],
    env: Mapping[str, str],
    secrets: Mapping[tuple[str, str], str] | None = None,
) -> Settings:
    sections: dict[str, Any] = {}
    hints = get_type_hints(Settings)
    for name in data:
        if name not in hints:
            raise ConfigError(
                f"config section [{name}] is unknown: expected one of {sorted(hints)}"
            )
    env_keys = {k for k in env if k.startswith(ENV_PREFIX) and k not in NOT_CONFIG_ENV}
    seen_env: set[str] = set()
    for section_name, section_cls in hints.items():
        table = data.get(section_name, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"config section [{section_name}] = {table!r}: expected a table")
        field_hints = get_type_hints(section_cls)
        fields = {f.name: f for f in dataclasses.fields(section_cls)}
        for key in table:
            if key not in fields or fields[key].metadata.get("env_only"):
                allowed = sorted(k for k, f in fields.items() if not f.metadata.get("env_only"))
                raise ConfigError(
                    f"config key {section_name}.{key} is unknown: expected one of {allowed}"
                )
        values: dict[str, Any] = {}
        for key, f in fields.items():
            dotted = f"{section_name}.{key}"
            tp = field_hints[key]
            if f.metadata.get("env_only"):
                if secrets is not None:
                    values[key] = secrets.get((section_name, key), "")
                else:
                    values[key] = env.get(_ENV_ONLY[(section_name, key)], "")
                continue
            env_name = f"{ENV_PREFIX}{section_name.upper()}__{key.upper()}"
            if env_name in env:
                seen_env.add(env_name)
                values[key] = _coerce(dotted, env[env_name], tp, f.metadata, from_env=True)
            elif key in table:
                values[key] = _coerce(dotted, table[key], tp, f.metadata, from_env=False)
            else:
                values[key] = f.default
        sections[section_name] = section_cls(**values)
    unknown_env = env_keys - seen_env
    if unknown_env:
        name = sorted(unknown_env)[0]
        raise ConfigError(
            f"environment variable {name} = {env[name]!r}: expected QUILL_<SECTION>__<KEY> "
            "naming a known config key"
        )
    settings = Settings(**sections)
    _check_relations(settings)
    return settings


def parse_networks(
    key: str, value: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated list of addresses or CIDR networks ("" = none)."""
    nets = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                f"config key {key} = {value!r}: expected comma-separated addresses or "
                f"networks such as 127.0.0.0/8 ({part!r} is neither)"
            ) from None
    return tuple(nets)


def _check_relations(s: Settings) -> None:
    parse_networks("server.metrics_allow", s.server.metrics_allow)
    try:
        date.fromisoformat(s.seasons.first_start)
    except ValueError:
        raise ConfigError(
            f"config key seasons.first_start = {s.seasons.first_start!r}: expected a date "
            "YYYY-MM-DD"
        ) from None
    if s.match.min_players > s.match.max_players:
        raise ConfigError(
            f"config key match.min_players = {s.match.min_players}: expected at most "
            f"match.max_players ({s.match.max_players})"
        )
    if s.matchmaker.party_min > s.matchmaker.party_max:
        raise ConfigError(
            f"config key matchmaker.party_min = {s.matchmaker.party_min}: expected at most "
            f"matchmaker.party_max ({s.matchmaker.party_max})"
        )
    if s.match.reviews_per_piece >= s.match.min_players:
        raise ConfigError(
            f"config key match.reviews_per_piece = {s.match.reviews_per_piece}: expected fewer "
            f"than match.min_players ({s.match.min_players}) so nobody reviews their own piece"
        )
    if s.ai.engine == "claude" and not s.ai.api_key:
        raise ConfigError(
            "config key ai.engine = 'claude': expected ANTHROPIC_API_KEY to be set "
            "(or ai.engine = 'auto' / 'offline')"
        )
    if s.storage.pg_pool_min > s.storage.pg_pool_max:
        raise ConfigError(
            f"config key storage.pg_pool_min = {s.storage.pg_pool_min}: expected at most "
            f"storage.pg_pool_max ({s.storage.pg_pool_max})"
        )


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate the configuration; raise :class:`ConfigError` on anything bad."""
    env = dict(os.environ if env is None else env)
    if path is None:
        path = env.get("QUILL_CONFIG") or None
        if path is None and Path("config.toml").is_file():
            path = "config.toml"
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {str(p)!r} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
    return _build(data, env)

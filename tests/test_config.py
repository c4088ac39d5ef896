"""Configuration: defaults, the repository's config.toml, overrides and every kind of bad value."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from server.config import Settings, load_settings
from server.errors import ConfigError
from server.realtime.tuning import Tuning
from tests.conftest import ROOT


def test_repository_config_equals_the_defaults() -> None:
    assert load_settings(ROOT / "config.toml", env={}) == Settings()


def test_every_key_in_config_toml_is_commented_and_every_setting_is_there() -> None:
    text = (ROOT / "config.toml").read_text()
    data = tomllib.loads(text)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"key without a comment: {line}"
    for section in dataclasses.fields(Settings):
        declared = {
            f.name
            for f in dataclasses.fields(getattr(Settings(), section.name))
            if not f.metadata.get("env_only")
        }
        assert set(data[section.name]) == declared, section.name


def test_environment_overrides_and_secrets() -> None:
    env = {
        "QUILL_MATCH__WRITE_SECONDS": "180",
        "QUILL_SERVER__TRUST_FORWARDED_FOR": "true",
        "QUILL_AI__ENGINE": "offline",
        "DATABASE_URL": "postgresql://db/x",
        "REDIS_URL": "redis://r/1",
        "ANTHROPIC_API_KEY": "sk-test",
    }
    s = load_settings(ROOT / "config.toml", env=env)
    assert s.match.write_seconds == 180.0
    assert s.server.trust_forwarded_for is True
    assert s.ai.engine == "offline" and s.ai.api_key == "sk-test"
    assert s.storage.database_url == "postgresql://db/x" and s.storage.redis_url == "redis://r/1"
    assert "sk-test" not in repr(s)


BAD_FILES = [
    ("[match]\nwrite_seconds = 'long'\n", "match.write_seconds", "'long'", "a number"),
    ("[match]\nwrite_seconds = 0\n", "match.write_seconds", "0", "between 1 and 7200"),
    ("[match]\nreviews_per_piece = 2.5\n", "match.reviews_per_piece", "2.5", "an integer"),
    ("[match]\nreviews_per_piece = true\n", "match.reviews_per_piece", "True", "an integer"),
    ("[server]\nport = 70000\n", "server.port", "70000", "between 0 and 65535"),
    ("[server]\nlog_level = 'loud'\n", "server.log_level", "'loud'", "one of 'debug'"),
    (
        "[server]\ntrust_forwarded_for = 'yes'\n",
        "server.trust_forwarded_for",
        "'yes'",
        "true or false",
    ),
    ("[server]\nhost = 5\n", "server.host", "5", "a string"),
    ("[server]\nprot = 1\n", "server.prot", "unknown", "expected one of"),
    ("[sever]\nport = 1\n", "[sever]", "unknown", "expected one of"),
    ("[storage]\ndatabase_url = 'x'\n", "storage.database_url", "unknown", "expected one of"),
    ("match = 3\n", "[match]", "3", "a table"),
    ("[match]\nmin_players = 6\nmax_players = 5\n", "match.min_players", "6", "at most"),
    ("[match]\nreviews_per_piece = 4\n", "match.reviews_per_piece", "4", "fewer than"),
    ("[match\n", "not valid TOML", "", ""),
    ("[ai]\nengine = 'claude'\n", "ai.engine", "'claude'", "ANTHROPIC_API_KEY"),
    ("[ai]\noffline_workers = -1\n", "ai.offline_workers", "-1", "between 0 and 64"),
    ("[bots]\noffline_workers = 65\n", "bots.offline_workers", "65", "between 0 and 64"),
    ("[storage]\nredis_pool_max = 0\n", "storage.redis_pool_max", "0", "between 1 and 10000"),
    (
        "[storage]\nredis_pool_timeout_seconds = 0\n",
        "storage.redis_pool_timeout_seconds",
        "0",
        "between 0.01 and 600",
    ),
]


@pytest.mark.parametrize(("text", "key", "value", "expected"), BAD_FILES)
def test_bad_file_values(tmp_path: Path, text: str, key: str, value: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert "\n" not in message
    for part in (key, value, expected):
        assert part in message


BAD_ENV = [
    ("QUILL_MATCH__WRITE_SECONDS", "abc", "a number"),
    ("QUILL_MATCH__WRITE_SECONDS", "nan", "a number"),
    ("QUILL_SERVER__PORT", "80.5", "an integer"),
    ("QUILL_SERVER__TRUST_FORWARDED_FOR", "maybe", "true or false"),
    ("QUILL_AI__ENGINE", "gpt", "one of"),
    ("QUILL_LIMITS__DRAFT_CHARS", "-1", "between 100"),
    ("QUILL_MATCH__NO_SUCH_KEY", "1", "naming a known config key"),
    ("QUILL_NOPE__PORT", "1", "naming a known config key"),
    ("QUILL_MATCH_WRITE_SECONDS", "180", "naming a known config key"),  # one underscore
    ("QUILL_SERVER__METRICS_ALLOW", "127.0.0.1,not-a-net", "networks such as"),
]


def test_variables_of_the_tools_are_not_config_keys() -> None:
    env = {"QUILL_ARTIFACTS": "/tmp/shots", "QUILL_CHROMIUM": "/usr/bin/chromium"}
    assert load_settings(None, env=env) == load_settings(None, env={})


@pytest.mark.parametrize(("name", "value", "expected"), BAD_ENV)
def test_bad_environment_values(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={name: value})
    assert expected in str(info.value) and repr(value) in str(info.value)


def test_missing_config_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings("/nonexistent/quill.toml", env={})


def test_replace_validates() -> None:
    assert Settings().replace(match={"write_seconds": 5}).match.write_seconds == 5
    with pytest.raises(ConfigError, match=r"match\.write_seconds"):
        Settings().replace(match={"write_seconds": -5})


def test_the_command_stops_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[match]\nwrite_seconds = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "server", "--config", str(bad), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "quill: error: config key match.write_seconds = -1: expected a number between 1 and 7200"
    ]


@pytest.mark.parametrize("command", ["up", "serve", "migrate"])
def test_help_and_version(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "server", command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"usage: quill {command}" in out.stdout
    version = subprocess.run(
        [sys.executable, "-m", "server", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert version.stdout.startswith("quill ")


def test_the_realtime_section_is_the_tuning() -> None:
    assert Tuning.from_settings(Settings().realtime) == Tuning()
    tuned = Settings().replace(realtime={"send_queue_frames": 3, "ai_concurrency": 2})
    assert Tuning.from_settings(tuned.realtime) == Tuning(send_queue_frames=3, ai_concurrency=2)

"""Engine selection, and the ``quill ai`` commands."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from server.ai.build import aclose_engines, build_engines, uses_claude
from server.ai.claude import ClaudeEngine
from server.ai.cli import add_ai_commands, cmd_ai_score, score_lines
from server.ai.offline.scorer import OfflineScorer
from server.ai.types import TRAITS
from server.config import AISettings, Settings
from server.errors import ConfigError
from server.metrics import Registry
from tests.fakes import quill_answers
from tests.fakes.clock import FakeClock, RecordingSleep
from tests.fakes.fake_anthropic import FakeAnthropic, server_error

TRAIT_NAMES = {t.value for t in TRAITS}


@pytest.mark.parametrize(
    ("engine", "key", "claude"),
    [
        ("offline", "", False),
        ("offline", "sk-test", False),
        ("auto", "", False),
        ("auto", "sk-test", True),
        ("claude", "sk-test", True),
    ],
)
async def test_engine_choice(engine: str, key: str, claude: bool) -> None:
    settings = AISettings(engine=engine, api_key=key)
    assert uses_claude(settings) is claude
    engines = build_engines(settings, Registry())
    try:
        assert isinstance(engines.scorer, ClaudeEngine) is claude
        assert set(engines.names.values()) == {"claude" if claude else "offline"}
        if not claude:
            assert isinstance(engines.scorer, OfflineScorer)
    finally:
        await aclose_engines(engines)


def test_claude_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        build_engines(AISettings(engine="claude", api_key=""), Registry())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quill")
    add_ai_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_ai_commands_parse() -> None:
    args = _parser().parse_args(["ai", "score"])
    assert args.func is cmd_ai_score
    args = _parser().parse_args(["ai", "eval", "--json"])
    assert args.json is True
    with pytest.raises(SystemExit):
        _parser().parse_args(["ai"])


def test_ai_score_writes_one_line_per_input_and_reports_bad_lines() -> None:
    lines = [
        {"prompt": "lighthouse-storm", "text": "The storm hit the lighthouse. The keeper ran up the stairs.", "focus": "ideas"},
        {"prompt": "A dragon sleeps on a pile of old books.", "text": "The dragon snored. Dust rose from the books.", "focus": "voice"},
        "{not json",
        {"prompt": "lighthouse-storm"},
        {"prompt": "lighthouse-storm", "text": "Fine.", "focus": "spelling"},
        [1, 2],
        "",
        {"prompt": "night-market", "text": "Lanterns glow over the noodle stalls."},
    ]  # fmt: skip
    stdin = io.StringIO("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    stdout = io.StringIO()
    settings = Settings().replace(ai={"engine": "offline"})
    code = cmd_ai_score(_parser().parse_args(["ai", "score"]), settings, stdin=stdin, stdout=stdout)
    out = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert code == 1
    assert len(out) == 7  # the blank line is skipped
    good = [out[0], out[1], out[6]]
    for result in good:
        assert set(result) == {
            "traits",
            "overall",
            "rationale",
            "suggestions",
            "engine",
            "provisional",
        }
        assert set(result["traits"]) == TRAIT_NAMES
        assert all(1 <= v <= 6 for v in result["traits"].values())
        assert 1.0 <= result["overall"] <= 6.0
        assert result["engine"] == "offline"
        assert result["provisional"] is False
        assert all(set(s) == {"sentence", "advice"} for s in result["suggestions"])
    assert out[2] == {
        "error": {"code": "bad_json", "message": out[2]["error"]["message"]},
        "line": 3,
    }
    assert out[3]["error"]["code"] == "bad_input" and out[3]["line"] == 4
    assert "focus" in out[4]["error"]["message"] and out[4]["line"] == 5
    assert out[5]["line"] == 6


def test_ai_score_exit_code_is_zero_when_every_line_scores() -> None:
    stdin = io.StringIO(
        json.dumps({"prompt": "robot-field", "text": "The robot waters a sunflower."})
    )
    stdout = io.StringIO()
    settings = Settings().replace(ai={"engine": "offline"})
    assert cmd_ai_score(argparse.Namespace(), settings, stdin=stdin, stdout=stdout) == 0
    assert json.loads(stdout.getvalue())["engine"] == "offline"


async def test_score_lines_through_claude_and_fallback() -> None:
    async with FakeAnthropic() as fake:
        quill_answers.install(fake)
        settings = AISettings(
            engine="claude",
            api_key="test-key",
            base_url=fake.base_url,
            model="claude-sonnet-4-6",
            max_retries=0,
            breaker_failures=1,
        )
        engines = build_engines(settings, Registry(), clock=FakeClock(), sleep=RecordingSleep())
        try:
            text = "The keeper climbs the stairs. The lamp flickers in the storm."
            line = json.dumps({"prompt": "lighthouse-storm", "text": text})
            (first,) = await score_lines(engines, [line])
            assert (first["engine"], first["provisional"]) == ("claude", False)
            assert first["suggestions"][0]["sentence"] in text
            fake.default = server_error(500)
            (second,) = await score_lines(engines, [line])
            assert (second["engine"], second["provisional"]) == ("offline", True)
        finally:
            await aclose_engines(engines)


def test_ai_eval_json_prints_one_object() -> None:
    stdout = io.StringIO()
    args = _parser().parse_args(["ai", "eval", "--json", "--quick"])
    code = args.func(args, Settings(), stdout=stdout)
    (line,) = stdout.getvalue().splitlines()
    summary = json.loads(line)
    assert set(summary) == {"checks", "spearman_quality", "spearman_bot_skill", "pieces_per_s"}
    assert summary["spearman_bot_skill"] is None  # --quick skips the bot check
    assert all(0.0 <= rate <= 1.0 for rate in summary["checks"].values())
    assert code in (0, 1)

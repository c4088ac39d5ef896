"""``quill ai score`` and ``quill ai eval --json`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

TRAITS = {
    "ideas",
    "organization",
    "voice",
    "word_choice",
    "sentence_fluency",
    "conventions",
    "presentation",
}


def quill(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        input=stdin,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ai_score_one_json_line_per_input() -> None:
    lines = [
        {
            "prompt": "A lighthouse in a storm",
            "text": "The keeper climbed the stairs as "
            "waves crashed on the rocks below. The lamp turned and turned.",
            "focus": "voice",
        },
        {"prompt": "A lighthouse in a storm", "text": "", "focus": "ideas"},
    ]
    out = quill("ai", "score", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert out.returncode == 0, out.stderr
    results = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(results) == 2
    for r in results:
        assert set(r) >= {"traits", "overall", "rationale", "suggestions", "engine", "provisional"}
        assert set(r["traits"]) == TRAITS
        assert all(1 <= v <= 6 and isinstance(v, int) for v in r["traits"].values())
        assert r["engine"] == "offline" and r["provisional"] is False
    assert results[1]["overall"] <= results[0]["overall"]


def test_ai_score_reports_a_bad_line_and_goes_on() -> None:
    out = quill("ai", "score", stdin='not json\n{"prompt": "x", "text": "A short piece."}\n')
    assert out.returncode == 1
    first, second = (json.loads(x) for x in out.stdout.splitlines())
    assert first["error"]["code"] and first["line"] == 1
    assert set(second["traits"]) == TRAITS


def test_ai_eval_json_keys() -> None:
    out = quill("ai", "eval", "--json", "--quick")
    report = json.loads(out.stdout)
    assert set(report) >= {"checks", "spearman_quality", "spearman_bot_skill", "pieces_per_s"}
    assert all(0.0 <= v <= 1.0 for v in report["checks"].values())

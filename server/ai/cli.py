"""``quill ai …``: score pieces from the command line and run the AI evaluation.

``quill ai score`` reads JSON lines ``{"prompt": …, "text": …, "focus": …}`` from stdin
(``prompt`` is a prompt id from ``content/prompts/`` or free text; ``focus`` a trait name,
default ``ideas``; optional ``level``) and writes one JSON line per input line::

    {"traits": {"ideas": 4, …}, "overall": 3.9, "rationale": "…",
     "suggestions": [{"sentence": "…", "advice": "…"}], "engine": "offline",
     "provisional": false}

A line that is not a JSON object with a string ``text`` gets
``{"error": {"code": …, "message": …}, "line": n}`` (``n`` counts from 1) and the rest go
on; blank lines are skipped.  The exit code is 0 when every line was scored, 1 otherwise.

``quill ai eval [--json] [--quick]`` runs ``server.ai.eval.run_eval`` and prints its
report; with ``--json`` one JSON object with ``checks``, ``spearman_quality``,
``spearman_bot_skill`` and ``pieces_per_s``.  The exit code is 0 when every check and target
is met (including Spearman(bot skill, overall) >= 0.8 when the bot check ran).

Wiring: ``add_ai_commands(subparsers)``; every parser's ``func`` takes ``(args, settings)``
and returns the exit code.  The handlers take ``stdin``/``stdout`` keywords for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from server.ai.build import aclose_engines, build_engines
from server.ai.content import ContentError, load_prompts
from server.ai.types import TRAITS, Engines, PieceRequest, PieceScore, Prompt, Trait
from server.config import Settings
from server.metrics import Registry

LEVELS = ("elementary", "middle", "high", "adult")


class LineError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def known_prompts() -> Mapping[str, Prompt]:
    """Prompts by id from ``content/prompts/`` (empty when the pack cannot be read)."""
    try:
        return load_prompts()
    except ContentError:
        return {}


def resolve_prompt(value: str) -> Prompt:
    """A known prompt id, or free text taken as the prompt itself."""
    known = known_prompts().get(value.strip())
    if known is not None:
        return known
    text = " ".join(value.split())
    title = " ".join(text.split()[:6])
    return Prompt(id="custom", title=title, text=text, image_description=text)


def parse_line(line: str) -> PieceRequest:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError("bad_json", f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise LineError("bad_input", "expected a JSON object")
    text = data.get("text")
    if not isinstance(text, str):
        raise LineError("bad_input", "'text' must be a string")
    prompt_value = data.get("prompt", "")
    if not isinstance(prompt_value, str):
        raise LineError("bad_input", "'prompt' must be a prompt id or the prompt's text")
    prompt = resolve_prompt(prompt_value)
    focus_value = data.get("focus", prompt.focus.value)
    if focus_value not in Trait._value2member_map_:
        names = ", ".join(t.value for t in TRAITS)
        raise LineError("bad_input", f"'focus' must be one of {names}")
    level = data.get("level", prompt.level)
    if level not in LEVELS:
        raise LineError("bad_input", f"'level' must be one of {', '.join(LEVELS)}")
    return PieceRequest(prompt=prompt, text=text, focus=Trait(focus_value), level=level)


def score_json(score: PieceScore) -> dict[str, Any]:
    return {
        "traits": {t.value: int(score.traits[t]) for t in TRAITS},
        "overall": score.overall,
        "rationale": score.rationale,
        "suggestions": [{"sentence": s.sentence, "advice": s.advice} for s in score.suggestions],
        "engine": score.engine,
        "provisional": score.provisional,
    }


async def score_lines(
    engines: Engines, lines: Sequence[str], batch: int = 8
) -> list[dict[str, Any]]:
    """One output object per non-blank input line, in input order."""
    jobs: list[tuple[int, PieceRequest | LineError]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            jobs.append((number, parse_line(line)))
        except LineError as exc:
            jobs.append((number, exc))

    async def one(number: int, job: PieceRequest | LineError) -> dict[str, Any]:
        if isinstance(job, LineError):
            return {"error": {"code": job.code, "message": job.message}, "line": number}
        try:
            score = await engines.scorer.score_piece(job)
        except Exception as exc:  # one bad piece must not stop the rest
            return {"error": {"code": "engine_error", "message": str(exc)}, "line": number}
        return score_json(score)

    out: list[dict[str, Any]] = []
    for start in range(0, len(jobs), batch):
        window = jobs[start : start + batch]
        out.extend(await asyncio.gather(*(one(n, j) for n, j in window)))
    return out


def cmd_ai_score(
    args: argparse.Namespace,
    settings: Settings,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    source = stdin if stdin is not None else sys.stdin
    sink = stdout if stdout is not None else sys.stdout
    lines = source.read().splitlines()

    async def main() -> list[dict[str, Any]]:
        engines = build_engines(settings.ai, Registry(), clock=time.monotonic)
        try:
            return await score_lines(engines, lines, batch=max(1, settings.ai.concurrency))
        finally:
            await aclose_engines(engines)

    results = asyncio.run(main())
    for result in results:
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    sink.flush()
    return 1 if any("error" in r for r in results) else 0


def cmd_ai_eval(
    args: argparse.Namespace, settings: Settings, *, stdout: TextIO | None = None
) -> int:
    """Run the offline evaluation; exit 0 when every check and target is met."""
    from server.ai.eval import SPEARMAN_TARGET, format_report, passed, run_eval

    sink = stdout if stdout is not None else sys.stdout
    quick = bool(getattr(args, "quick", False))
    result = run_eval(
        max_pieces=16 if quick else None,
        shuffles=3 if quick else 5,
        bot_pieces=0 if quick else 200,
        throughput_pieces=0 if quick else 300,
    )
    bot = result.get("spearman_bot_skill")
    ok = passed(result) and (bot is None or bot >= SPEARMAN_TARGET)
    if getattr(args, "json", False):
        summary = {
            key: result.get(key)
            for key in ("checks", "spearman_quality", "spearman_bot_skill", "pieces_per_s")
        }
        sink.write(json.dumps(summary) + "\n")
    else:
        sink.write(format_report(result) + "\n")
    sink.flush()
    return 0 if ok else 1


def add_ai_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``quill ai score`` and ``quill ai eval`` to the ``quill`` subcommands."""
    ai = sub.add_parser(
        "ai",
        help="score pieces and evaluate the AI engines",
        description="AI tools: score pieces from stdin, run the offline evaluation.",
    )
    ai_sub = ai.add_subparsers(dest="ai_command", metavar="AI_COMMAND", required=True)
    score = ai_sub.add_parser(
        "score",
        help="score JSON lines from stdin",
        description='Read JSON lines {"prompt": ID-or-text, "text": ..., "focus": TRAIT} '
        "from stdin and write one JSON score per line. Uses Claude when ANTHROPIC_API_KEY "
        "is set (ai.engine = auto), the offline engine otherwise.",
    )
    score.set_defaults(func=cmd_ai_score)
    ev = ai_sub.add_parser(
        "eval",
        help="run the AI evaluation",
        description="Score the evaluation pieces and bot pieces offline and check the results.",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument(
        "--quick", action="store_true", help="fewer pieces, no bot or speed measurement"
    )
    ev.set_defaults(func=cmd_ai_eval)

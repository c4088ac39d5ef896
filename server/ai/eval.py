"""Evaluation of the offline engines: perturbation checks, ordering, review pairs, speed.

:func:`run_eval` returns a plain dict (JSON-ready); :func:`format_report` turns it into text;
``python -m server.ai.eval`` runs both.  What is measured:

* **Perturbation checks** – for each evaluation piece, damage it one way and see whether the
  trait that should react moves the right way.  Each check reports the share of pieces where
  it did.  Movement is compared on the scorer's *continuous* trait values
  (:func:`server.ai.offline.scorer.score_piece_detailed`), not on the rounded 1–6 scores, so a
  real drop inside one score band still counts; a tie counts as a failure.

  ====================  ================================================================
  shuffle_organization  sentences shuffled (same paragraph layout) → organization falls;
                        averaged over ``shuffles`` shuffles per piece (pieces of 4+ sentences)
  misspell_3            3 % of words misspelled → conventions falls
  misspell_10           10 % misspelled → conventions falls
  misspell_10_vs_3      … and falls further at 10 % than at 3 %
  unrelated_prompt      the piece scored against the least related prompt → ideas falls
  truncate_third        only the first third kept → ideas falls
  bland_words           precise words replaced by vague ones → word choice falls
  flatten_sentences     all sentences the same length and opener → sentence fluency falls
  pad_repeat            sentences repeated → overall does not rise
  pad_keywords          prompt keywords stuffed in → overall does not rise
  injection             "ignore previous instructions…" appended → overall does not rise
  gibberish             random letters → flagged "gibberish", every trait 1
  prompt_word_append    each of the prompt's own words appended (as a sentence, a paragraph
                        or a bare word) → neither overall nor ideas rises (must be 1.0)
  ====================  ================================================================

* **Prompts without tags** (a teacher's own prompt: a title, a sentence, maybe alt text):

  ====================  ================================================================
  thin_prompt           a piece whose ideas round to 3+ against its pack prompt still does
                        against the prompt's title and text alone (no tags, no picture)
  thin_unrelated        a piece of quality 3+ against another prompt's title and text alone
                        → ideas 2 or less
  teacher_on_topic      content/eval/teacher.toml: on-topic pieces (many never use the
                        prompt's key word) → ideas 3 or more
  teacher_off_topic     … off-topic pieces → ideas 2 or less
  teacher_stuffed       … another topic with the prompt's words sprinkled in → ideas 2 or less
  ====================  ================================================================

* **Ordering** – Spearman correlation (average ranks for ties) between each piece's intended
  quality and its overall score.
* **Review pairs** – the share of good/poor review pairs where the good one scores higher.
* **Determinism** – every piece and review scored twice gives identical results.
* **Bot skill** – if ``server.ai.offline.bot_writer`` exists, Spearman between the bot's
  skill and the overall score of its pieces.
* **Speed** – pieces per second for ~300-word pieces, one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from server.ai.content import (
    EvalPiece,
    TeacherPiece,
    load_eval_pieces,
    load_prompts,
    load_review_pairs,
    load_teacher_set,
)
from server.ai.offline import perturb
from server.ai.offline.judge import judge_review_sync
from server.ai.offline.scorer import DetailedScore, score_piece_detailed, score_piece_sync
from server.ai.types import (
    TRAITS,
    BotPiece,
    BotPieceRequest,
    PieceRequest,
    Prompt,
    ReviewRequest,
    Trait,
)

PASS_RATE = 0.9
"""Every check must reach this share…"""
STRICT_CHECKS = frozenset({"determinism", "prompt_word_append"})
"""…and these every time."""
SPEARMAN_TARGET = 0.8
SPEED_TARGET = 300.0


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation with average ranks for ties; 0.0 when either side is flat."""
    if len(x) != len(y):
        raise ValueError("spearman needs two sequences of the same length")
    if len(x) < 2:
        return 0.0
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return 0.0
    return cov / math.sqrt(vx * vy)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


class _Check:
    """Pass/fail tally of one check, with the ids that failed."""

    def __init__(self) -> None:
        self.passed = 0
        self.total = 0
        self.failures: list[str] = []

    def add(self, ok: bool, label: str) -> None:
        self.total += 1
        if ok:
            self.passed += 1
        else:
            self.failures.append(label)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _request(
    piece: EvalPiece | TeacherPiece, prompt: Prompt, text: str | None = None
) -> PieceRequest:
    return PieceRequest(
        prompt=prompt,
        text=piece.text if text is None else text,
        focus=prompt.focus,
        level=piece.level,
    )


def _perturbation_checks(
    pieces: Sequence[EvalPiece],
    prompts: Mapping[str, Prompt],
    shuffles: int,
) -> tuple[dict[str, _Check], dict[str, DetailedScore], _Check]:
    names = (
        "shuffle_organization",
        "misspell_3",
        "misspell_10",
        "misspell_10_vs_3",
        "unrelated_prompt",
        "truncate_third",
        "bland_words",
        "flatten_sentences",
        "pad_repeat",
        "pad_keywords",
        "injection",
        "gibberish",
    )
    checks = {name: _Check() for name in names}
    single_shuffle = _Check()
    base: dict[str, DetailedScore] = {}
    all_prompts = list(prompts.values())
    for n, piece in enumerate(pieces):
        prompt = prompts[piece.prompt_id]
        seed = 1000 + n

        def detailed(text: str, p: Prompt = prompt, item: EvalPiece = piece) -> DetailedScore:
            return score_piece_detailed(_request(item, p, text))

        original = score_piece_detailed(_request(piece, prompt))
        base[piece.id] = original
        traits = original.traits

        if len(original.analysis.kept) >= 4:
            values = [
                detailed(perturb.shuffle_sentences(piece.text, seed * 31 + k)).traits[
                    Trait.ORGANIZATION
                ]
                for k in range(shuffles)
            ]
            org = traits[Trait.ORGANIZATION]
            checks["shuffle_organization"].add(sum(values) / len(values) < org, piece.id)
            single_shuffle.add(values[0] < org, piece.id)

        c3 = detailed(perturb.misspell(piece.text, 0.03, seed)).traits[Trait.CONVENTIONS]
        c10 = detailed(perturb.misspell(piece.text, 0.10, seed)).traits[Trait.CONVENTIONS]
        checks["misspell_3"].add(c3 < traits[Trait.CONVENTIONS], piece.id)
        checks["misspell_10"].add(c10 < traits[Trait.CONVENTIONS], piece.id)
        checks["misspell_10_vs_3"].add(c10 < c3, piece.id)

        other = perturb.unrelated_prompt(prompt, all_prompts)
        moved = score_piece_detailed(_request(piece, other))
        checks["unrelated_prompt"].add(
            moved.traits[Trait.IDEAS] < traits[Trait.IDEAS], f"{piece.id}->{other.id}"
        )
        short = detailed(perturb.truncate(piece.text))
        checks["truncate_third"].add(short.traits[Trait.IDEAS] < traits[Trait.IDEAS], piece.id)
        bland = detailed(perturb.blandify(piece.text, 0.4, seed))
        checks["bland_words"].add(
            bland.traits[Trait.WORD_CHOICE] < traits[Trait.WORD_CHOICE], piece.id
        )
        flat = detailed(perturb.flatten(piece.text))
        checks["flatten_sentences"].add(
            flat.traits[Trait.SENTENCE_FLUENCY] < traits[Trait.SENTENCE_FLUENCY], piece.id
        )
        checks["pad_repeat"].add(
            detailed(perturb.pad_repeat(piece.text)).overall <= original.overall, piece.id
        )
        checks["pad_keywords"].add(
            detailed(perturb.pad_keywords(piece.text, prompt)).overall <= original.overall,
            piece.id,
        )
        checks["injection"].add(
            detailed(perturb.inject_instruction(piece.text)).overall <= original.overall,
            piece.id,
        )
        noise = score_piece_sync(_request(piece, prompt, perturb.gibberish(piece.text, seed)))
        checks["gibberish"].add(
            "gibberish" in noise.flags
            and all(v == 1 for v in noise.traits.values())
            and noise.overall == 1.0,
            piece.id,
        )
    return checks, base, single_shuffle


def thin(prompt: Prompt) -> Prompt:
    """The prompt as a teacher would type it: its title and text, no tags, no picture."""
    return Prompt(id=f"{prompt.id}-thin", title=prompt.title, text=prompt.text, focus=prompt.focus)


def _ideas(piece: EvalPiece | TeacherPiece, prompt: Prompt) -> float:
    return score_piece_detailed(_request(piece, prompt)).traits[Trait.IDEAS]


def _append_check(items: Sequence[tuple[EvalPiece | TeacherPiece, Prompt]], check: _Check) -> None:
    """Every piece × every word of its prompt × every append form: nothing may rise."""
    for piece, prompt in items:
        base = score_piece_detailed(_request(piece, prompt))
        ends = piece.text.rstrip().endswith((".", "!", "?", "…", '"', "”", "'", "’"))
        for word in perturb.prompt_words(prompt):
            for form in perturb.APPEND_FORMS:
                if form == "sentence" and not ends:
                    continue  # "…the end Storm." would also add the missing full stop
                moved = score_piece_detailed(
                    _request(piece, prompt, perturb.append_word(piece.text, word, form))
                )
                check.add(
                    moved.overall <= base.overall
                    and moved.traits[Trait.IDEAS] <= base.traits[Trait.IDEAS],
                    f"{piece.id}+{word}({form})",
                )


def _thin_prompt_checks(
    pieces: Sequence[EvalPiece],
    prompts: Mapping[str, Prompt],
    base: Mapping[str, DetailedScore],
) -> tuple[_Check, _Check]:
    same = _Check()
    other = _Check()
    thins = {pid: thin(p) for pid, p in prompts.items()}
    for piece in pieces:
        if base[piece.id].traits[Trait.IDEAS] >= 2.5:
            ideas = _ideas(piece, thins[piece.prompt_id])
            same.add(ideas >= 2.5, piece.id)
        if piece.quality >= 3:
            for pid, prompt in thins.items():
                if pid != piece.prompt_id:
                    ideas = _ideas(piece, prompt)
                    other.add(ideas < 2.5, f"{piece.id}->{pid}")
    return same, other


def _teacher_checks(
    root: Path | str | None, max_pieces: int | None
) -> tuple[dict[str, _Check], list[tuple[EvalPiece | TeacherPiece, Prompt]]]:
    teacher = load_teacher_set(root)
    pieces: Sequence[TeacherPiece] = teacher.pieces
    if max_pieces is not None and max_pieces < len(pieces):
        step = len(pieces) / max_pieces
        pieces = [pieces[int(i * step)] for i in range(max_pieces)]
    checks = {f"teacher_{kind}": _Check() for kind in ("on_topic", "off_topic", "stuffed")}
    for piece in pieces:
        ideas = _ideas(piece, teacher.prompts[piece.prompt_id])
        ok = ideas >= 2.5 if piece.expect == "on_topic" else ideas < 2.5
        checks[f"teacher_{piece.expect}"].add(ok, f"{piece.id} ({ideas:.2f})")
    return checks, [(p, teacher.prompts[p.prompt_id]) for p in pieces]


def _review_checks(
    pieces: Mapping[str, EvalPiece], prompts: Mapping[str, Prompt], root: Path | str | None
) -> tuple[_Check, _Check]:
    accuracy = _Check()
    determinism = _Check()
    for pair in load_review_pairs(root):
        piece = pieces.get(pair.piece_id)
        if piece is None:
            continue
        prompt = prompts[piece.prompt_id]
        scores = []
        for review in (pair.good, pair.poor):
            req = ReviewRequest(
                prompt=prompt,
                piece_text=piece.text,
                strength=review.strength,
                suggestion=review.suggestion,
                rating=review.rating,
                focus=prompt.focus,
            )
            first = judge_review_sync(req)
            determinism.add(first == judge_review_sync(req), f"review:{pair.id}")
            scores.append(first.helpfulness)
        accuracy.add(scores[0] > scores[1], f"{pair.id} ({pair.kind})")
    return accuracy, determinism


def _bot_writer() -> tuple[Callable[[BotPieceRequest], BotPiece] | None, str]:
    """The other engineer's offline bot writer, if it is there (imported lazily)."""
    try:
        module = importlib.import_module("server.ai.offline.bot_writer")
    except ImportError as exc:
        return None, f"bot writer not available ({exc})"
    sync = getattr(module, "write_piece_sync", None)
    if callable(sync):

        def call_sync(req: BotPieceRequest) -> BotPiece:
            result: BotPiece = sync(req)
            return result

        return call_sync, "server.ai.offline.bot_writer.write_piece_sync"
    cls = getattr(module, "OfflineBotWriter", None)
    if cls is None:
        return (
            None,
            "server.ai.offline.bot_writer has neither write_piece_sync nor OfflineBotWriter",
        )
    writer = cls()

    def call_async(req: BotPieceRequest) -> BotPiece:
        result: BotPiece = asyncio.run(writer.write_piece(req))
        return result

    return call_async, "server.ai.offline.bot_writer.OfflineBotWriter"


def _bot_skill(count: int, prompts: Sequence[Prompt]) -> tuple[float | None, int, str]:
    if count <= 0:
        return None, 0, "bot check skipped"
    writer, source = _bot_writer()
    if writer is None:
        return None, 0, source
    skills: list[float] = []
    overall: list[float] = []
    try:
        for i in range(count):
            prompt = prompts[i % len(prompts)]
            skill = i / (count - 1) if count > 1 else 0.5
            piece = writer(BotPieceRequest(prompt=prompt, skill=skill, seed=i))
            score = score_piece_sync(
                PieceRequest(prompt=prompt, text=piece.text, focus=prompt.focus, level=prompt.level)
            )
            skills.append(skill)
            overall.append(score.overall)
    except Exception as exc:  # the bot writer is someone else's code: report, do not crash
        return None, len(skills), f"bot writer failed: {type(exc).__name__}: {exc}"
    return spearman(skills, overall), count, source


def _throughput(
    pieces: Sequence[EvalPiece], prompts: Mapping[str, Prompt], count: int
) -> tuple[float, float]:
    """Pieces per second and mean words, scoring ``count`` pieces of ~300 words on one thread."""
    long = [p for p in pieces if 250 <= len(p.text.split()) <= 380] or list(pieces)
    requests = []
    for i in range(count):
        piece = long[i % len(long)]
        text = perturb.misspell(piece.text, 0.01, i) if i >= len(long) else piece.text
        requests.append(_request(piece, prompts[piece.prompt_id], text))
    if not requests:
        return 0.0, 0.0
    score_piece_sync(requests[0])  # load the dictionaries outside the timing
    start = time.perf_counter()
    for req in requests:
        score_piece_sync(req)
    elapsed = time.perf_counter() - start
    words = sum(len(r.text.split()) for r in requests) / len(requests)
    return (len(requests) / elapsed if elapsed > 0 else float("inf")), words


def run_eval(
    root: Path | str | None = None,
    *,
    max_pieces: int | None = None,
    shuffles: int = 5,
    bot_pieces: int = 200,
    throughput_pieces: int = 300,
) -> dict[str, Any]:
    """Run the whole evaluation (see the module docstring) and return its numbers.

    ``root`` is the content folder (default: the repository's); ``max_pieces`` limits the
    evaluation pieces (every other piece kept, for a quicker run); ``bot_pieces=0`` skips the
    bot check and ``throughput_pieces=0`` the speed measurement.
    """
    started = time.perf_counter()
    prompts = load_prompts(root)
    pieces: Sequence[EvalPiece] = load_eval_pieces(root)
    if max_pieces is not None and max_pieces < len(pieces):
        step = len(pieces) / max_pieces
        pieces = [pieces[int(i * step)] for i in range(max_pieces)]
    checks, base, single_shuffle = _perturbation_checks(pieces, prompts, shuffles)
    teacher_checks, teacher_items = _teacher_checks(root, max_pieces)
    appends = _Check()
    _append_check([(p, prompts[p.prompt_id]) for p in pieces] + teacher_items, appends)
    checks["prompt_word_append"] = appends
    checks["thin_prompt"], checks["thin_unrelated"] = _thin_prompt_checks(pieces, prompts, base)
    checks.update(teacher_checks)

    determinism = _Check()
    for piece in pieces:
        req = _request(piece, prompts[piece.prompt_id])
        determinism.add(score_piece_sync(req) == score_piece_sync(req), piece.id)
    by_id = {p.id: p for p in pieces}
    pairs, review_determinism = _review_checks(by_id, prompts, root)
    determinism.passed += review_determinism.passed
    determinism.total += review_determinism.total
    determinism.failures += review_determinism.failures
    checks["determinism"] = determinism
    if pairs.total:
        checks["review_pairs"] = pairs

    public = {p.id: score_piece_sync(_request(p, prompts[p.prompt_id])) for p in pieces}
    quality = [float(p.quality) for p in pieces]
    overall = [public[p.id].overall for p in pieces]
    by_quality: dict[int, list[float]] = {}
    for p in pieces:
        by_quality.setdefault(p.quality, []).append(public[p.id].overall)
    trait_spearman = {
        t.value: round(spearman(quality, [base[p.id].traits[t] for p in pieces]), 3) for t in TRAITS
    }
    bot_rho, bot_count, bot_source = _bot_skill(bot_pieces, list(prompts.values()))
    speed, words = _throughput(load_eval_pieces(root), prompts, throughput_pieces)

    return {
        "checks": {name: round(check.rate, 4) for name, check in checks.items()},
        "check_counts": {name: [check.passed, check.total] for name, check in checks.items()},
        "failures": {name: check.failures for name, check in checks.items() if check.failures},
        "spearman_quality": round(spearman(quality, overall), 4),
        "spearman_bot_skill": None if bot_rho is None else round(bot_rho, 4),
        "bot_pieces": bot_count,
        "bot_source": bot_source,
        "review_pair_accuracy": round(pairs.rate, 4) if pairs.total else None,
        "pieces_per_s": round(speed, 1),
        "throughput_words": round(words, 1),
        "pieces": len(pieces),
        "prompts": len({p.prompt_id for p in pieces}),
        "review_pairs": pairs.total,
        "mean_overall_by_quality": {
            str(q): round(sum(v) / len(v), 2) for q, v in sorted(by_quality.items())
        },
        "trait_spearman_quality": trait_spearman,
        "single_shuffle_organization": round(single_shuffle.rate, 4),
        "seconds": round(time.perf_counter() - started, 2),
    }


def passed(result: Mapping[str, Any]) -> bool:
    """True when every check and target is met (the bot check only when it ran)."""
    checks: Mapping[str, float] = result["checks"]
    ok = all(rate >= (1.0 if name in STRICT_CHECKS else PASS_RATE) for name, rate in checks.items())
    ok = ok and result["spearman_quality"] >= SPEARMAN_TARGET
    speed = result["pieces_per_s"]
    return ok and (speed == 0 or speed >= SPEED_TARGET)


def format_report(result: Mapping[str, Any]) -> str:
    """A human-readable report of :func:`run_eval`'s result."""
    lines = [
        "Offline AI evaluation",
        f"  {result['pieces']} pieces over {result['prompts']} prompts, "
        f"{result['review_pairs']} review pairs, {result['seconds']} s",
        "",
        f"Checks (share of pieces where the score moved the right way; target >= {PASS_RATE:.2f})",
    ]
    counts: Mapping[str, list[int]] = result.get("check_counts", {})
    for name, rate in result["checks"].items():
        mark = "ok  " if rate >= (1.0 if name in STRICT_CHECKS else PASS_RATE) else "FAIL"
        count = counts.get(name)
        tally = f"  ({count[0]}/{count[1]})" if count else ""
        lines.append(f"  {mark} {name:22s} {rate:6.3f}{tally}")
    lines.append(
        f"  (one shuffle per piece instead of the mean of several: "
        f"{result['single_shuffle_organization']:.3f})"
    )
    rho = result["spearman_quality"]
    lines += [
        "",
        f"Spearman(intended quality, overall): {rho:.3f} "
        f"({'ok' if rho >= SPEARMAN_TARGET else 'FAIL'}, target >= {SPEARMAN_TARGET})",
        "  mean overall by intended quality: "
        + ", ".join(f"{q}: {v}" for q, v in result["mean_overall_by_quality"].items()),
        "  per trait: "
        + ", ".join(f"{t} {v}" for t, v in result["trait_spearman_quality"].items()),
    ]
    bot = result["spearman_bot_skill"]
    if bot is None:
        lines.append(f"Spearman(bot skill, overall): n/a ({result['bot_source']})")
    else:
        lines.append(
            f"Spearman(bot skill, overall): {bot:.3f} over {result['bot_pieces']} bot pieces"
        )
    if result["review_pair_accuracy"] is not None:
        lines.append(f"Review pairs ranked right: {result['review_pair_accuracy']:.3f}")
    speed = result["pieces_per_s"]
    if speed:
        lines.append(
            f"Throughput: {speed:.0f} pieces/s (~{result['throughput_words']:.0f} words each, "
            f"one thread; target >= {SPEED_TARGET:.0f})"
        )
    failures: Mapping[str, list[str]] = result.get("failures", {})
    if failures:
        lines += ["", "Failures:"]
        lines += [f"  {name}: {', '.join(ids[:12])}" for name, ids in failures.items()]
    lines += ["", "PASS" if passed(result) else "NOT PASSING"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m server.ai.eval [--quick] [--json] [--content DIR]``; exit 0 when passing."""
    parser = argparse.ArgumentParser(prog="python -m server.ai.eval", description=__doc__)
    parser.add_argument("--content", type=Path, default=None, help="content folder")
    parser.add_argument("--quick", action="store_true", help="fewer pieces, no bot check")
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    parser.add_argument("--bot-pieces", type=int, default=200)
    args = parser.parse_args(argv)
    result = run_eval(
        args.content,
        max_pieces=16 if args.quick else None,
        shuffles=3 if args.quick else 5,
        bot_pieces=0 if args.quick else args.bot_pieces,
        throughput_pieces=60 if args.quick else 300,
    )
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())

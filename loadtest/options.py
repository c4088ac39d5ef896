"""The options of ``quill loadtest`` / ``python -m loadtest``, declared once.

``server.cli`` adds them to its ``loadtest`` subcommand (so ``quill loadtest --help``
shows them and a typo fails there) and hands them on with :func:`to_argv`.  Only
argparse here: importing this module starts nothing.

``--players``, ``--duration`` and ``--json`` are needed for a load run; with ``--drill``
they are optional (a drill has its own short defaults), so :mod:`loadtest.__main__`
checks them, not argparse.
"""

from __future__ import annotations

import argparse
from pathlib import Path

MAX_PLAYERS = 20000
MAX_DURATION = 3600.0
MAX_NODES = 8
MAX_SPECTATORS = 20000

# (flag, type, required, metavar, help)
OPTIONS: tuple[tuple[str, type, bool, str, str], ...] = (
    ("--players", int, False, "N", f"simulated players (1..{MAX_PLAYERS}); needed for a run"),
    ("--duration", float, False, "S", "seconds in which matches start (≤ 3600); needed"),
    ("--json", Path, False, "FILE", "write the report here (it is also printed); needed"),
    ("--target", str, False, "URL", "a running node on loopback; default: start a stack"),
    ("--server-cpus", str, False, "C", "pin the stack to these CPUs (0, 0-1, 0,2)"),
    ("--client-cpus", str, False, "C", "pin the workers to these CPUs"),
    (
        "--companion-cpus",
        str,
        False,
        "C",
        "pin the matchmaker and the bot pool to these CPUs (default: --server-cpus)",
    ),
    (
        "--spectator-cpus",
        str,
        False,
        "C",
        "pin the spectators' workers to these CPUs (default: --client-cpus)",
    ),
    ("--workers", int, False, "W", "worker processes (default: client CPUs, at most 4)"),
    ("--scenario", str, False, "NAME", "a table of loadtest/scenarios.toml (default: default)"),
    ("--seed", int, False, "N", "random seed of the players (default: 1)"),
    ("--nodes", int, False, "N", f"nodes of the stack it starts (1..{MAX_NODES}, default 1)"),
    ("--drill", str, False, "NAME", "run a fault drill instead (--drill list names them)"),
    (
        "--spectators",
        int,
        False,
        "N",
        f"spectators watching live matches at random (0..{MAX_SPECTATORS}, default 0)",
    ),
    (
        "--focus-spectators",
        int,
        False,
        "N",
        f"spectators who all watch one match, the oldest live (0..{MAX_SPECTATORS})",
    ),
)


def add_options(parser: argparse.ArgumentParser) -> None:
    for flag, tp, required, metavar, text in OPTIONS:
        parser.add_argument(flag, type=tp, required=required, metavar=metavar, help=text)


def to_argv(args: argparse.Namespace) -> list[str]:
    """The options in ``args`` as command-line arguments again."""
    out: list[str] = []
    for flag, *_ in OPTIONS:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        if value is not None:
            out += [flag, str(value)]
    return out

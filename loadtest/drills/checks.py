"""The checks every drill shares: what the simulated players had acknowledged (the
ledger, :func:`loadtest.stats.seat_record`) against what PostgreSQL holds afterwards,
matches that are over everywhere (Redis holds none), and processes that are gone.

A seat of a match with results must have, in PostgreSQL: its submission, whose edit log
reaches at least the highest acknowledged ``seq`` and whose text is the text the player
had when it sent the stored edit log's last ``seq``; every acknowledged review (same
strength, suggestion and rating); its ``rating_history`` row with the ``mu_after`` the
results showed; the ``matches`` row.  A match without results must have been closed
with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from typing import Any

import asyncpg
import msgpack
import psutil  # type: ignore[import-untyped]  # no stubs in the venv
from redis import Redis as SyncRedis

from loadtest.drills.base import Check
from loadtest.stats import Tally, text_hash

SETTLE_SECONDS = 45.0  # safety bound: matches leave Redis once saved and closed


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def describe(pid: int) -> dict[str, Any]:
    try:
        proc = psutil.Process(pid)
        return {"pid": pid, "name": proc.name(), "cmdline": " ".join(proc.cmdline())[:200]}
    except psutil.Error:
        return {"pid": pid}


def descendants(pid: int) -> set[int]:
    """``pid``'s descendants, less multiprocessing's resource tracker (a helper of this
    process that ends with it)."""
    out: set[int] = set()
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return out
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "multiprocessing.resource_tracker" not in " ".join(child.cmdline()):
                out.add(int(child.pid))
    return out


def kill(pid: int) -> None:
    """SIGKILL one process we started (directly or through a child), by pid."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def hosted_matches(redis_url: str, node_id: str) -> set[str]:
    client = SyncRedis.from_url(redis_url)
    try:
        members = client.smembers(f"quill:node:{node_id}:matches")
    finally:
        client.close()
    return {m.decode() if isinstance(m, bytes) else str(m) for m in members}


def _redis_leftovers(redis_url: str) -> dict[str, Any]:
    client = SyncRedis.from_url(redis_url)
    try:
        hosted: list[str] = []
        for key in client.scan_iter("quill:node:*:matches"):
            hosted += [m.decode() if isinstance(m, bytes) else str(m) for m in client.smembers(key)]
        logs = [
            k.decode() if isinstance(k, bytes) else str(k)
            for k in client.scan_iter("quill:match:*:log")
        ]
        dead = int(client.hlen("quill:deadletter:outcomes"))
    finally:
        client.close()
    return {"hosted": sorted(hosted), "logs": sorted(logs), "deadletter": dead}


def settle(redis_url: str, timeout: float = SETTLE_SECONDS) -> dict[str, Any]:
    """Wait until no node hosts a match any more (bounded); what is left then."""
    deadline = time.monotonic() + timeout
    left = _redis_leftovers(redis_url)
    while (left["hosted"] or left["logs"]) and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _redis_leftovers(redis_url)
    return left


def finished_matches(dsn: str, match_ids: list[str]) -> list[str]:
    async def query() -> list[str]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT id::text FROM matches WHERE id = ANY($1::uuid[])"
                " AND finished_at IS NOT NULL",
                [uuid.UUID(m) for m in match_ids],
            )
        finally:
            await conn.close()
        return [str(r["id"]) for r in rows]

    return asyncio.run(query()) if match_ids else []


async def _stored(dsn: str, match_ids: list[str]) -> dict[str, Any]:
    ids = [uuid.UUID(m) for m in match_ids]
    conn = await asyncpg.connect(dsn)
    try:
        matches = await conn.fetch(
            "SELECT id::text, finished_at FROM matches WHERE id = ANY($1::uuid[])", ids
        )
        subs = await conn.fetch(
            "SELECT match_id::text, player_id, text, edit_log FROM submissions"
            " WHERE match_id = ANY($1::uuid[])",
            ids,
        )
        reviews = await conn.fetch(
            "SELECT match_id::text, reviewer_id, strength, suggestion, rating FROM reviews"
            " WHERE match_id = ANY($1::uuid[])",
            ids,
        )
        ratings = await conn.fetch(
            "SELECT match_id::text, player_id, mu_after FROM rating_history"
            " WHERE match_id = ANY($1::uuid[])",
            ids,
        )
    finally:
        await conn.close()
    return {"matches": matches, "subs": subs, "reviews": reviews, "ratings": ratings}


def ledger_checks(dsn: str, tally: Tally, players: int) -> list[Check]:
    """Acknowledged edits, reviews, ratings and results against PostgreSQL."""
    seats = list(tally.ledger.values())
    with_results = [r for r in seats if r["results"]]
    done_ids = sorted({r["match"] for r in with_results})
    db = asyncio.run(_stored(dsn, done_ids))
    matches = {r["id"] for r in db["matches"] if r["finished_at"] is not None}
    subs = {(r["match_id"], r["player_id"]): r for r in db["subs"]}
    reviews = Counter(
        (r["match_id"], r["reviewer_id"], r["strength"], r["suggestion"], r["rating"])
        for r in db["reviews"]
    )
    ratings = {(r["match_id"], r["player_id"]): float(r["mu_after"]) for r in db["ratings"]}

    lost_edits: list[dict[str, Any]] = []
    acked_edits = 0
    for r in with_results:
        if not r["acked_seq"]:
            continue
        acked_edits += 1
        row = subs.get((r["match"], r["player"]))
        if row is None:
            lost_edits.append({"match": r["match"], "player": r["player"], "missing": "row"})
            continue
        log = msgpack.unpackb(row["edit_log"], raw=False)
        top = max((int(e["seq"]) for e in log), default=0)
        sent = r["seqs"].get(str(top))
        if top < r["acked_seq"] or sent != text_hash(row["text"]):
            lost_edits.append(
                {
                    "match": r["match"],
                    "player": r["player"],
                    "acked_seq": r["acked_seq"],
                    "stored_seq": top,
                    "text_matches_sent": sent == text_hash(row["text"]),
                }
            )
    wanted = Counter((r["match"], r["player"], *rv) for r in with_results for rv in r["reviews"])
    lost_reviews = [list(k) for k, n in wanted.items() if reviews[k] < n]
    rated = [r for r in with_results if r["mu_after"] is not None]
    lost_ratings = [
        {
            "match": r["match"],
            "player": r["player"],
            "shown": r["mu_after"],
            "stored": ratings.get((r["match"], r["player"])),
        }
        for r in rated
        if abs(ratings.get((r["match"], r["player"]), float("nan")) - r["mu_after"]) > 1e-6
        or (r["match"], r["player"]) not in ratings
    ]
    missing_matches = sorted(set(done_ids) - matches)
    not_saved = sorted({r["match"] for r in with_results if r["saved"] is False})
    unended = [
        {"match": r["match"], "player": r["player"]}
        for r in seats
        if r["unfinished"] or (not r["results"] and not r["closed_reason"])
    ]
    aborted = Counter(r["closed_reason"] for r in seats if not r["results"])
    never_ended = sorted(tally.started - tally.completed - tally.closed)
    return [
        Check(
            "players_connected",
            tally.counts["players_connected"] == players,
            {"players": players, "connected": tally.counts["players_connected"]},
        ),
        Check(
            "matches_played", bool(done_ids), {"with_results": len(done_ids), "seats": len(seats)}
        ),
        Check(
            "acknowledged_edits_stored",
            not lost_edits,
            {"seats_with_acked_edits": acked_edits, "lost": lost_edits[:20]},
        ),
        Check(
            "acknowledged_reviews_stored",
            not lost_reviews,
            {"acked": sum(wanted.values()), "lost": lost_reviews[:20]},
        ),
        Check("ratings_stored", not lost_ratings, {"shown": len(rated), "lost": lost_ratings[:20]}),
        Check(
            "results_stored",
            not missing_matches and not not_saved,
            {"matches": len(done_ids), "missing": missing_matches, "saved_false": not_saved},
        ),
        Check(
            "every_match_ended",
            not unended and not never_ended and tally.counts["unfinished"] == 0,
            {
                "unended_seats": unended[:20],
                "started_never_ended": never_ended,
                "aborted_by_reason": dict(aborted),
                "unfinished": tally.counts["unfinished"],
            },
        ),
        Check(
            "no_internal_errors",
            not tally.errors.get("internal_error") and not tally.closes.get("1011"),
            {"errors": dict(tally.errors), "closes": dict(tally.closes)},
        ),
    ]


def settle_check(redis_url: str) -> Check:
    left = settle(redis_url)
    ok = not left["hosted"] and not left["logs"] and not left["deadletter"]
    return Check("no_match_left_in_redis", ok, left)


def process_check(pids: set[int]) -> Check:
    """Every pid the drill started (or saw its children start) is gone; any left is
    killed (by pid) and named."""
    left = [describe(p) for p in sorted(pids) if alive(p)]
    for p in left:
        kill(int(p["pid"]))
    return Check("no_process_left", not left, {"checked": len(pids), "left": left})

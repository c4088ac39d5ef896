"""GET /api/v1/progress/me and /progress/{user_id} on real PostgreSQL and Redis, with
matches played by the engine and stored by the real storage path."""

from __future__ import annotations

import uuid

from server.ai.content import load_prompts
from server.config import Settings
from server.http.state import PG
from tests.classes.helpers import call, error_of, ok
from tests.conftest import Node, start_node
from tests.progress.helpers import guest, person, play, school


async def test_own_progress_after_matches(node: Node) -> None:
    me = await person(node)
    empty = await ok(await call(node, "GET", "/api/v1/progress/me", me.token))
    assert empty["matches"] == 0 and empty["rating"] is None and empty["practise"] is None
    assert empty["tier"] == {"name": "Newcomer", "next": {"name": "Apprentice", "from": 5.0}}
    assert empty["streak"] == {"current": 0, "best": 0}

    rival = await person(node)  # someone to review, and to be reviewed by
    await play(node.app[PG], {me.id: 20, rival.id: 20})  # 20 words: 3 on every trait
    await play(node.app[PG], {me.id: 40, rival.id: 10}, minutes=2.0)  # 40 words: 5
    p = await ok(await call(node, "GET", "/api/v1/progress/me", me.token))
    assert p["user"]["id"] == me.id and p["matches"] == 2
    assert len(p["rating_series"]) == 2 and p["rating"] is not None
    rating = p["rating"]
    assert abs(rating["conservative"] - (rating["mu"] - 3 * rating["sigma"])) < 0.01
    assert p["rating_series"][-1]["conservative"] == p["rating"]["conservative"]
    voice = next(t for t in p["traits"] if t["trait"] == "voice")
    assert voice["series"] == [3, 5] and voice["recent"] == 4.0 and voice["earlier"] is None
    # 60 words in 3 minutes of writing (first to last edit of each piece)
    assert p["words_per_minute"] == 20.0
    assert p["streak"] == {"current": 1, "best": 1}
    assert p["bests"]["words"] == 40 and p["bests"]["overall"] is not None
    assert p["review_helpfulness"] == 4.0  # the fake judge's default
    practise = p["practise"]
    assert practise["trait"] == "ideas"  # all tied: the rubric's first
    assert practise["prompt"]["id"] in load_prompts() and practise["prompt_trains_trait"]
    assert practise["prompt"]["focus"] == "ideas" and practise["level"] in (
        "elementary",
        "middle",
    )


async def test_the_rating_series_is_limited(node: Node) -> None:
    me = await person(node)
    for words in (10, 20, 30):
        await play(node.app[PG], {me.id: words})
    p = await ok(await call(node, "GET", "/api/v1/progress/me?limit=2", me.token))
    assert len(p["rating_series"]) == 2 and p["matches"] == 3
    for bad in ("0", "101", "x", "-1"):
        status, code, details = await error_of(
            await call(node, "GET", f"/api/v1/progress/me?limit={bad}", me.token)
        )
        assert (status, code) == (422, "validation_failed") and "limit" in details["fields"]


async def test_guests_see_their_own(node: Node) -> None:
    g = await guest(node)
    await play(node.app[PG], {g.id: 30})
    p = await ok(await call(node, "GET", "/api/v1/progress/me", g.token))
    assert p["matches"] == 1 and p["user"]["id"] == g.id
    assert (await call(node, "GET", "/api/v1/progress/me")).status == 401


async def test_who_may_see_a_students_progress(node: Node) -> None:
    s = await school(node)
    await play(node.app[PG], {s.student.id: 30, s.classmate.id: 10})
    path = f"/api/v1/progress/{s.student.id}"
    for viewer in (s.student, s.teacher, s.admin):
        p = await ok(await call(node, "GET", path, viewer.token))
        assert p["user"] == {"id": s.student.id, "display_name": "Ann Lee"} and p["matches"] == 1
    for viewer in (s.classmate, s.other_teacher):
        status, code, _ = await error_of(await call(node, "GET", path, viewer.token))
        assert (status, code) == (404, "progress_not_found")
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        status, code, _ = await error_of(
            await call(node, "GET", f"/api/v1/progress/{unknown}", s.admin.token)
        )
        assert (status, code) == (404, "progress_not_found")
    # a teacher's own progress is theirs to see as well
    await ok(await call(node, "GET", f"/api/v1/progress/{s.teacher.id}", s.teacher.token))


async def test_rate_limit(settings: Settings, database: str, redis_url: str) -> None:
    limited = settings.replace(limits={"progress_reads_per_account_per_minute": 2})
    runner, node = await start_node(limited, database, redis_url)
    try:
        me = await person(node)
        await ok(await call(node, "GET", "/api/v1/progress/me", me.token))
        await ok(await call(node, "GET", f"/api/v1/progress/{me.id}", me.token))
        status, code, details = await error_of(
            await call(node, "GET", "/api/v1/progress/me", me.token)
        )
        assert (status, code) == (429, "rate_limited") and details["bucket"] == "progress.read"
    finally:
        await node.http.close()
        await runner.cleanup()

"""``GET /api/v1/replays/{match_id}`` on a real node (real PostgreSQL and Redis).

Finished matches are played on the engine with a fake clock and stored as the runner
stores them (``save_outcome``, ``save_replay``); a running match is played over real
sockets on the node.  Lobbies and classes are rows in PostgreSQL, as the lobby code
writes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import msgpack
import orjson
import pytest

from server.api.replays import CLOCK, SERVICE, negotiate
from server.config import Settings
from server.game.replay import drafts_at, seat_edits
from server.http.state import REALTIME
from server.replays.service import INLINE_RECORDS
from server.types import PlayerId
from tests.conftest import Node
from tests.realtime.helpers import FAST, PASSWORD, User, http_for, running_node
from tests.realtime.players import Player, start_writing
from tests.replays.helpers import independent_seek, persisted, play, store

DELAY = 30.0


@pytest.fixture
async def node(settings: Settings, database: str, redis_url: str) -> AsyncIterator[Node]:
    settings = settings.replace(
        match={**FAST, "write_seconds": 600.0, "spectator_delay_seconds": DELAY},
        limits={"api_per_ip_per_minute": 100_000},
    )
    async with running_node(settings, database, redis_url) as n:
        yield n


async def sql(database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def users(node: Node, n: int, role: str = "player", database: str = "") -> list[User]:
    http = http_for(node)
    out = [await http.register() for _ in range(n)]
    if role != "player":
        await sql(
            database,
            "UPDATE users SET role = $1 WHERE id = ANY($2::uuid[])",
            role,
            [uuid.UUID(u.id) for u in out],
        )
    return out


async def lobby_of(
    database: str,
    teacher: User,
    match_ids: Sequence[str],
    players: Sequence[User],
    *,
    class_id: uuid.UUID | None = None,
    class_may_watch: bool = False,
) -> uuid.UUID:
    """A lobby of ``teacher`` (of ``class_id``) whose first round played ``match_ids``."""
    (row,) = await sql(
        database,
        "INSERT INTO lobbies (teacher_id, class_id, name, code, settings, node_id, "
        "class_may_watch) VALUES ($1, $2, 'Lobby', $3, '{}'::jsonb, 'n1', $4) RETURNING id",
        uuid.UUID(teacher.id),
        class_id,
        uuid.uuid4().hex[:6].upper(),
        class_may_watch,
    )
    lobby_id: uuid.UUID = row["id"]
    await sql(
        database,
        "INSERT INTO lobby_rounds (lobby_id, round, prompt_id) VALUES ($1, 1, 'lighthouse')",
        lobby_id,
    )
    for party, match_id in enumerate(match_ids, start=1):
        await sql(
            database,
            "INSERT INTO lobby_matches (match_id, lobby_id, round, party, players) "
            "VALUES ($1, $2, 1, $3, $4::uuid[])",
            uuid.UUID(match_id),
            lobby_id,
            party,
            [uuid.UUID(p.id) for p in players],
        )
    return lobby_id


async def klass(database: str, teacher: User, members: Sequence[User]) -> uuid.UUID:
    (row,) = await sql(
        database,
        "INSERT INTO classes (teacher_id, name, grade_level, code) "
        "VALUES ($1, 'Class', 7, $2) RETURNING id",
        uuid.UUID(teacher.id),
        uuid.uuid4().hex[:6].upper(),
    )
    for m in members:
        await sql(
            database,
            "INSERT INTO class_members (class_id, user_id) VALUES ($1, $2)",
            row["id"],
            uuid.UUID(m.id),
        )
    class_id: uuid.UUID = row["id"]
    return class_id


async def get(
    node: Node, match_id: str, token: str, accept: str | None = None
) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    if accept is not None:
        headers["Accept"] = accept
    async with node.http.get(f"{node.url}/api/v1/replays/{match_id}", headers=headers) as resp:
        return resp.status, resp.content_type, await resp.read()


async def replay(node: Node, match_id: str, token: str) -> dict[str, Any]:
    status, media, body = await get(node, match_id, token)
    assert status == 200, body
    assert media == "application/json"
    doc: dict[str, Any] = orjson.loads(body)
    return doc


async def not_found(node: Node, match_id: str, token: str) -> None:
    status, _, body = await get(node, match_id, token)
    assert status == 404, body
    error = orjson.loads(body)["error"]
    assert (error["code"], error["message"], error["details"]) == (
        "replay_not_found",
        "no such replay",
        {},
    )


def ids(people: Sequence[User]) -> list[PlayerId]:
    return [PlayerId(u.id) for u in people]


# --- decoding is exact ----------------------------------------------------------------


async def test_a_finished_replay_decodes_to_what_was_stored(node: Node, database: str) -> None:
    players = await users(node, 4)
    (admin,) = await users(node, 1, "admin", database)
    d = play([*ids(players), PlayerId("bot:1")])
    log = persisted(d)
    match_id = await store(database, d)
    seats = [*ids(players), "bot:1"]

    doc = await replay(node, match_id, admin.token)
    status, media, packed = await get(node, match_id, admin.token, "application/msgpack")
    assert (status, media) == (200, "application/msgpack")
    assert msgpack.unpackb(packed, raw=False) == doc
    assert (doc["format"], doc["version"], doc["status"]) == ("quill.replay", 1, "finished")
    assert doc["keyframe_seconds"] == 10.0  # replays.keyframe_seconds

    # Drafts: the end of the replay is every submission, exactly.
    subs = {
        r["player_id"]: r["text"]
        for r in await sql(
            database, "SELECT player_id, text FROM submissions WHERE match_id = $1",
            uuid.UUID(match_id),
        )
    }  # fmt: skip
    assert independent_seek(doc, doc["end"]) == [subs[p] for p in seats]
    assert any(subs.values())

    # Seeking to any second, keyframe boundaries and between edits included.
    start = doc["start"]
    offsets = [i * 0.5 for i in range(0, 2 * 70)] + [10.0, 20.0, 30.0, 10.000001, 9.999999]
    for edits in seat_edits(log).values():
        offsets += [e.at - start for e in edits[::5]]
    for offset in offsets:
        at = start + offset
        expected = drafts_at(log, at)
        assert independent_seek(doc, at) == [expected.get(PlayerId(p), "") for p in seats], offset

    # Reviews, as the match showed them: after the feedback phase, moderated text.
    stored_reviews = await sql(
        database,
        "SELECT writer_id, shown_strength, shown_suggestion, rating FROM reviews "
        "WHERE match_id = $1 AND NOT withheld",
        uuid.UUID(match_id),
    )
    feedback_end = next(p["at"] for p in doc["phases"] if p["phase"] == "scoring")
    assert doc["reviews"]["at"] >= feedback_end
    got = sorted(
        (seats[r["writer"]], r["strength"], r["suggestion"], r["rating"])
        for r in doc["reviews"]["items"]
    )
    assert got == sorted(tuple(r.values()) for r in stored_reviews)
    assert len(got) > 0

    # Scores: the seats, piece and trait tables.
    rows = await sql(
        database,
        "SELECT s.player_id, s.rank, s.score, s.writing, s.review, sub.words, ps.overall "
        "FROM seats s JOIN submissions sub USING (match_id, player_id) "
        "LEFT JOIN piece_scores ps USING (match_id, player_id) WHERE s.match_id = $1",
        uuid.UUID(match_id),
    )
    traits: dict[str, dict[str, int]] = {}
    for r in await sql(
        database, "SELECT player_id, trait, value FROM scores WHERE match_id = $1",
        uuid.UUID(match_id),
    ):  # fmt: skip
        traits.setdefault(r["player_id"], {})[r["trait"]] = r["value"]
    by_seat = {s["seat"]: s for s in doc["scores"]["seats"]}
    for r in rows:
        s = by_seat[seats.index(r["player_id"])]
        assert (s["rank"], s["score"], s["writing"], s["review"], s["words"]) == (
            r["rank"], r["score"], r["writing"], r["review"], r["words"],
        )  # fmt: skip
        assert s["overall"] == r["overall"]
        assert s["traits"] == traits[r["player_id"]]

    # The second answer comes from the cache and is the same.
    service = node.app[SERVICE]
    hits = service.cache.hits
    assert await replay(node, match_id, admin.token) == doc
    assert service.cache.hits == hits + 1


# --- access ---------------------------------------------------------------------------


async def test_nobody_else_sees_a_private_match(node: Node, database: str) -> None:
    players = await users(node, 4)
    (stranger,) = await users(node, 1)
    (teacher,) = await users(node, 1, "teacher", database)
    (admin,) = await users(node, 1, "admin", database)
    guest = await http_for(node).post("/api/v1/auth/guest", {})
    match_id = await store(database, play(ids(players), ranked=False))

    for token in (stranger.token, teacher.token, guest[1]["access_token"]):
        await not_found(node, match_id, token)
    await not_found(node, str(uuid.uuid4()), stranger.token)  # the same as no match at all
    await not_found(node, "not-a-uuid", stranger.token)
    mine = await replay(node, match_id, players[2].token)  # their own finished match
    assert [s["you"] for s in mine["seats"]] == [False, False, True, False]
    assert all(s["name"] is None for s in mine["seats"])
    assert [s["name"] for s in (await replay(node, match_id, admin.token))["seats"]] == [
        p.handle for p in players
    ]


async def test_a_public_ranked_match_shows_aliases_to_anyone(node: Node, database: str) -> None:
    players = await users(node, 4)
    (stranger,) = await users(node, 1)
    match_id = await store(database, play(ids(players), ranked=True))
    status, _, body = await get(node, match_id, stranger.token)
    assert status == 200
    for p in players:
        assert p.handle.encode() not in body and p.id.encode() not in body
    doc = orjson.loads(body)
    assert all(s["alias"] and s["name"] is None for s in doc["seats"])


async def test_lobby_matches_are_for_the_teacher_and_when_allowed_the_class(
    node: Node, database: str
) -> None:
    students = await users(node, 8)
    class_a, class_b = students[:4], students[4:]
    teacher_a, teacher_b = await users(node, 2, "teacher", database)
    id_a = await klass(database, teacher_a, class_a)
    id_b = await klass(database, teacher_b, class_b)
    anonymous = await store(database, play([*ids(class_a[:3]), PlayerId("bot:1")], ranked=False))
    named = await store(
        database,
        play(ids(class_a[:3]), ranked=False, names=[p.handle for p in class_a[:3]]),
    )
    lobby = await lobby_of(database, teacher_a, [anonymous, named], class_a[:3], class_id=id_a)
    onlooker = class_a[3]  # in the class, not in these matches

    # Not allowed yet: only the teacher (and the players themselves, once finished).
    await not_found(node, anonymous, onlooker.token)
    await not_found(node, anonymous, teacher_b.token)
    teacher_view = await replay(node, anonymous, teacher_a.token)
    assert [s["name"] for s in teacher_view["seats"]] == [p.handle for p in class_a[:3]] + [None]

    await sql(database, "UPDATE lobbies SET class_may_watch = true WHERE id = $1", lobby)
    for other in (*class_b, teacher_b):  # another class and its teacher: never
        await not_found(node, anonymous, other.token)
        await not_found(node, named, other.token)
    assert id_b != id_a

    # An anonymous lobby never shows a name to anyone but its teacher.
    for viewer in (onlooker, *class_a[:3]):
        status, _, body = await get(node, anonymous, viewer.token)
        assert status == 200
        for p in class_a:
            assert p.handle.encode() not in body, (viewer.handle, p.handle)
            assert p.id.encode() not in body
    # A lobby that showed names shows them to its class too.
    doc = await replay(node, named, onlooker.token)
    assert [s["name"] for s in doc["seats"]] == [p.handle for p in class_a[:3]]


async def test_a_lobby_without_a_class_is_watched_by_its_members(node: Node, database: str) -> None:
    players = await users(node, 5)
    (teacher,) = await users(node, 1, "teacher", database)
    match_id = await store(database, play(ids(players[:4]), ranked=False))
    lobby = await lobby_of(database, teacher, [match_id], players[:4], class_may_watch=True)
    member = players[4]
    await not_found(node, match_id, member.token)
    await sql(
        database,
        "INSERT INTO lobby_members (lobby_id, user_id, banned) VALUES ($1, $2, true)",
        lobby,
        uuid.UUID(member.id),
    )
    await not_found(node, match_id, member.token)  # banned
    await sql(database, "UPDATE lobby_members SET banned = false WHERE lobby_id = $1", lobby)
    assert (await replay(node, match_id, member.token))["status"] == "finished"


async def test_a_deleted_account_leaves_no_replay_even_a_cached_one(
    node: Node, database: str
) -> None:
    players = await users(node, 4)
    (admin,) = await users(node, 1, "admin", database)
    match_id = await store(database, play(ids(players)))
    await replay(node, match_id, admin.token)  # now cached
    async with node.http.delete(
        f"{node.url}/api/v1/auth/me",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {players[1].token}"},
    ) as resp:
        assert resp.status == 204
    await not_found(node, match_id, admin.token)
    await not_found(node, match_id, players[0].token)


async def test_a_withheld_piece_is_shown_only_to_its_writer_and_those_above(
    node: Node, database: str
) -> None:
    players = await users(node, 4)
    (stranger,) = await users(node, 1)
    (admin,) = await users(node, 1, "admin", database)
    match_id = await store(database, play(ids(players), blocked=[1]))
    withheld = await sql(
        database, "SELECT withheld FROM submissions WHERE match_id = $1 AND player_id = $2",
        uuid.UUID(match_id), players[1].id,
    )  # fmt: skip
    assert withheld[0]["withheld"]
    public = await replay(node, match_id, stranger.token)
    assert public["edits"][1] == [] and public["seats"][1]["text_shown"] is False
    assert independent_seek(public, public["end"])[1] == ""
    for viewer in (admin, players[1]):
        doc = await replay(node, match_id, viewer.token)
        assert doc["edits"][1] and doc["seats"][1]["text_shown"] is True


# --- formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/msgpack", "application/msgpack"),
        ("application/x-msgpack", "application/msgpack"),
        ("application/vnd.msgpack", "application/msgpack"),
        ("application/msgpack, application/json;q=0.5", "application/msgpack"),
        ("application/json;q=0.4, application/msgpack;q=0.6", "application/msgpack"),
        ("application/msgpack;q=0.5, */*", "application/json"),
        ("application/json;q=0, */*", "application/msgpack"),
        ("application/*", "application/json"),
        ("text/html", None),
        ("application/json;q=0, application/msgpack;q=0", None),
        ("image/png, text/*;q=0.5", None),
    ],
)
def test_accept(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_an_unacceptable_accept_is_406(node: Node, database: str) -> None:
    (player,) = await users(node, 1)
    status, media, body = await get(node, str(uuid.uuid4()), player.token, "text/html")
    assert (status, media) == (406, "application/json")
    assert orjson.loads(body)["error"]["code"] == "not_acceptable"


# --- a running match ------------------------------------------------------------------


async def test_a_running_match_is_shown_up_to_the_delay(node: Node, database: str) -> None:
    people = await users(node, 4)
    (stranger,) = await users(node, 1)
    (admin,) = await users(node, 1, "admin", database)
    (teacher,) = await users(node, 1, "teacher", database)
    hub = node.app[REALTIME]
    created = await hub.create_match(
        ids(people), ranked=True, names=[p.handle for p in people], prompt_id=None
    )
    match_id = str(created.match_id)
    players = [Player(p.handle, p.id, p.token, node.url) for p in people]
    for p in players:
        await p.connect()
        await p.join(created.seats[PlayerId(p.user_id)])
    await start_writing(players)

    log = await hub.store.log(created.match_id)
    edits = [r for r in log if r["k"] == "edit"]
    assert len(edits) == 8
    last = max(r["at"] for r in edits)
    clock = node.app[CLOCK]

    def count(doc: dict[str, Any]) -> int:
        return sum(len(e) for e in doc["edits"])

    def upto(at: float) -> int:
        return sum(1 for r in edits if r["at"] <= at)

    # A stranger watching a ranked match: up to now - spectator_delay_seconds.
    clock.fixed = last + DELAY
    doc = await replay(node, match_id, stranger.token)
    assert (doc["status"], doc["end"], count(doc)) == ("running", last + DELAY - DELAY, 8)
    assert independent_seek(doc, doc["end"]) == [p.text for p in players]
    clock.fixed = last + DELAY - 0.001
    assert count(await replay(node, match_id, stranger.token)) == upto(last - 0.001) < 8
    clock.fixed = min(r["at"] for r in edits) + DELAY - 0.001
    assert count(await replay(node, match_id, stranger.token)) == 0
    # Names the match showed are not shown to a stranger (not a lobby match).
    status, _, body = await get(node, match_id, stranger.token)
    assert status == 200 and all(p.handle.encode() not in body for p in people)
    # An admin: live; a seat-holder: not while it runs.
    clock.fixed = last
    assert count(await replay(node, match_id, admin.token)) == 8
    await not_found(node, match_id, people[0].token)

    # Now a lobby's: its teacher live with names, the class with the delay.
    class_id = await klass(database, teacher, [*people, stranger])
    await lobby_of(database, teacher, [match_id], people, class_id=class_id, class_may_watch=True)
    doc = await replay(node, match_id, teacher.token)
    assert count(doc) == 8
    assert [s["name"] for s in doc["seats"]] == [p.handle for p in people]
    clock.fixed = last + DELAY - 0.001
    doc = await replay(node, match_id, stranger.token)  # now a classmate
    assert count(doc) == upto(last - 0.001) < 8
    assert [s["name"] for s in doc["seats"]] == [p.handle for p in people]

    # One player deletes their account mid-match: alias only, no text, for everyone.
    async with node.http.delete(
        f"{node.url}/api/v1/auth/me",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {people[2].token}"},
    ) as resp:
        assert resp.status == 204
    clock.fixed = last + DELAY
    for viewer in (teacher, admin, stranger):
        status, _, body = await get(node, match_id, viewer.token)
        assert status == 200
        assert people[2].handle.encode() not in body
        doc = orjson.loads(body)
        seat = doc["seats"][2]
        assert seat["name"] is None and seat["alias"] and not seat["text_shown"]
        assert doc["edits"][2] == []
    for p in players:
        await p.c.close()


async def test_a_long_log_is_built_off_the_loop_and_is_as_exact(node: Node, database: str) -> None:
    players = await users(node, 4)
    (admin,) = await users(node, 1, "admin", database)
    d = play(ids(players), edits=200)
    log = persisted(d)
    assert len(log) > INLINE_RECORDS  # built on a worker thread
    match_id = await store(database, d)
    doc = await replay(node, match_id, admin.token)
    for offset in [i * 1.5 for i in range(60)]:
        at = doc["start"] + offset
        expected = drafts_at(log, at)
        assert independent_seek(doc, at) == [expected[PlayerId(p.id)] for p in players]
    subs = await sql(
        database, "SELECT player_id, text FROM submissions WHERE match_id = $1",
        uuid.UUID(match_id),
    )  # fmt: skip
    final = dict(zip([p.id for p in players], independent_seek(doc, doc["end"]), strict=True))
    assert {r["player_id"]: r["text"] for r in subs} == final

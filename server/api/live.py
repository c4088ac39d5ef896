"""``GET /api/v1/matches/live``: the running matches the caller may watch, newest first.

The same rules as spectating and replays (``server/access/watch.py``): a match the
caller may not watch is not listed, and a player is not shown the match they sit in.  A
node lists the matches it runs, where ``spectate.join`` for them is answered
(docs/spectating.md says why).  Paginated with an opaque ``cursor``, as the other lists.

Most callers are players watching public matches, and they all see the same first page:
it is built once and kept for ``replays.live_list_cache_seconds`` (:class:`PublicPages`)
for every caller it is true for — a player with no seat on this node who may watch none
of the live lobby matches.  Teachers, admins, seated players, a lobby's class and later
pages are answered as built for them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import orjson
from aiohttp import web

from server.access.facts import lobbies_of, lobby_matches, role_of
from server.access.watch import LobbyFacts, MatchFacts, Viewer, decide
from server.api.replays import limit_reads
from server.api.session import authenticate
from server.http.openapi import Api, Schema
from server.http.paging import decode_cursor, encode_cursor, page_limit
from server.http.state import PG, REALTIME, SETTINGS
from server.types import PlayerId

if TYPE_CHECKING:
    from server.realtime.hub import Hub
    from server.realtime.runner import MatchRunner

NOBODY = "public"  # the viewer a public page is built for: no account has this id


@dataclass(frozen=True, slots=True)
class PublicPage:
    """The first page of the live list as a viewer with no seat, no special role and no
    class of a live lobby sees it, encoded."""

    at: float  # monotonic seconds
    changed: int  # the hub's runners_changed it was built at
    body: bytes
    lobby_ids: frozenset[str]  # the lobby matches live when it was built


class PublicPages:
    """The public first pages by limit, each kept ``seconds`` (and no longer than the set
    of running matches stays the same): most callers of the live list are spectators who
    see the same page, and building it is most of the list's cost.  ``fixed`` pins the
    clock (tests)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fixed: float | None = None
        self._pages: dict[int, PublicPage] = {}

    def now(self) -> float:
        return time.monotonic() if self.fixed is None else self.fixed

    def get(self, limit: int, changed: int) -> PublicPage | None:
        page = self._pages.get(limit)
        if page is None or page.changed != changed or self.now() - page.at >= self.seconds:
            return None
        return page

    def put(self, limit: int, changed: int, body: bytes, lobby_ids: frozenset[str]) -> PublicPage:
        page = PublicPage(self.now(), changed, body, lobby_ids)
        if self.seconds > 0:
            self._pages[limit] = page  # at most one per limit (1..50)
        return page


PUBLIC_PAGES = web.AppKey("live_public_pages", PublicPages)


def install(app: web.Application) -> None:
    """Put the public pages' cache on ``app`` (before it starts)."""
    app[PUBLIC_PAGES] = PublicPages(app[SETTINGS].replays.live_list_cache_seconds)


api = Api()

_ITEM: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "match_id",
        "phase",
        "deadline",
        "paused",
        "ranked",
        "lobby",
        "seats",
        "bots",
        "prompt",
        "focus",
        "spectators",
        "delay",
        "started_at",
    ],
    "properties": {
        "match_id": {"type": "string", "format": "uuid"},
        "phase": {"type": "string"},
        "deadline": {"type": ["number", "null"]},
        "paused": {"type": "boolean"},
        "ranked": {"type": "boolean"},
        "lobby": {"type": "boolean"},
        "seats": {"type": "integer", "minimum": 0},
        "bots": {"type": "integer", "minimum": 0},
        "prompt": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "title"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}},
        },
        "focus": {"type": "string"},
        "spectators": {"type": "integer", "minimum": 0},
        "delay": {"type": "number", "minimum": 0},
        "started_at": {"type": "number"},
    },
}
_PAGE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": _ITEM},
        "next_cursor": {"type": ["string", "null"]},
    },
}


def _parse_cursor(parts: list[str]) -> tuple[float, str]:
    when, match_id = parts
    return float(when), str(uuid.UUID(match_id))


@api.route(
    "GET",
    "/api/v1/matches/live",
    summary="Running matches on this node you may watch, newest first (limit 1-50, cursor)",
    tag="replays",
    auth=True,
    responses={
        200: ("one page of live matches", _PAGE),
        422: ("bad limit or cursor", None),
        429: ("rate limited (replays.read or the per-address limit); see Retry-After", None),
    },
)
async def live_matches(request: web.Request) -> web.Response:
    claims = await authenticate(request)
    limit = page_limit(request)
    cursor = request.query.get("cursor")
    after = decode_cursor(cursor, _parse_cursor) if cursor else None
    await limit_reads(request, claims.user_id)
    hub = request.app[REALTIME]
    pages = request.app[PUBLIC_PAGES]
    viewer_id = uuid.UUID(claims.user_id)
    async with request.app[PG].acquire() as db:
        role = await role_of(db, viewer_id)
        if role is None:
            return _answer([], limit)
        if after is None and role == "player" and PlayerId(claims.user_id) not in hub.seated:
            page = pages.get(limit, hub.runners_changed) or await _public_page(
                db, hub, pages, limit
            )
            if await _in_no_live_class(db, viewer_id, page):
                return _json(page.body)
        runners = _candidates(hub, after)

        async def lobbies(chunk: list[MatchRunner]) -> dict[str, tuple[LobbyFacts, bool]]:
            return await lobbies_of(db, viewer_id, [uuid.UUID(r.match_id) for r in chunk])

        items = await _page(hub, runners, limit, claims.user_id, role, lobbies)
    return _answer(items, limit)


def _candidates(hub: Hub, after: tuple[float, str] | None) -> list[MatchRunner]:
    """The node's running matches, newest first (after the cursor)."""
    runners = sorted(
        (r for r in hub.runners.values() if not r.closed and r.match.state.outcome is None),
        key=lambda r: (r.created_at, r.match_id),
        reverse=True,
    )
    if after is not None:
        runners = [r for r in runners if (r.created_at, r.match_id) < after]
    return runners


async def _page(
    hub: Hub,
    runners: list[MatchRunner],
    limit: int,
    viewer: str,
    role: str,
    lobbies: Callable[[list[MatchRunner]], Awaitable[Mapping[str, tuple[LobbyFacts, bool]]]],
) -> list[tuple[float, str, dict[str, object]]]:
    """Up to ``limit + 1`` items the viewer may watch; ``lobbies`` gives the lobby facts of
    a chunk of candidates and whether the viewer is in each lobby's class."""
    delay = hub.settings.match.spectator_delay_seconds
    items: list[tuple[float, str, dict[str, object]]] = []
    # The lobby facts of a few candidates at a time: a page costs about one query
    # however many matches the node runs (most are watchable or none are).
    start = 0
    while len(items) <= limit and start < len(runners):
        chunk = runners[start : start + 2 * limit + 1]
        start += len(chunk)
        found = await lobbies(chunk)
        for runner in chunk:
            item = _item(runner, found.get(runner.match_id), viewer, role, delay)
            if item is not None:
                item["spectators"] = hub.spectators.count(runner.match_id)
                items.append((runner.created_at, runner.match_id, item))
                if len(items) > limit:
                    break
    return items


async def _public_page(
    db: asyncpg.Connection, hub: Hub, pages: PublicPages, limit: int
) -> PublicPage:
    """The first page as a player with no seat here and no class of a live lobby sees it
    (built, and kept for ``live_list_cache_seconds``)."""
    changed = hub.runners_changed
    runners = _candidates(hub, None)
    lobby_ids = await lobby_matches(db, [uuid.UUID(r.match_id) for r in runners])
    # Such a viewer may watch no lobby match (server/access/watch.py): none is listed.
    runners = [r for r in runners if r.match_id not in lobby_ids]

    async def no_lobbies(chunk: list[MatchRunner]) -> dict[str, tuple[LobbyFacts, bool]]:
        return {}

    items = await _page(hub, runners, limit, NOBODY, "player", no_lobbies)
    return pages.put(limit, changed, _encode(items, limit), lobby_ids)


async def _in_no_live_class(db: asyncpg.Connection, viewer: uuid.UUID, page: PublicPage) -> bool:
    """Whether the viewer may watch none of the lobby matches live when the page was
    built (so that it is theirs): in none of those lobbies' classes, or the class may
    not watch."""
    if not page.lobby_ids:
        return True
    found = await lobbies_of(db, viewer, [uuid.UUID(m) for m in page.lobby_ids])
    return not any(facts.class_may_watch and in_class for facts, in_class in found.values())


def _encode(items: list[tuple[float, str, dict[str, object]]], limit: int) -> bytes:
    page = items[:limit]
    more = len(items) > limit
    next_cursor = encode_cursor(repr(page[-1][0]), page[-1][1]) if more and page else None
    return orjson.dumps({"items": [i[2] for i in page], "next_cursor": next_cursor})


def _answer(items: list[tuple[float, str, dict[str, object]]], limit: int) -> web.Response:
    return _json(_encode(items, limit))


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


def _item(
    runner: MatchRunner,
    lobby: tuple[LobbyFacts, bool] | None,
    viewer: str,
    role: str,
    delay: float,
) -> dict[str, object] | None:
    """The runner's match as the live list shows it to this viewer, or None."""
    config, state = runner.match.config, runner.match.state
    facts = MatchFacts(
        ranked=config.ranked,
        finished=False,
        players=frozenset(str(s.player) for s in config.seats if not s.is_bot),
        lobby=None if lobby is None else lobby[0],
    )
    in_class = lobby is not None and lobby[1]
    access = decide(Viewer(viewer, role, in_class=in_class), facts, delay)
    if access is None:
        return None
    paused = state.paused_at is not None
    return {
        "match_id": runner.match_id,
        "phase": state.phase.value,
        "deadline": None if paused else state.deadline,
        "paused": paused,
        "ranked": config.ranked,
        "lobby": lobby is not None,
        "seats": len(config.seats),
        "bots": sum(1 for s in config.seats if s.is_bot),
        "prompt": {"id": config.prompt.id, "title": config.prompt.title},
        "focus": str(config.trait),
        "spectators": 0,
        "delay": access.delay,
        "started_at": runner.created_at,
    }

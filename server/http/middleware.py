"""The request pipeline: request id and log binding, errors in one shape, metrics, limits.

Every answer also carries the headers of :func:`response_headers` (set as the response
is prepared, so WebSocket handshakes and streamed answers get them too).
"""

from __future__ import annotations

import re
import time
import uuid

import asyncpg
import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from redis.exceptions import RedisError

from server.accounts.tokens import TokenError
from server.errors import ApiError, PayloadTooLarge
from server.http import ratelimit
from server.http.body import ClientAborted
from server.http.errors import error_response, from_api_error, from_http_exception
from server.http.state import METRICS, REDIS, REQUEST_ID, SETTINGS, SIGNER

log = structlog.get_logger("quill.http")
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SLOW_REQUEST_SECONDS = 1.0  # a request this slow is logged at info level
OWN_BODY_LIMIT: web.AppKey[frozenset[str]] = web.AppKey("own_body_limit")
"""Routes (canonical paths) that bound their bodies themselves, early and with their own
error (an image upload may be larger than ``limits.max_body_bytes``): :func:`limits`
leaves their size to them."""


def client_ip(request: web.Request) -> str:
    if request.app[SETTINGS].server.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote or "unknown"


def request_id(request: web.Request) -> str:
    return str(request.get(REQUEST_ID, ""))


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: bind a request id, turn every failure into the error shape, count it."""
    incoming = request.headers.get("X-Request-ID", "")
    rid = incoming if _RID.fullmatch(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = rid
    structlog.contextvars.bind_contextvars(request_id=rid)
    started = time.perf_counter()
    max_body = request.app[SETTINGS].limits.max_body_bytes
    resp: web.StreamResponse
    try:
        resp = await handler(request)
    except ClientAborted as exc:
        # Nobody is left to answer: count it, say so briefly, no traceback, no 5xx.
        route = _route_name(request)
        request.app[METRICS].counter(
            "quill_http_client_aborts_total",
            "requests whose client went away before its body arrived",
            ("route", "method"),
        ).inc(route=route, method=request.method)
        log.info("http_client_aborted", request_id=rid, route=route, reason=str(exc))
        return web.Response(status=499)  # never sent: the connection is gone
    except ApiError as exc:
        resp = from_api_error(exc, rid)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        resp = from_http_exception(exc, rid, max_body)
    except (RedisError, asyncpg.PostgresConnectionError, OSError) as exc:
        # A dependency that is away or too busy (a Redis pool with no free connection
        # within storage.redis_pool_timeout_seconds, a PostgreSQL restart) is not our bug:
        # the client may try again in a moment.
        log.warning("dependency_unavailable", path=request.path, error=repr(exc))
        resp = error_response(
            503,
            "unavailable",
            "the server is busy or restarting a dependency; try again",
            rid,
            headers={hdrs.RETRY_AFTER: "1"},
        )
    except Exception:
        log.exception("unhandled_error", path=request.path)
        resp = error_response(500, "internal_error", "something went wrong on our side", rid)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    elapsed = time.perf_counter() - started
    route = _route_name(request)
    metrics = request.app[METRICS]
    metrics.counter(
        "quill_http_requests_total",
        "HTTP requests by route and status",
        ("route", "method", "status"),
    ).inc(route=route, method=request.method, status=str(resp.status))
    metrics.histogram(
        "quill_http_request_seconds", "HTTP request latency by route", ("route", "method")
    ).observe(elapsed, route=route, method=request.method)
    if resp.status == 408 and not resp.prepared:
        resp.force_close()  # "Connection: close": the rest of a slow body is not awaited
    # One line per request only for the slow and the failed: the rest is in the
    # quill_http_* counters, and at debug level.
    emit = log.info if resp.status >= 500 or elapsed >= SLOW_REQUEST_SECONDS else log.debug
    emit(
        "http_request",
        request_id=rid,
        method=request.method,
        route=route,
        status=resp.status,
        ms=round(elapsed * 1000, 2),
    )
    return resp


async def response_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: what every answer says about itself.

    ``Server`` names no software version; ``nosniff`` on everything; nothing under
    ``/api/`` may be kept by a cache (answers hold tokens or one account's data).
    """
    response.headers[hdrs.SERVER] = "Quill"
    response.headers[hdrs.X_CONTENT_TYPE_OPTIONS] = "nosniff"
    if request.path.startswith("/api/"):
        response.headers.setdefault(hdrs.CACHE_CONTROL, "no-store")
    if rid := request.get(REQUEST_ID):
        response.headers.setdefault("X-Request-ID", rid)


@web.middleware
async def limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse an oversized body before reading it; rate-limit the REST API per client IP
    and, for a request with a valid access token, per account as well (a whole class
    behind one school address shares the first, one account anywhere the second)."""
    settings = request.app[SETTINGS]
    length = request.content_length
    own = _route_name(request) in request.app.get(OWN_BODY_LIMIT, frozenset())
    if length is not None and length > settings.limits.max_body_bytes and not own:
        raise PayloadTooLarge(
            f"the request body is {length} bytes; the limit is {settings.limits.max_body_bytes}",
            details={"max_bytes": settings.limits.max_body_bytes},
        )
    if request.path.startswith("/api/"):
        checks = [
            ratelimit.Check("api.ip", client_ip(request), settings.limits.api_per_ip_per_minute)
        ]
        account = _token_account(request)
        if account is not None:
            checks.append(
                ratelimit.Check(
                    "api.account",
                    account,
                    settings.limits.api_per_account_per_minute,
                    per="account",
                )
            )
        await ratelimit.hit_all(request.app[REDIS], checks, now=request.app[ratelimit.CLOCK].now())
    return await handler(request)


def _token_account(request: web.Request) -> str | None:
    """The account of the request's Bearer token if it is valid now (else None: the
    handler answers for a bad token).  Verified, not just read: an unverified id would let
    anyone spend another account's allowance."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return str(request.app[SIGNER].verify(token.strip(), time.time()).user_id)
    except TokenError:
        return None

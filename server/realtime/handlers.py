"""What the gateway does with each client message: one :data:`HANDLERS` table.

Every handler gets the node's :class:`~server.realtime.hub.Hub`, the socket and the
decoded message.  A handler refuses by raising ``ProtocolError`` (or the engine's
``InvalidTransition``); :func:`dispatch` turns that into an ``error`` event with the
envelope id, and turns anything else into ``internal_error`` after logging it — no
exception leaves a handler, and nobody else's match is touched.

The match messages (``match.ready``, ``draft.edit``, ``review.submit``,
``match.leave``, ``teacher.*``) become engine inputs through
``server.game.MESSAGE_INPUTS`` and go to the match's inbox; everything else is the
gateway's own business.  ``lobby.*`` and ``teacher.*`` go to the node's lobbies
(``server.lobbies.host``): ``teacher.*`` act on the lobby the socket watches, for every
match of its round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.errors import InvalidTransition
from server.game import MESSAGE_INPUTS
from server.protocol import CLIENT_MESSAGES, ErrorCode, Inbound, ProtocolError, error_event
from server.protocol import client as msgs
from server.protocol import events as ev
from server.realtime.connection import POLICY, Connection
from server.realtime.hub import AlreadySeated, Hub, Unavailable
from server.realtime.runner import MatchRunner
from server.realtime.sessions import Session, new_token
from server.types import SessionToken

Handler = Callable[[Hub, Connection, Inbound], Awaitable[None]]


def welcome(hub: Hub, conn: Connection, match_id: str | None) -> ev.Welcome:
    limits = hub.settings.limits
    assert conn.session_token is not None
    return ev.Welcome(
        session_token=conn.session_token,
        player_id=conn.player,
        server_time=hub.clock.now_ms(),
        heartbeat=hub.tuning.heartbeat_seconds,
        resume_seconds=hub.settings.match.reconnect_grace_seconds,
        limits=ev.LimitsView(
            frame_bytes=limits.frame_bytes,
            messages_per_second=limits.messages_per_second,
            draft_chars=limits.draft_chars,
        ),
        match_id=match_id,
    )


async def session_resume(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Bind the socket to a session; re-seat the player if the session holds a seat."""
    msg = inbound.msg
    assert isinstance(msg, msgs.SessionResume)
    if conn.session_token is not None:  # a second resume on the same socket
        if msg.session_token != conn.session_token:
            raise ProtocolError(ErrorCode.BAD_SESSION, "this socket holds another session")
        runner = conn.runner
        conn.send_event(welcome(hub, conn, None if runner is None else runner.match_id))
        if runner is not None:  # a fresh match.state, e.g. to re-sync after a doubt
            await _join(conn, runner, inbound.id)
        return
    session = await hub.sessions.load(msg.session_token)
    if session is not None and session.player != conn.player:
        error = ProtocolError(ErrorCode.BAD_SESSION, "this session belongs to another account")
        conn.send_event(error_event(error, inbound.id))
        conn.close(POLICY, "bad session", flush=True)
        return
    if session is None:  # unknown or expired: a fresh session with no seat
        token, session = new_token(), Session(conn.player)
    else:
        token = SessionToken(msg.session_token)
    runner = None if session.match_id is None else hub.runners.get(session.match_id)
    if runner is None or runner.closed or conn.player not in runner.humans:
        session.match_id, runner = None, None
    await hub.sessions.save(token, session)
    hub.bind(conn, token)
    conn.send_event(welcome(hub, conn, session.match_id))
    hub.lobbies.resumed(conn)
    if runner is not None:
        conn.runner = runner
        await _join(conn, runner, inbound.id)


def _check_running(runner: MatchRunner) -> None:
    if not runner.running:  # stopped for a shutdown: the next node takes over
        raise ProtocolError(
            ErrorCode.UNAVAILABLE, "this node is restarting; reconnect", retry_after_ms=1000
        )


async def _join(conn: Connection, runner: MatchRunner, ref: int | None) -> None:
    try:
        _check_running(runner)
        await runner.join(conn, ref)
    except ProtocolError:
        if conn.runner is runner:
            conn.runner = None
        raise


async def match_join(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Take a reserved seat; the match answers with ``match.state``."""
    msg = inbound.msg
    assert isinstance(msg, msgs.MatchJoin)
    seat = await hub.store.seat(msg.seat_token)
    if seat is None:
        raise ProtocolError(ErrorCode.BAD_SEAT, "unknown or expired seat token")
    if seat.player != conn.player:
        raise ProtocolError(ErrorCode.BAD_SEAT, "this seat is reserved for another player")
    runner = hub.runners.get(seat.match_id)
    if runner is None or runner.closed:
        where = "is over" if seat.node_id == hub.node_id else "is hosted on another node"
        raise ProtocolError(ErrorCode.BAD_SEAT, f"this match {where}")
    previous = conn.runner
    if previous is not None and previous is not runner:
        await previous.part(conn)
    conn.runner = runner
    assert conn.session_token is not None
    await hub.sessions.save(conn.session_token, Session(conn.player, runner.match_id))
    await _join(conn, runner, inbound.id)


async def match_quickplay(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Start a match now with bots; answered with ``queue.status`` ``matched``."""
    try:
        created = await hub.quickplay(conn.player)
    except AlreadySeated as exc:
        raise ProtocolError(ErrorCode.ALREADY_QUEUED, str(exc)) from None
    except Unavailable as exc:
        raise ProtocolError(ErrorCode.UNAVAILABLE, str(exc)) from None
    conn.send_event(
        ev.QueueStatus(
            status="matched",
            mode="ranked",
            match_id=created.match_id,
            node_url=conn.node_url,
            seat_token=created.seats[conn.player],
        )
    )


async def queue_join(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Into the matchmaker's queue; ``queue.status`` queued now, matched later."""
    msg = inbound.msg
    assert isinstance(msg, msgs.QueueJoin)
    try:
        estimate = await hub.queue_join(conn.player, msg.mode)
    except AlreadySeated as exc:
        raise ProtocolError(ErrorCode.ALREADY_QUEUED, str(exc)) from None
    except Unavailable as exc:
        raise ProtocolError(ErrorCode.UNAVAILABLE, str(exc)) from None
    if estimate is not None:  # None: matched at once; the matched status is the answer
        conn.send_event(ev.QueueStatus(status="queued", mode=msg.mode, estimate_seconds=estimate))


async def queue_leave(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    mode, _ = hub.queued.get(conn.player, ("ranked", 0.0))
    if not await hub.queue_leave(conn.player):
        raise ProtocolError(ErrorCode.NOT_QUEUED, "you are not in the queue")
    conn.send_event(ev.QueueStatus(status="left", mode=mode))


async def ping(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    msg = inbound.msg
    assert isinstance(msg, msgs.Ping)
    conn.send_event(ev.Pong(client_time=msg.client_time, server_time=hub.clock.now_ms()))


async def match_input(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """A message for the engine: to the match's inbox (refused when it is full)."""
    runner = conn.runner
    if runner is None or runner.closed:
        raise ProtocolError(ErrorCode.NOT_IN_MATCH, "join a match first")
    _check_running(runner)
    build = MESSAGE_INPUTS[type(inbound.msg)]
    runner.submit(conn, build(conn.player, inbound.msg, inbound.id), inbound.id)


def _ack(conn: Connection, inbound: Inbound) -> None:
    conn.send_event(ev.Ack(id=inbound.id))


async def teacher_control(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """``teacher.*``: for every match of the round of the lobby this socket watches."""
    msg = inbound.msg
    if isinstance(msg, msgs.TeacherStart):
        await hub.lobbies.start(conn)
    elif isinstance(msg, msgs.TeacherExtend):
        hub.lobbies.control(conn, "extend", float(msg.seconds))
    else:
        hub.lobbies.control(conn, "pause" if isinstance(msg, msgs.TeacherPause) else "resume")
    _ack(conn, inbound)


async def lobby_join(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Join a lobby by its code; answered with ``lobby.state``."""
    msg = inbound.msg
    assert isinstance(msg, msgs.LobbyJoin)
    await hub.lobbies.join(conn, msg.code)


async def lobby_leave(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    await hub.lobbies.leave(conn)


async def lobby_watch(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """The teacher's view: ``lobby.roster`` now, then every change."""
    msg = inbound.msg
    assert isinstance(msg, msgs.LobbyWatch)
    await hub.lobbies.watch(conn, msg.lobby_id)


async def lobby_kick(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    msg = inbound.msg
    assert isinstance(msg, msgs.LobbyKick)
    await hub.lobbies.kick(conn, msg.player_id, msg.ban)
    _ack(conn, inbound)


async def lobby_lock(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    msg = inbound.msg
    assert isinstance(msg, msgs.LobbyLock)
    await hub.lobbies.lock(conn, msg.locked)
    _ack(conn, inbound)


async def lobby_message(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    msg = inbound.msg
    assert isinstance(msg, msgs.LobbyMessage)
    await hub.lobbies.message(conn, msg.text)
    _ack(conn, inbound)


async def spectate_join(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Watch a running match: ``spectate.state`` now, then its events, delayed."""
    msg = inbound.msg
    assert isinstance(msg, msgs.SpectateJoin)
    await hub.spectators.join(conn, msg.match_id)


async def spectate_leave(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    await hub.spectators.leave(conn)


HANDLERS: dict[str, Handler] = {
    "session.resume": session_resume,
    "queue.join": queue_join,
    "queue.leave": queue_leave,
    "match.quickplay": match_quickplay,
    "match.join": match_join,
    "match.ready": match_input,
    "match.leave": match_input,
    "draft.edit": match_input,
    "review.submit": match_input,
    "ping": ping,
    "teacher.start": teacher_control,
    "teacher.pause": teacher_control,
    "teacher.resume": teacher_control,
    "teacher.extend": teacher_control,
    "lobby.join": lobby_join,
    "lobby.leave": lobby_leave,
    "lobby.watch": lobby_watch,
    "lobby.kick": lobby_kick,
    "lobby.lock": lobby_lock,
    "lobby.message": lobby_message,
    "spectate.join": spectate_join,
    "spectate.leave": spectate_leave,
}
"""Wire type → handler, for every client message (checked at import)."""

if set(HANDLERS) != set(CLIENT_MESSAGES):  # pragma: no cover - a programming error
    raise RuntimeError(
        f"HANDLERS and CLIENT_MESSAGES differ: {set(HANDLERS) ^ set(CLIENT_MESSAGES)}"
    )


async def dispatch(hub: Hub, conn: Connection, inbound: Inbound) -> None:
    """Run the message's handler; every failure becomes an ``error`` to this socket."""
    try:
        if conn.session_token is None and inbound.type != "session.resume":
            raise ProtocolError(ErrorCode.BAD_SESSION, "send session.resume first")
        handler = HANDLERS.get(inbound.type)
        if handler is None:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {inbound.type!r}")
        await handler(hub, conn, inbound)
    except (ProtocolError, InvalidTransition) as exc:
        conn.send_event(error_event(exc, inbound.id))
    except Exception:
        hub.metrics.handler_errors.inc()
        runner = conn.runner
        conn.log.exception(
            "handler_failed",
            type=inbound.type,
            match_id=None if runner is None else runner.match_id,
        )
        internal = ProtocolError(ErrorCode.INTERNAL, "something went wrong on our side")
        conn.send_event(error_event(internal, inbound.id))

"""Gateway and runner knobs: the ``[realtime]`` configuration section, in process.

:class:`Tuning` is built once from the settings (:meth:`Tuning.from_settings`, the
``[realtime]`` keys of ``config.toml``) and passed down.  A test can start a node with
other values (for example a tiny send queue) by setting ``app[TUNING]`` before the app
starts.  The defaults below equal the configuration's (a test checks).  Each one is
explained where it is declared and in ``docs/realtime.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aiohttp import web

from server.config import RealtimeSettings


@dataclass(frozen=True, slots=True)
class Tuning:
    # --- sockets -------------------------------------------------------------------------
    heartbeat_seconds: float = 20.0
    """``welcome.heartbeat``: clients ping at least this often.  aiohttp also pings the
    client at this interval and drops a socket that does not pong within half of it."""
    send_queue_frames: int = 256
    """Frames waiting to be written to one socket.  One more and the client is too slow:
    the queue is dropped and the socket closed with 1013 and a reason."""
    send_timeout_seconds: float = 10.0
    """One frame that cannot be handed to the kernel for this long: also too slow (1013)."""
    close_timeout_seconds: float = 5.0
    """How long a closing handshake may take before the TCP connection is cut."""
    oversize_factor: int = 4
    """Frames above ``limits.frame_bytes`` but within this multiple of it are read and
    answered with ``frame_too_large``; larger ones are not read at all: aiohttp cannot
    parse the stream past them, so the socket is closed at once with 1009 and a reason
    (best effort: a client still sending after such a frame may see a reset instead)."""
    bad_frames_close: int = 20
    """Refused frames in a row (bad JSON, unknown type, …) before the socket is closed
    with 1008.  Any accepted message resets the count."""
    flood_close: int = 100
    """Rate-limited messages in a row before the socket is closed with 1008."""
    # --- match runner --------------------------------------------------------------------
    inbox_size: int = 1024
    """Items waiting for a match's task.  When full, a client's match message is dropped
    and refused with ``unavailable``; joins wait up to ``join_wait_seconds``; socket
    life, bot moves and AI answers wait for room (they are never dropped)."""
    batch_max: int = 512
    """Most inbox items handled in one tick (one Redis round trip, one send pass)."""
    join_wait_seconds: float = 5.0
    ai_concurrency: int = 32
    """AI requests (moderation, scoring, judging, bot pieces and reviews) in flight at once
    on this node; also the bound on the work waiting for the offline process pool."""
    ai_timeout_seconds: float = 90.0
    """An AI request not answered by then is answered by the offline engine."""
    bot_edit_seconds: float = 1.0
    """A bot sends its typing as one ``draft.edit`` per this many seconds, like a
    debouncing client."""
    # --- durability ----------------------------------------------------------------------
    queue_update_seconds: float = 5.0
    """How often a queued player gets a fresh ``queue.status`` with the wait estimate."""
    session_refresh_seconds: float = 30.0
    """Live sessions get their Redis TTL renewed this often."""
    seat_ttl_seconds: float = 6 * 3600.0
    """Lifetime of a seat token in Redis (they are deleted when the match closes)."""
    retry_max_seconds: float = 2.0
    """Longest pause between two attempts of a Redis write (retried until it succeeds)."""
    save_retry_max_seconds: float = 30.0
    """Longest pause between two attempts to save an outcome or replay to PostgreSQL."""
    shutdown_wait_seconds: float = 5.0
    """How long shutdown waits for each match to write its checkpoint."""

    @classmethod
    def from_settings(cls, settings: RealtimeSettings) -> Tuning:
        """The node's tuning from the ``[realtime]`` section (same names, same meaning)."""
        return cls(**dataclasses.asdict(settings))


TUNING = web.AppKey("realtime_tuning", Tuning)
"""Optional: set before the app starts to override the defaults (tests do)."""

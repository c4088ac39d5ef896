"""The realtime half of a node: the WebSocket gateway and the match runners (I/O).

The rules live in ``server.game`` and the wire format in ``server.protocol``; nothing
here decides anything about a match, it moves data and carries out effects.

Modules:

- ``gateway``    — ``GET /ws``: handshake, the reader loop, rate limit, frame limits.
- ``handlers``   — ``HANDLERS``: one table from message type to handler; ``dispatch``.
- ``connection`` — one socket: direct writes, a bounded queue and writer task under
  back-pressure, closing with a reason.
- ``sessions``   — session tokens ↔ player and match, kept in Redis with a TTL.
- ``runner``     — one task per match: inbox, timers, write-ahead, broadcasts, AI tasks.
- ``store``      — Redis: the match log, checkpoints, the node's hosted set, seats.
- ``ai``         — AI requests with a node-wide bound and the offline fallback.
- ``aipool``, ``aiworker``, ``aipreload`` — the offline engines in a process pool, off the
  event loop (forkserver with the engines preloaded, warmed at start-up).
- ``bots``       — in-process bot seats (quick play).
- ``hub``        — the node's matches, sockets and sessions; start, restore, shutdown.
- ``admin``      — ``POST /api/v1/admin/matches``: start a match by hand.
- ``lifecycle``  — the ``cleanup_ctx`` and ``on_shutdown`` hooks of the app.
- ``tuning``, ``keys``, ``clock``, ``metrics``, ``retry`` — the ``[realtime]`` settings, Redis keys, time,
  metrics, retrying writes.

The full story (life of a socket, queues and their overflow rules, durability,
shutdown, quick play) is ``docs/realtime.md``.
"""

"""Bot players: ordinary ``quill.v1`` clients of a server node, and the pool that runs them.

A bot connects over a real WebSocket (the ``websockets`` library), sends the same
messages as the browser and is told apart from a person neither by name (aliases are
the server's) nor by timing (human pauses, jitter).  ``docs/bots.md`` has the whole
story.

Modules, from the wire up:

- ``wire``     — socket URLs; server frames into the typed events of ``server.protocol``.
- ``backoff``  — the reconnect schedule (capped exponential, jittered, bounded).
- ``client``   — :class:`~bots.client.BotClient`: handshake, ``session.resume``, typed
  send/receive, heartbeat pings, reconnect and resume.
- ``timeline`` — a writer engine's typing timeline as debounced ``draft.edit`` messages.
- ``draft``    — :class:`~bots.draft.DraftSync`: the local draft, ``seq``, pending edits,
  rebase after a resume, snapshots.
- ``pace``     — :class:`~bots.pace.Pace`: human timing for readying, reviewing, leaving.
- ``player``   — :class:`~bots.player.BotPlayer`: plays one seat from ``match.join`` to
  the results.
- ``tokens``   — :class:`~bots.tokens.BotTokens`: short-lived access tokens for bots.
- ``pool``     — :class:`~bots.pool.BotPool`: bot requests from Redis, one task per seat.
- ``ai``       — the pool's AI engines: the offline ones in warm worker processes
  (:mod:`server.realtime.aipool`, the node's pool), off the event loop.
- ``__main__`` — ``python -m bots``, the pool process's composition root.

``bots`` imports ``server``; ``server`` never imports ``bots``.
"""

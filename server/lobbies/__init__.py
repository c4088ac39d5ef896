"""Private lobbies: a teacher's room with a join code, rounds of parties, the live view.

- :mod:`server.lobbies.rules` — round rules: parsing, defaults from ``[match]``, the
  prompt of a round (pure);
- :mod:`server.lobbies.parties` — splitting a roster into parties (pure, table-tested);
- :mod:`server.lobbies.store` — SQL for lobbies, members, rounds, matches (asyncpg);
- :mod:`server.lobbies.host` — the node's live lobbies: joins, watchers, controls, rounds;
- :mod:`server.lobbies.live` — the teacher's live view, the observer of a round's matches.

REST is :mod:`server.api.lobbies`; the messages are ``lobby.*`` and ``teacher.*``
(``server.realtime.handlers``); docs/lobbies.md describes it all.
"""

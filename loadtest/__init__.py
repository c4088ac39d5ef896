"""Load test: simulated players against a stack on loopback (``quill loadtest``).

- :mod:`loadtest.scenario` — what the players do (data: ``scenarios.toml``)
- :mod:`loadtest.typing` — a typist's edits, pure (no I/O, no clock)
- :mod:`loadtest.stats` — histograms, percentiles, the mergeable tallies of a worker
- :mod:`loadtest.player` — one simulated player over ``websockets``
- :mod:`loadtest.worker` — a worker process: many players on one uvloop
- :mod:`loadtest.fleet` — the workers seen from the parent: start, collect, stop
- :mod:`loadtest.stack` — the stack it starts (PostgreSQL, Redis, nodes, matchmakers, bots)
- :mod:`loadtest.drills` — fault drills (``--drill``): one module per drill, shared checks
- :mod:`loadtest.__main__` — the composition root and the report
"""

"""Live spectating: a match's events to its watchers, delayed on the server (docs/protocol.md#spectator-events)."""

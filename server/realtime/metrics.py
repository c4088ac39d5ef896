"""The realtime part's metrics, registered once on the node's registry."""

from __future__ import annotations

from server.metrics import Registry

FLUSH_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class RealtimeMetrics:
    def __init__(self, registry: Registry) -> None:
        self.connections = registry.gauge("quill_ws_connections", "Open WebSocket connections")
        self.opened = registry.counter(
            "quill_ws_opened_total", "WebSocket connections accepted, by codec", ("codec",)
        )
        self.messages_in = registry.counter(
            "quill_ws_messages_in_total", "WebSocket frames received, by outcome", ("outcome",)
        )
        self.messages_out = registry.counter("quill_ws_messages_out_total", "WebSocket frames sent")
        self.closes = registry.counter(
            "quill_ws_server_closes_total", "Sockets the server closed, by close code", ("code",)
        )
        self.slow_disconnects = registry.counter(
            "quill_ws_slow_disconnects_total", "Sockets closed because the client read too slowly"
        )
        self.spectators = registry.gauge(
            "quill_spectators", "Sockets watching a match on this node (spectate.join)"
        )
        self.matches_running = registry.gauge(
            "quill_matches_running", "Matches hosted by this node"
        )
        self.edit_flush = registry.histogram(
            "quill_match_edit_flush_seconds",
            "Time to write one tick of a match's log to Redis (before its acks go out)",
            buckets=FLUSH_BUCKETS,
        )
        self.inbox_full = registry.counter(
            "quill_match_inbox_full_total", "Client messages refused because a match was busy"
        )
        self.ai_fallbacks = registry.counter(
            "quill_match_ai_fallbacks_total",
            "AI requests answered by the offline engine after an error",
            ("task",),
        )
        self.moderation_flags = registry.counter(
            "quill_match_moderation_flags_total", "Texts moderation asked a human to look at"
        )
        self.outcomes_unsaved = registry.counter(
            "quill_match_outcomes_unsaved_total",
            "Finished matches whose outcome went to the dead-letter store instead of PostgreSQL",
        )
        self.handler_errors = registry.counter(
            "quill_ws_handler_errors_total", "Unexpected errors in message handlers"
        )

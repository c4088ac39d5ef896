"""Notifications: stored in PostgreSQL, listed over REST, pushed over the WebSocket."""

"""Leaderboards' pure parts (the routes are in server/api/leaderboards.py)."""

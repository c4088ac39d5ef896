"""Quill Arena: a real-time game server for competitive writing."""

__version__ = "0.1.0"

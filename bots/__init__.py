"""Bots: filled in by later issues."""

"""Matchmaker: filled in by later issues."""

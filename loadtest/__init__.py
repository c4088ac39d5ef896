"""Loadtest: filled in by later issues."""

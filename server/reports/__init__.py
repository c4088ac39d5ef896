"""Content reports, the review queue and hidden content (docs/reports.md)."""

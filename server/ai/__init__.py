"""AI engines: one interface per task, an offline engine and a Claude engine."""

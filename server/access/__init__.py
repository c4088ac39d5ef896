"""Who may see what: pure rules over small facts records (``watch``: matches and replays)."""

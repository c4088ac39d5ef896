"""Solo practice: a timed round alone, scored by the AI, not rated (docs/practice.md)."""

"""Tutoring Q&A (docs/tutor.md): a student's threads with the AI tutor, escalations to
their teacher, the answer cache and the limits.

- ``guard``   — pure rules: the cache form of a question, requests to write the piece,
  answers that are ready-made prose;
- ``store``   — threads, messages, escalations and the class switch in PostgreSQL;
- ``service`` — answering one question: guards, moderation, cache, daily limit, spend cap,
  engine choice and fallback.

The routes are server/api/tutor.py.
"""

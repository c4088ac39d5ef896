"""Files that users upload: checked by content, re-encoded, stored in PostgreSQL.

``images.py`` is pure (bytes in, a re-encoded image or a named refusal out); ``store.py``
is its SQL (``migrations/0007_prompt_images.sql``).
"""

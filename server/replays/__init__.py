"""Replays of matches: the seekable document (``build``, pure), loading and caching
(``service``); the route is ``server/api/replays.py`` and the format docs/replays.md."""

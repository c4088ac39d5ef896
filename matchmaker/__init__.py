"""Matchmaker: the pure party former and, later, the Redis-backed queue process around it.

``party`` forms parties, ``quality`` is TrueSkill free-for-all quality, ``estimate``
the wait estimator and ``bench`` the tick benchmark.
"""

"""Classes and the student accounts a teacher creates without an e-mail address.

- :mod:`server.classes.codes` — sign-in and class codes: the alphabet, generation,
  normalising what a child types (pure);
- :mod:`server.classes.roster` — CSV roster parsing, name checks and usernames derived
  from names (pure);
- :mod:`server.classes.sheet` — the printable roster sheet, HTML (pure);
- :mod:`server.classes.codehash` — sign-in codes hashed with argon2id, off the loop;
- :mod:`server.classes.store` — SQL for classes, members and students (asyncpg).

The routes are in :mod:`server.api.classes` (teachers) and :mod:`server.api.auth`
(a student's sign-in); docs/classes.md describes them.
"""

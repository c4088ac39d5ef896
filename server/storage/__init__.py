"""PostgreSQL storage of matches, ratings and replays (asyncpg)."""

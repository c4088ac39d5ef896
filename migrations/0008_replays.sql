-- Who may watch a lobby's matches (docs/replays.md, server/access/watch.py).
--
-- lobbies.class_may_watch: the lobby's class (its class's members, or for a lobby
--   without a class the players who joined it and were not banned) may watch the lobby's
--   matches, live with the spectator delay and as replays. Off by default: only the
--   teacher (and admins) watch. No REST field sets it yet; that belongs with the round
--   rules (server/lobbies/rules.py, PATCH /api/v1/lobbies/{id}).

ALTER TABLE lobbies ADD COLUMN class_may_watch boolean NOT NULL DEFAULT false;

-- A teacher's override of a piece's AI score (docs/lobbies.md, "Results, overrides and CSV").
--
-- score_overrides: the override in force on one piece, at most one per piece. piece_scores
--   and scores keep holding the values in force (the override's where it set one, the AI's
--   elsewhere), so every reader (results, /me, portfolios) shows the corrected score without
--   knowing about overrides; ai_overall and ai_traits keep what the AI gave, so overriding
--   again replaces the earlier override instead of stacking on it. overall NULL: the AI's
--   overall stands; traits holds only the traits the teacher set ({trait: 1..6}).
--   revision counts the overrides of this piece. Every override, the replaced ones
--   included, is in audit_log (action lobby.score.override) with before, after and reason.
--   The re-scorer (server/storage/rescore.py) leaves overridden pieces alone.
--   ON UPDATE CASCADE: deleting an account renames its seat's player_id to a pseudonym.

CREATE TABLE score_overrides (
    match_id     uuid NOT NULL,
    player_id    text NOT NULL,
    lobby_id     uuid REFERENCES lobbies (id) ON DELETE SET NULL,
    overall      double precision CHECK (overall BETWEEN 1 AND 6),
    traits       jsonb NOT NULL DEFAULT '{}'::jsonb,
    ai_overall   double precision NOT NULL,
    ai_traits    jsonb NOT NULL,
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    revision     integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (match_id, player_id),
    FOREIGN KEY (match_id, player_id) REFERENCES piece_scores (match_id, player_id)
        ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX score_overrides_lobby_idx ON score_overrides (lobby_id);

-- Private lobbies: a teacher's room with a join code, its members, its rounds and the
-- matches each round played (docs/lobbies.md).
--
-- lobbies: one per opening; class_id NULL means open to anyone signed in who has the
--   code. The code (6 symbols of the sign-in alphabet) is unique among open lobbies
--   only: closing a lobby frees its code. settings holds the round rules as JSON
--   (server/lobbies/rules.py). node_id is the node that hosts the lobby's live state.
-- lobby_members: who joined; left_at / kicked_at end a membership (banned keeps a
--   kicked player out for good); joining again clears left_at and kicked_at.
-- lobby_rounds: each start of the lobby; ended_at once every match of it closed.
-- lobby_matches: which match played which party of which round. match_id is not a
--   foreign key: the matches row is written when the match finishes, and a match that
--   closed without results has none; join on it to find a lobby's results.

CREATE TABLE lobbies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    teacher_id  uuid NOT NULL REFERENCES users (id),
    class_id    uuid REFERENCES classes (id) ON DELETE SET NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    code        text NOT NULL CHECK (length(code) = 6),
    settings    jsonb NOT NULL,
    locked      boolean NOT NULL DEFAULT false,
    node_id     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE UNIQUE INDEX lobbies_open_code_idx ON lobbies (code) WHERE closed_at IS NULL;
CREATE INDEX lobbies_teacher_idx ON lobbies (teacher_id, created_at);
CREATE INDEX lobbies_class_idx ON lobbies (class_id, created_at);

CREATE TABLE lobby_members (
    lobby_id   uuid NOT NULL REFERENCES lobbies (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at  timestamptz NOT NULL DEFAULT now(),
    left_at    timestamptz,
    kicked_at  timestamptz,
    banned     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (lobby_id, user_id)
);
CREATE INDEX lobby_members_user_idx ON lobby_members (user_id);

CREATE TABLE lobby_rounds (
    lobby_id    uuid NOT NULL REFERENCES lobbies (id) ON DELETE CASCADE,
    round       integer NOT NULL CHECK (round >= 1),
    prompt_id   text NOT NULL,
    started_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    PRIMARY KEY (lobby_id, round)
);

CREATE TABLE lobby_matches (
    match_id  uuid PRIMARY KEY,
    lobby_id  uuid NOT NULL,
    round     integer NOT NULL,
    party     integer NOT NULL CHECK (party >= 1),
    players   uuid[] NOT NULL,
    bots      integer NOT NULL DEFAULT 0,
    FOREIGN KEY (lobby_id, round) REFERENCES lobby_rounds (lobby_id, round) ON DELETE CASCADE
);
CREATE INDEX lobby_matches_round_idx ON lobby_matches (lobby_id, round);

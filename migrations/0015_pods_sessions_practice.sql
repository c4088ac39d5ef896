-- Pod sessions and solo practice (docs/pods.md, docs/practice.md).
--
-- lobbies.pod_id: the pod a lobby was opened for (NULL: a teacher's lobby). Only that
--   pod's members may join it; its teacher_id is the pod's first member (the column is
--   NOT NULL), who joins it like the others and does not manage it.
-- pod_sessions: one row per pod and weekly session start, written by the node whose
--   scheduler opened the session's lobby. The primary key is the cross-node lock: two
--   nodes ticking at once both try the insert, one wins and opens the lobby. prompt_id
--   and focus are the agenda; started_at once the round started, closed_at once the
--   lobby closed after the session.
-- practice_rounds: a solo practice round (not rated). While it runs the draft lives here;
--   when it is submitted (by the writer or at the deadline) the piece is stored as a
--   match of one seat (matches.mode = 'practice-solo', ranked false: no rating_history
--   row) and match_id names it.

ALTER TABLE lobbies ADD COLUMN pod_id uuid REFERENCES pods (id) ON DELETE SET NULL;

CREATE TABLE pod_sessions (
    pod_id         uuid NOT NULL REFERENCES pods (id) ON DELETE CASCADE,
    session_start  timestamptz NOT NULL,
    lobby_id       uuid NOT NULL REFERENCES lobbies (id) ON DELETE CASCADE,
    prompt_id      text NOT NULL,
    focus          text NOT NULL,
    node_id        text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    closed_at      timestamptz,
    PRIMARY KEY (pod_id, session_start)
);
CREATE INDEX pod_sessions_open ON pod_sessions (node_id) WHERE closed_at IS NULL;

CREATE TABLE practice_rounds (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt_id     text NOT NULL,
    focus         text NOT NULL,
    focus_from    text NOT NULL,  -- goal, weakest or prompt: why this focus
    level         text NOT NULL,
    seconds       integer NOT NULL CHECK (seconds > 0),
    started_at    timestamptz NOT NULL,
    deadline      timestamptz NOT NULL,
    draft         text NOT NULL DEFAULT '',
    draft_seq     integer NOT NULL DEFAULT 0,
    edit_log      jsonb NOT NULL DEFAULT '[]',
    submitted_at  timestamptz,
    match_id      uuid REFERENCES matches (id) ON DELETE SET NULL
);
CREATE INDEX practice_rounds_user ON practice_rounds (user_id, started_at DESC);
CREATE UNIQUE INDEX practice_rounds_one_open ON practice_rounds (user_id)
    WHERE submitted_at IS NULL;

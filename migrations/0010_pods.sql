-- Study pods (docs/pods.md): standing groups of 3-6 writers who meet weekly.
--
-- pod_profiles: what pod forming needs of a writer: their IANA time zone, weekly windows
--   in local time ([{"day": 0-6, "start": minute of the day, "minutes": n}]), goal traits.
-- pods: a pod and its weekly session slot (a minute of the UTC week, see
--   server/pods/forming.py), in the time zone of the member who founded it.
-- pod_members: one pod per writer at most (the unique index).
-- pod_waitlist: writers no pod fits yet; retried whenever someone joins the list.
-- pod_departures: who left which pod with whom and why; a rematch never puts a writer
--   back with the members of the pod they left.

CREATE TABLE pod_profiles (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone   text NOT NULL,
    windows     jsonb NOT NULL,
    goals       text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pods (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    time_zone   text NOT NULL,
    slot_start  integer NOT NULL CHECK (slot_start >= 0 AND slot_start < 10080),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pod_members (
    pod_id      uuid NOT NULL REFERENCES pods (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pod_id, user_id)
);
CREATE UNIQUE INDEX pod_members_one_pod ON pod_members (user_id);

CREATE TABLE pod_waitlist (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    since       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pod_departures (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pod_id      uuid NOT NULL,
    former      uuid[] NOT NULL,
    reason      text NOT NULL,
    rematch     boolean NOT NULL,
    left_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pod_departures_user ON pod_departures (user_id, left_at DESC);

-- pod_checkins: after each weekly session (by its start), each member's check-in: did
--   they attend, one win, one thing to change. The pod's streak is computed from these
--   (server/pods/sessions.py).
CREATE TABLE pod_checkins (
    pod_id         uuid NOT NULL REFERENCES pods (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_start  timestamptz NOT NULL,
    attended       boolean NOT NULL,
    win            text NOT NULL DEFAULT '',
    change         text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pod_id, user_id, session_start)
);

-- Notifications (docs/notifications.md): what a user is told outside a match — a goal met,
-- a pod session starting soon, an escalation answered, a teacher's message, a score
-- overridden, an action on a report.
--
-- kind: one of server/notifications/store.KINDS (checked in code, so a new kind needs no
--   migration). data: the kind's fields (ids and short texts the client shows; never a
--   copy of a piece). read_at: null while unread.

CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Content reports and the review queue (docs/reports.md), and what a moderator hid.
--
-- reports: one user's report of a piece or a review.  kind 'piece': item is the writer's
--   player id in the match; kind 'review': item is the review id.  author_id: the account
--   that wrote the content (null for a bot, or once deleted).  reporter_id: who reported
--   (never shown to the author; null once the reporter deleted their account, their note
--   blanked).  status: open until a teacher or admin acts (dismissed, hidden, warned).
--   One report per reporter and content (reports_once).
-- hidden_content: a piece or a review a moderator hid: others no longer see it (results,
--   replays, portfolios); its author sees it marked hidden.

CREATE TABLE reports (
    id           uuid PRIMARY KEY,
    reporter_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    kind         text NOT NULL CHECK (kind IN ('piece', 'review')),
    match_id     uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    item         text NOT NULL,
    target       text NOT NULL,
    author_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    reason       text NOT NULL,
    note         text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'dismissed', 'hidden', 'warned')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz,
    closed_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    action_note  text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX reports_once ON reports (reporter_id, kind, match_id, item)
    WHERE reporter_id IS NOT NULL;
CREATE INDEX reports_queue ON reports (created_at DESC, id DESC);
CREATE INDEX reports_match ON reports (match_id);
CREATE INDEX reports_author ON reports (author_id);

CREATE TABLE hidden_content (
    match_id   uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('piece', 'review')),
    item       text NOT NULL,
    report_id  uuid REFERENCES reports (id) ON DELETE SET NULL,
    hidden_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    hidden_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (match_id, kind, item)
);

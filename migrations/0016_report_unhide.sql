-- A moderator may undo a hide (docs/reports.md#acting): the hidden_content row goes and
-- the reports that stood closed as 'hidden' on that content become 'restored'.

ALTER TABLE reports DROP CONSTRAINT reports_status_check;
ALTER TABLE reports ADD CONSTRAINT reports_status_check
    CHECK (status IN ('open', 'dismissed', 'hidden', 'warned', 'restored'));

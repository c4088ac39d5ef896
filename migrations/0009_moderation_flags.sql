-- What moderation told the teacher about a piece (docs/lobbies.md#results).
--
-- submissions.moderation_flags: the reasons of a moderation result that flagged the
--   teacher (a self-harm signal, harassment), whatever its verdict: such a piece may be
--   shown as written (verdict allow) and still be what a teacher must see after the match,
--   in the results and the CSV, not only in the live alert. Empty when nothing flagged.

ALTER TABLE submissions ADD COLUMN moderation_flags text[] NOT NULL DEFAULT '{}';

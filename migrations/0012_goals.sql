-- Goals (docs/progress.md, "Goals"): "Voice to 4 by June". A student sets one on a trait, or
-- their teacher sets one for them.
--
-- trait: one of the rubric's traits (server/ai/types.TRAITS, checked in code). target: the
--   recent average (server/progress/summary.RECENT pieces) to reach, 1..6 in half steps.
-- due: an optional day (UTC) to reach it by; a goal past its day stays open (shown late).
-- set_by: who set it (the student, or a teacher of a class the student is in; null once
--   that account is gone). met_at: when a stored score first brought the recent average to
--   the target (server/goals/store.check_goals); null while open. baseline: the recent
--   average when the goal was set (null: nothing scored yet), to draw the progress bar from.

CREATE TABLE goals (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    trait       text NOT NULL,
    target      numeric(2, 1) NOT NULL CHECK (target BETWEEN 1 AND 6),
    due         date,
    baseline    double precision,
    set_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    met_at      timestamptz,
    met_value   double precision
);
CREATE INDEX goals_user ON goals (user_id, created_at DESC);
CREATE INDEX goals_open ON goals (user_id) WHERE met_at IS NULL;

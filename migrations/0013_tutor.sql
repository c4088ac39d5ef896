-- Tutoring Q&A (docs/tutor.md): a student's threads with the AI tutor, the teacher's
-- answers to escalated threads, and the class switch.
--
-- classes.tutor_enabled: a class's teacher may switch the tutor off; a student of any
--   class with it off may not ask the tutor (403 tutor_off), but keeps their threads.
-- tutor_threads: one conversation; match_id is the student's own piece it is about (a
--   match they held a seat in), or NULL for a question about writing in general.
-- tutor_messages: the turns, in order (seq from 1). author 'student' (a question),
--   'tutor' (the AI's answer: confidence, factors, engine, whether it came from the
--   cache, a notice such as spend_cap, whether it declined, whether it offers the
--   teacher) or 'teacher' (a teacher's or admin's answer; author_id says who).
-- tutor_escalations: "Ask my teacher" (reason 'asked') or a safety signal in a question
--   (reason 'safety', made by the server); open until a teacher answers in the thread.
--   At most one open escalation per thread.

ALTER TABLE classes ADD COLUMN tutor_enabled boolean NOT NULL DEFAULT true;

CREATE TABLE tutor_threads (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text NOT NULL,
    match_id    uuid REFERENCES matches (id) ON DELETE SET NULL,
    messages    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tutor_threads_user ON tutor_threads (user_id, updated_at DESC, id DESC);

CREATE TABLE tutor_messages (
    id          uuid PRIMARY KEY,
    thread_id   uuid NOT NULL REFERENCES tutor_threads (id) ON DELETE CASCADE,
    seq         integer NOT NULL CHECK (seq >= 1),
    author      text NOT NULL CHECK (author IN ('student', 'tutor', 'teacher')),
    author_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    text        text NOT NULL,
    confidence  text CHECK (confidence IN ('high', 'medium', 'low')),
    factors     jsonb,
    engine      text CHECK (engine IN ('claude', 'offline')),
    cached      boolean NOT NULL DEFAULT false,
    notice      text,
    declined    boolean NOT NULL DEFAULT false,
    ask_teacher boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (thread_id, seq)
);

CREATE TABLE tutor_escalations (
    id           uuid PRIMARY KEY,
    thread_id    uuid NOT NULL REFERENCES tutor_threads (id) ON DELETE CASCADE,
    student_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason       text NOT NULL CHECK (reason IN ('asked', 'safety')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz,
    answered_by  uuid REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX tutor_escalations_one_open ON tutor_escalations (thread_id)
    WHERE answered_at IS NULL;
CREATE INDEX tutor_escalations_student ON tutor_escalations (student_id) WHERE answered_at IS NULL;

-- Classes and the student accounts a teacher creates without an e-mail address.
--
-- classes: one teacher's group, with a class code (6 symbols of the sign-in alphabet,
--   unique) and its settings. Lobbies will reference classes (id) later.
-- class_members: who is in a class. Today only the students a teacher created; later also
--   players who join with their own account, which is why it is apart from students.
-- students: the accounts a class manages: the argon2id hash of the sign-in code (NULL
--   once the student chose a password of their own, when the class allows it), when the
--   code was issued and last used. A student is in exactly one managing class.
-- users.is_student marks those accounts: they have a handle (the username) but need no
--   password, which the credentials check now allows for them.

ALTER TABLE users ADD COLUMN is_student boolean NOT NULL DEFAULT false;

ALTER TABLE users DROP CONSTRAINT users_credentials_check;
ALTER TABLE users ADD CONSTRAINT users_credentials_check
    CHECK (is_guest OR deleted_at IS NOT NULL
           OR (handle IS NOT NULL AND (password_hash IS NOT NULL OR is_student)));

CREATE TABLE classes (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    teacher_id                 uuid NOT NULL REFERENCES users (id),
    name                       text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    grade_level                smallint NOT NULL CHECK (grade_level BETWEEN 0 AND 13),
    code                       text NOT NULL UNIQUE,
    students_may_set_password  boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX classes_teacher_idx ON classes (teacher_id, created_at);

CREATE TABLE class_members (
    class_id   uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL DEFAULT 'student' CHECK (role IN ('student')),
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (class_id, user_id)
);
CREATE INDEX class_members_user_idx ON class_members (user_id);

CREATE TABLE students (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    class_id         uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    code_hash        text,
    code_issued_at   timestamptz NOT NULL DEFAULT now(),
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz,
    FOREIGN KEY (class_id, user_id) REFERENCES class_members (class_id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX students_class_idx ON students (class_id);

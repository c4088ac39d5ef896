-- A teacher's own prompt images (docs/lobbies.md#a-prompt-image-of-your-own).
--
-- prompt_images: one re-encoded image (server/uploads/images.py: checked by content,
--   EXIF and every other piece of metadata gone, at most 1600 px on its longer side)
--   uploaded by teacher_id for their lobbies' custom prompts. id is a random uuid (v4):
--   it is the image's address (/prompts/<id>.webp), unguessable, so the file can be
--   shown in an <img> without a token. bytes holds the file as served; sha256 is of
--   bytes (its ETag: the content never changes under an id). The same file uploaded
--   twice by one teacher is one row (unique per teacher and sha256).

CREATE TABLE prompt_images (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    teacher_id    uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    content_type  text NOT NULL CHECK (content_type IN ('image/webp', 'image/png')),
    bytes         bytea NOT NULL CHECK (octet_length(bytes) > 0),
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    UNIQUE (teacher_id, sha256)
);
CREATE INDEX prompt_images_teacher_idx ON prompt_images (teacher_id, created_at);

-- Matches and everything a finished match leaves behind: seats, submissions (final text and
-- edit log), reviews, per-trait scores, rating history, current ratings, compressed replays.
-- A match is written in one transaction at results; the primary keys make a retry a no-op.

CREATE TABLE ratings (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    mu          double precision NOT NULL,
    sigma       double precision NOT NULL,
    matches     integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Bots carry ratings like anyone, kept apart so they never mix with people's ladders.
CREATE TABLE bot_ratings (
    bot_id      text PRIMARY KEY,
    mu          double precision NOT NULL,
    sigma       double precision NOT NULL,
    matches     integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE matches (
    id           uuid PRIMARY KEY,
    node_id      text NOT NULL,
    mode         text NOT NULL,
    ranked       boolean NOT NULL,
    prompt_id    text NOT NULL,
    focus        text NOT NULL,
    provisional  boolean NOT NULL DEFAULT false,
    started_at   timestamptz,
    finished_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX matches_finished_idx ON matches (finished_at);

CREATE TABLE seats (
    match_id    uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    player_id   text NOT NULL,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    alias       text NOT NULL,
    is_bot      boolean NOT NULL,
    rank        integer,
    score       double precision NOT NULL,
    writing     double precision NOT NULL,
    review      double precision NOT NULL,
    left_match  boolean NOT NULL DEFAULT false,
    dropped     text,
    PRIMARY KEY (match_id, player_id)
);
CREATE INDEX seats_user_idx ON seats (user_id);

CREATE TABLE submissions (
    match_id      uuid NOT NULL,
    player_id     text NOT NULL,
    text          text NOT NULL,
    words         integer NOT NULL,
    empty         boolean NOT NULL,
    paste_count   integer NOT NULL DEFAULT 0,
    pasted_chars  integer NOT NULL DEFAULT 0,
    withheld      boolean NOT NULL,
    moderation    text,
    edit_log      bytea NOT NULL,  -- msgpack list of {at, seq, ops|snapshot, paste}
    PRIMARY KEY (match_id, player_id),
    FOREIGN KEY (match_id, player_id) REFERENCES seats (match_id, player_id) ON DELETE CASCADE
);

CREATE TABLE piece_scores (
    match_id     uuid NOT NULL,
    player_id    text NOT NULL,
    overall      double precision NOT NULL,
    rationale    text NOT NULL,
    suggestions  jsonb NOT NULL,
    flags        text[] NOT NULL DEFAULT '{}',
    engine       text NOT NULL,
    provisional  boolean NOT NULL,
    rescored_at  timestamptz,
    PRIMARY KEY (match_id, player_id),
    FOREIGN KEY (match_id, player_id) REFERENCES seats (match_id, player_id) ON DELETE CASCADE
);
CREATE INDEX piece_scores_provisional_idx ON piece_scores (match_id) WHERE provisional;

CREATE TABLE scores (
    match_id     uuid NOT NULL,
    player_id    text NOT NULL,
    trait        text NOT NULL,
    value        smallint NOT NULL CHECK (value BETWEEN 1 AND 6),
    engine       text NOT NULL,
    provisional  boolean NOT NULL,
    PRIMARY KEY (match_id, player_id, trait),
    FOREIGN KEY (match_id, player_id) REFERENCES seats (match_id, player_id) ON DELETE CASCADE
);

CREATE TABLE reviews (
    match_id          uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    review_id         text NOT NULL,
    reviewer_id       text NOT NULL,
    writer_id         text NOT NULL,
    strength          text NOT NULL,
    suggestion        text NOT NULL,
    rating            smallint NOT NULL CHECK (rating BETWEEN 1 AND 6),
    shown_strength    text NOT NULL,
    shown_suggestion  text NOT NULL,
    withheld          boolean NOT NULL,
    helpfulness       smallint NOT NULL CHECK (helpfulness BETWEEN 1 AND 6),
    judged            jsonb,  -- specificity, actionability, justification, tone, reasons
    engine            text,
    provisional       boolean NOT NULL DEFAULT false,
    written_at        timestamptz NOT NULL,
    PRIMARY KEY (match_id, review_id)
);
CREATE INDEX reviews_writer_idx ON reviews (match_id, writer_id);

CREATE TABLE rating_history (
    id            bigserial PRIMARY KEY,
    match_id      uuid NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    player_id     text NOT NULL,
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    is_bot        boolean NOT NULL,
    rank          integer,
    mu_before     double precision NOT NULL,
    sigma_before  double precision NOT NULL,
    mu_after      double precision NOT NULL,
    sigma_after   double precision NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (match_id, player_id)
);
CREATE INDEX rating_history_user_idx ON rating_history (user_id, created_at);

CREATE TABLE replays (
    match_id    uuid PRIMARY KEY REFERENCES matches (id) ON DELETE CASCADE,
    encoding    text NOT NULL,  -- "msgpack+zlib": zlib-compressed msgpack list of log records
    records     integer NOT NULL,
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

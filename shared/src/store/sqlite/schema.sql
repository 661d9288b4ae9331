-- Embedded schema. Ids are 24-hex ObjectId strings, times ISO-8601 UTC with milliseconds
-- (lexical order = time order). Applied idempotently by every process at start-up.
CREATE TABLE IF NOT EXISTS users (
    id             TEXT PRIMARY KEY CHECK (length(id) = 24),
    username       TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    email          TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    password       TEXT NOT NULL,
    first_name     TEXT,
    last_name      TEXT,
    -- lower-cased copies for indexed, case-insensitive prefix search
    first_name_lower TEXT,
    last_name_lower  TEXT,
    avatar         TEXT,
    last_seen      TEXT NOT NULL,
    is_online      INTEGER NOT NULL DEFAULT 0 CHECK (is_online IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS users_is_online ON users (is_online);
CREATE INDEX IF NOT EXISTS users_first_name_lower ON users (first_name_lower);
CREATE INDEX IF NOT EXISTS users_last_name_lower ON users (last_name_lower);

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY CHECK (length(id) = 24),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    user_agent   TEXT,
    ip           TEXT,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id, created_at);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS rate_limits (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_expires ON rate_limits (expires_at);

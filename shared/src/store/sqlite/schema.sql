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
    updated_at     TEXT NOT NULL,
    -- trust and safety: `moderator,admin`; a ban; a suspension's end; an account's deletion
    -- (the row stays as a tombstone, username held until released)
    roles           TEXT NOT NULL DEFAULT '',
    banned          INTEGER NOT NULL DEFAULT 0,
    suspended_until TEXT,
    deleted_at      TEXT
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
    expires_at   TEXT NOT NULL,
    -- The token rotated out last, and when: a refresh racing the rotation is told to retry.
    previous_token_hash TEXT,
    rotated_at   TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id, created_at);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS rate_limits (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_expires ON rate_limits (expires_at);

CREATE TABLE IF NOT EXISTS groups (
    id                TEXT PRIMARY KEY CHECK (length(id) = 24),
    group_name        TEXT NOT NULL,
    group_name_lower  TEXT NOT NULL UNIQUE,
    group_description TEXT,
    group_avatar      TEXT,
    created_by        TEXT NOT NULL REFERENCES users (id),
    is_active         INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS groups_created_by ON groups (created_by);
CREATE INDEX IF NOT EXISTS groups_is_active ON groups (is_active);

-- members in joining order (rowid); admins are members with is_admin = 1
CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id),
    is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS group_members_user ON group_members (user_id);

CREATE TABLE IF NOT EXISTS messages (
    id                TEXT PRIMARY KEY CHECK (length(id) = 24),
    message_id        TEXT NOT NULL UNIQUE,
    chat_room_id      TEXT NOT NULL,
    chat_type         TEXT NOT NULL CHECK (chat_type IN ('PRIVATE', 'GROUP')),
    sender            TEXT NOT NULL REFERENCES users (id),
    receiver          TEXT REFERENCES users (id),
    group_id          TEXT REFERENCES groups (id),
    message           TEXT NOT NULL,
    attachment        TEXT,
    status            TEXT NOT NULL CHECK (status IN ('SENT', 'DELIVERED', 'READ')),
    client_message_id TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    edited_at         TEXT,
    -- set: the message is a tombstone (text and attachment emptied)
    deleted_at        TEXT,
    -- the messageId this one answers (shown as the quoted message is now)
    reply_to          TEXT,
    -- 'moderator': the tombstone was made by a moderator, not the sender
    removed_by        TEXT,
    UNIQUE (sender, client_message_id),
    CHECK ((chat_type = 'PRIVATE' AND receiver IS NOT NULL AND group_id IS NULL)
        OR (chat_type = 'GROUP' AND group_id IS NOT NULL AND receiver IS NULL))
);
CREATE INDEX IF NOT EXISTS messages_room_created ON messages (chat_room_id, created_at, id);
-- messages not yet READ, by conversation and sender: what a bulk DELIVERED/READ moves and what
-- `undelivered` lists (a message leaves it once read). Contacts and rooms come from `conversations`.
CREATE INDEX IF NOT EXISTS messages_unread ON messages (chat_room_id, sender, created_at, id)
    WHERE status <> 'READ';
-- replaced by the index above and the conversation rows: every send paid for both
DROP INDEX IF EXISTS messages_sender_status;
DROP INDEX IF EXISTS messages_receiver_status;
-- group messages only: a private message (most of them) writes no entry here
CREATE INDEX IF NOT EXISTS messages_group_only_created ON messages (group_id, created_at, id)
    WHERE group_id IS NOT NULL;
-- replaced by the partial index above / read by no query: every send paid for them
DROP INDEX IF EXISTS messages_group_created;
DROP INDEX IF EXISTS messages_type_created;

-- each user's private conversations: the latest message and how many messages to the user are
-- not yet READ, kept in the same transactions as sends and status changes (the rooms list reads
-- these rows instead of aggregating the messages)
CREATE TABLE IF NOT EXISTS conversations (
    user_id      TEXT NOT NULL,
    chat_room_id TEXT NOT NULL,
    last_message TEXT NOT NULL,
    last_at      TEXT NOT NULL,
    unread       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, chat_room_id)
) WITHOUT ROWID;
-- The rooms list's order (latest activity, then chatRoomId, both descending), so a page is read
-- from the index without sorting; `last_message` makes it covering for the join.
DROP INDEX IF EXISTS conversations_recent;
CREATE INDEX IF NOT EXISTS conversations_by_activity
    ON conversations (user_id, last_at, chat_room_id, last_message);

-- who blocks whom (SPEC §7): the blocked user cannot message or type to the blocker, nor see
-- the blocker's presence
CREATE TABLE IF NOT EXISTS blocks (
    blocker    TEXT NOT NULL,
    blocked    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker, blocked)
) WITHOUT ROWID;

-- full-text search over message text (SPEC §7): words and prefixes, case- and accent-insensitive.
-- `participants` holds the conversation as tokens (the two users of a private chat, or the group),
-- so a search is restricted to the caller's conversations inside the index itself: the index
-- intersects the words with the caller's conversations. Contentless (the text stays in
-- `messages`); rows are the messages' rowids, kept in the same transaction as every write of a
-- message's text (a tombstone's text is empty: it matches nothing): a new message at the end of
-- the writer's batch (`search::index_at_commit`: one FTS5 segment per batch instead of one per
-- message), edits and deletions by the triggers below. Never VACUUM this file (rowids may change):
-- rebuild the index after one.
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (
    message, participants, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- new messages are indexed by the writer (above): every send paid for a segment of its own
DROP TRIGGER IF EXISTS messages_fts_insert;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF message ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
    INSERT INTO messages_fts (rowid, message, participants)
    VALUES (new.rowid, new.message, COALESCE(new.group_id, new.sender || ' ' || new.receiver));
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.rowid;
END;

-- reactions: one row per message, emoji and user, in reaction order (rowid)
CREATE TABLE IF NOT EXISTS message_reactions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    UNIQUE (message_id, emoji, user_id)
);

-- group read receipts, in reading order (rowid)
CREATE TABLE IF NOT EXISTS message_reads (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (message_id, user_id)
);

-- the change feed: written in the same transaction as the change it describes
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at);

-- realtime: one row per connected socket, kept alive by its node's heartbeat
CREATE TABLE IF NOT EXISTS connections (
    socket_id    TEXT PRIMARY KEY,
    node_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    connected_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connections_user ON connections (user_id, heartbeat_at);
CREATE INDEX IF NOT EXISTS connections_node ON connections (node_id);
CREATE INDEX IF NOT EXISTS connections_heartbeat ON connections (heartbeat_at);

-- each realtime node's position in the change feed, so a restart loses nothing
CREATE TABLE IF NOT EXISTS feed_positions (
    node_id    TEXT PRIMARY KEY,
    position   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- API Gateway WebSocket connections (the serverless path), with their expiry
CREATE TABLE IF NOT EXISTS ws_connections (
    connection_id TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    session_id    TEXT,
    connected_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ws_connections_user ON ws_connections (user_id, expires_at);
CREATE INDEX IF NOT EXISTS ws_connections_expires ON ws_connections (expires_at);

-- jobs that one process runs at a time (the API Gateway fan-out): holder, expiry, fencing token and
-- the job's own feed position
CREATE TABLE IF NOT EXISTS job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    token      INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    position   TEXT
);

-- Files uploaded for a conversation: pending (message_id NULL) until one message carries them,
-- swept once expires_at passes unclaimed.
CREATE TABLE IF NOT EXISTS attachments (
    id           TEXT PRIMARY KEY,
    uploader     TEXT NOT NULL,
    chat_room_id TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    message_id   TEXT,
    width        INTEGER,
    height       INTEGER,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_pending ON attachments (expires_at) WHERE message_id IS NULL;
-- an account's files, for its deletion
CREATE INDEX IF NOT EXISTS attachments_uploader ON attachments (uploader);

-- Reports of messages and users (the moderation queue). `open_key` is reporter and target while
-- open (one open report each), the report's own id once closed; `body` is the whole report.
CREATE TABLE IF NOT EXISTS reports (
    id         TEXT PRIMARY KEY CHECK (length(id) = 24),
    reporter   TEXT NOT NULL,
    target_key TEXT NOT NULL,
    status     TEXT NOT NULL,
    open_key   TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_status ON reports (status, id);
CREATE INDEX IF NOT EXISTS reports_target ON reports (target_key, status);
CREATE INDEX IF NOT EXISTS reports_reporter ON reports (reporter);

-- What moderators and admins did, newest last (ids are time-ordered); `body` is the entry.
CREATE TABLE IF NOT EXISTS audit_log (
    id   TEXT PRIMARY KEY CHECK (length(id) = 24),
    body TEXT NOT NULL
);

-- Conversations a user muted (no push), until a time or for good (until NULL).
CREATE TABLE IF NOT EXISTS mutes (
    user_id      TEXT NOT NULL,
    chat_room_id TEXT NOT NULL,
    until        TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, chat_room_id)
) WITHOUT ROWID;

-- Registered push devices, one session each: ending the session removes them (cascade). One row
-- per user and device (`target_key`); `body` is the registration.
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id         TEXT PRIMARY KEY CHECK (length(id) = 24),
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    target_key TEXT NOT NULL,
    body       TEXT NOT NULL,
    UNIQUE (user_id, target_key)
);
CREATE INDEX IF NOT EXISTS push_subscriptions_session ON push_subscriptions (session_id);

-- Pushes sent, one row per device and message (a repeat is refused by the key), kept until
-- `expires_at` (the node's sweep deletes older rows).
CREATE TABLE IF NOT EXISTS push_deliveries (
    subscription_id TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    PRIMARY KEY (subscription_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_deliveries_expires_at ON push_deliveries (expires_at);

//! The storage port: the traits every service talks to, and `connect`, which picks the adapter
//! (MongoDB when `MONGO_URI` is set, the embedded SQLite file otherwise). No service knows which one
//! it runs on; both adapters pass the same contract suite in `tests/`.

use std::sync::Arc;

use std::pin::Pin;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::Stream;

use crate::{
    config::{Config, Storage as StorageConfig},
    model::{
        Group, GroupId, GroupPatch, HistoryWindow, Message, MessageOid, MessageStatus, NewSession,
        NewUser, ProfilePatch, Room, Session, SessionId, UserId, UserRecord,
    },
};

pub mod mongo;
pub mod sqlite;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A unique constraint refused the write; `field` is the API field name.
    #[error("duplicate {field}")]
    Duplicate { field: &'static str },
    /// The database could not be reached (or stayed locked) within its timeouts.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
    /// A change-feed position that is no longer (or never was) in the feed's history: a resume
    /// token that has left the oplog, or one that cannot be read.
    #[error("feed position lost: {0}")]
    PositionLost(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; `Duplicate { field: "username" | "email" }` when either is taken
    /// (usernames compare case-insensitively, emails are stored lower-case).
    async fn insert_user(&self, user: NewUser) -> StoreResult<UserRecord>;
    async fn find_user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    /// Applies the changes present in `patch`; `None` when the user does not exist.
    /// `Duplicate { field: "username" }` when the new username is taken.
    async fn update_user_profile(
        &self,
        id: UserId,
        patch: ProfilePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserRecord>>;
    /// Replaces the password hash; false when the user does not exist.
    async fn set_user_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Users whose username, first name or last name starts with `prefix` (already lower-case),
    /// ordered by username, at most `limit`, never `exclude`. Served by indexes on lower-cased
    /// copies of those fields.
    async fn search_users(
        &self,
        prefix: &str,
        exclude: UserId,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;
    /// The users among `ids` that exist, in no particular order.
    async fn find_users_by_ids(&self, ids: &[UserId]) -> StoreResult<Vec<UserRecord>>;
    /// Sets `lastSeen`; the updated user, or `None` when there is none.
    async fn set_last_seen(&self, id: UserId, at: DateTime<Utc>)
        -> StoreResult<Option<UserRecord>>;
    /// `blocker` blocks `blocked`; false when it already did.
    async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// False when there was no such block.
    async fn unblock_user(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool>;
    /// Everyone `blocker` blocks, most recent first.
    async fn blocked_users(&self, blocker: UserId) -> StoreResult<Vec<UserId>>;
    /// Whether `blocker` blocks `blocked`.
    async fn blocks(&self, blocker: UserId, blocked: UserId) -> StoreResult<bool>;
}

/// The latest message of one conversation and how many of its messages the reader has not read.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSummary {
    pub chat_room_id: Room,
    pub latest: Message,
    pub unread: u64,
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a new message (and, atomically, its change-feed event). `Duplicate { field:
    /// "clientMessageId" }` when the sender already sent one with the same `clientMessageId`.
    async fn insert_message(&self, message: Message) -> StoreResult<()>;
    /// One send, checked and written together (one transaction on SQLite): a message the sender
    /// already sent under the same `clientMessageId` is answered instead; then the rate-limit
    /// hit, the receiver (or the sender's group membership), the message and its feed event.
    async fn send_message(&self, send: SendRequest) -> StoreResult<SendOutcome>;
    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>>;
    /// Replaces the text of a message that is not deleted (and sets `editedAt`); `None` when the
    /// message is gone or deleted.
    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// Turns a message into a tombstone (text, attachment and reactions removed, `deletedAt`
    /// set); the message after it, and whether this call deleted it (false: it already was).
    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Message, bool)>>;
    /// Marks every message of `group` from someone else that `reader` has not read (and that is
    /// not deleted) as read by them; how many changed. Each is a `MessageUpdated` on the feed.
    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Full-text search (SPEC §7): messages that contain every term (SQLite: as a word or a word's
    /// start; MongoDB: as a word), in the conversations `search.user` takes part in (or only
    /// `search.room`), never deleted ones, newest first, at most `search.limit`. The restriction to
    /// the user's conversations is part of the query, served by the full-text index.
    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>>;
    /// Adds or removes `user`'s `emoji` on a message that is not deleted. Idempotent; a new
    /// emoji beyond `max_distinct` is refused.
    async fn react(&self, reaction: ReactionChange) -> StoreResult<ReactOutcome>;
    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// Moves one message forward to `status` and, for a group READ, adds `reader` to `readBy`.
    /// Atomic and forward-only: returns the updated message, or `None` when nothing changed.
    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// Moves every private message from `sender` to `receiver` that is behind `status` up to it;
    /// returns how many changed.
    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// A room's messages in the window (newest first, or oldest first for `After`), at most `limit`.
    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64>;
    /// Private messages from `sender` to `receiver` still in status SENT, oldest first.
    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>>;
    /// The user's private conversations: latest message and unread count (messages to the user
    /// not yet READ), most recent first. Computed by the database.
    async fn private_rooms(&self, user: UserId) -> StoreResult<Vec<RoomSummary>>;
    /// The user's contacts: everyone they have a private conversation with (a message either way)
    /// or an active group in common, without the user and without anyone the user blocks.
    /// Presence goes to these only.
    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>>;
    /// For each of `groups`: the latest message and how many messages from others the user has not
    /// read (not in `readBy`). Groups without messages are left out.
    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>>;
}

/// What `search_messages` looks for.
#[derive(Debug, Clone)]
pub struct MessageSearch {
    pub user: UserId,
    /// Words (letters and digits only), all of which must match.
    pub terms: Vec<String>,
    /// Only this conversation (the caller's own, checked by the service).
    pub room: Option<Room>,
    pub limit: u32,
}

/// One reaction added or removed.
#[derive(Debug, Clone)]
pub struct ReactionChange {
    pub message: MessageOid,
    pub emoji: String,
    pub user: UserId,
    pub add: bool,
    pub max_distinct: usize,
    pub now: DateTime<Utc>,
}

/// What `react` did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReactOutcome {
    /// The message after the call (for a repeat: as it was).
    Done(Box<Message>),
    /// A new emoji on a message that already has `max_distinct`.
    TooMany,
    /// No such message, or it is deleted.
    Gone,
}

/// What `send_message` is asked to do; the service has validated it and made the message.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub message: Message,
    pub rate_limit: RateLimitHit,
}

/// One counted hit on a fixed-window rate limit.
#[derive(Debug, Clone)]
pub struct RateLimitHit {
    /// The counter: scope, subject and window.
    pub key: String,
    pub expires_at: DateTime<Utc>,
    /// Hits allowed in the window.
    pub max: u64,
    pub now: DateTime<Utc>,
}

/// What `send_message` did. Only `Created` stored a message.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Created(Message),
    /// The sender already sent a message with this `clientMessageId`: that message.
    Repeated(Message),
    RateLimited,
    ReceiverMissing,
    /// The receiver blocks the sender.
    Blocked,
    /// No active group with that id.
    GroupMissing,
    NotAMember,
}

/// What `remove_group_member` did.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberRemoval {
    Removed(Group),
    NotMember,
    /// Refused: the user is the group's only admin.
    LastAdmin,
    NoGroup,
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// `Duplicate { field: "groupName" }` when the name (case-insensitively) is taken.
    async fn insert_group(&self, group: Group) -> StoreResult<()>;
    async fn find_group(&self, id: GroupId) -> StoreResult<Option<Group>>;
    async fn update_group(
        &self,
        id: GroupId,
        patch: GroupPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Makes exactly `admins` (all members; the service checks) the group's admins.
    async fn set_group_admins(
        &self,
        id: GroupId,
        admins: &[UserId],
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Adds a member (no-op when already one); the group after, or `None` when there is none.
    async fn add_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Group>>;
    /// Removes a member (and their admin role), refusing atomically to remove the last admin.
    async fn remove_group_member(
        &self,
        id: GroupId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<MemberRemoval>;
    /// Soft delete: `isActive = false`.
    async fn deactivate_group(&self, id: GroupId, now: DateTime<Utc>)
        -> StoreResult<Option<Group>>;
    /// Active groups the user is a member of, newest first.
    async fn groups_of_user(&self, user: UserId) -> StoreResult<Vec<Group>>;
    /// How many active groups the user is a member of (an indexed count).
    async fn count_groups_of_user(&self, user: UserId) -> StoreResult<u64>;
    /// Active groups whose name contains `needle` (already lower-case, matched literally), by name.
    async fn search_groups(&self, needle: &str, limit: u32) -> StoreResult<Vec<Group>>;
}

/// A change the realtime node fans out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "camelCase")]
pub enum Change {
    MessageCreated(Message),
    /// A status or `readBy` change; carries the message after it.
    MessageUpdated(Message),
    /// The sender changed the text; carries the message after it.
    MessageEdited(Message),
    /// The message became a tombstone; carries it.
    MessageDeleted(Message),
    /// A reaction was added or removed; carries the message after it.
    ReactionsChanged(Message),
    /// Created, renamed, membership changed or deactivated; carries the group after it.
    GroupChanged(Group),
    /// A user came online (first connection anywhere) or went offline (last one closed).
    Presence(PresenceChange),
    /// An ephemeral event (typing, calls, joins) for the sockets in a room, on every node.
    Signal(Signal),
    /// A login session ended (logout, ended from another device, password change, refresh-token
    /// replay, expiry): its open sockets close, on every node.
    SessionEnded(SessionId),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChange {
    pub user_id: UserId,
    pub is_online: bool,
    #[serde(with = "crate::time::iso")]
    pub last_seen: DateTime<Utc>,
}

/// `event` with `data` for every socket in `room`, except the sockets in `except`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    pub room: Room,
    pub event: String,
    pub data: serde_json::Value,
    #[serde(default)]
    pub except: Option<Room>,
}

/// What the realtime nodes keep in the database: socket connections (for presence across devices
/// and nodes), ephemeral signals, and each node's position in the change feed.
#[async_trait]
pub trait RealtimeStore: Send + Sync {
    async fn add_connection(
        &self,
        socket_id: &str,
        node_id: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn remove_connection(&self, socket_id: &str) -> StoreResult<()>;
    /// How many connections of the user are alive (heartbeat after `alive_after`), on any node.
    async fn count_live_connections(
        &self,
        user: UserId,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Marks every connection of the node as alive at `now`.
    async fn heartbeat(&self, node_id: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Removes the node's connections (a restart after a crash); returns their users.
    async fn remove_node_connections(&self, node_id: &str) -> StoreResult<Vec<UserId>>;
    /// Removes connections without a heartbeat since `alive_after` (crashed nodes); returns their
    /// users.
    async fn expire_connections(&self, alive_after: DateTime<Utc>) -> StoreResult<Vec<UserId>>;
    /// Marks the user online; true (and a `Presence` change on the feed) only on a real transition.
    async fn mark_online(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks the user offline with `lastSeen = now` when no connection of theirs is alive (heartbeat
    /// after `alive_after`); the new `lastSeen` only on a real transition.
    async fn mark_offline_if_gone(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Records an API Gateway WebSocket connection of `user`'s login `session`, valid until
    /// `expires_at`.
    async fn add_ws_connection(
        &self,
        connection_id: &str,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn remove_ws_connection(&self, connection_id: &str) -> StoreResult<()>;
    /// Forgets the API Gateway connections of an ended session; returns their ids.
    async fn remove_session_ws_connections(&self, session: SessionId) -> StoreResult<Vec<String>>;
    /// The user and session of a live API Gateway connection.
    async fn ws_connection_owner(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(UserId, SessionId)>>;
    /// Live API Gateway connections `(connectionId, user)` of `users` (of everyone when `None`).
    async fn ws_connections(
        &self,
        users: Option<&[UserId]>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, UserId)>>;
    /// Puts an ephemeral event on the feed.
    async fn publish_signal(&self, signal: Signal, now: DateTime<Utc>) -> StoreResult<()>;
    async fn load_feed_position(&self, node_id: &str) -> StoreResult<Option<SavedPosition>>;
    async fn save_feed_position(
        &self,
        node_id: &str,
        position: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// A node's stored feed position and when it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPosition {
    pub position: String,
    pub saved_at: DateTime<Utc>,
}

/// One change and the feed position just after it (resume from there to get what follows).
/// `change` is `None` for a checkpoint: the feed moved on past events there is nothing to fan out
/// for (writes elsewhere, or an event that could not be decoded and was skipped), and a reader
/// should store the new position so it never resumes from a point the feed no longer holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub position: String,
    pub change: Option<Change>,
}

pub type ChangeStream = Pin<Box<dyn Stream<Item = StoreResult<FeedEvent>> + Send>>;

/// The ordered, resumable feed of changes: MongoDB change streams, or the embedded events table.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// The position of "now": a stream opened from it yields only later changes.
    async fn feed_position(&self) -> StoreResult<String>;
    /// Every change after `position` (from now when `None`), in order, without end.
    async fn changes(&self, position: Option<String>) -> StoreResult<ChangeStream>;
}

/// What `rotate_session` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// The presented token was rotated out moments ago: not a replay.
    JustRotated,
    /// Gone, expired, or a token rotated out long ago (a replay).
    Refused,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;
    /// The session if it exists and has not expired at `now`.
    async fn find_session(&self, id: SessionId, now: DateTime<Utc>)
        -> StoreResult<Option<Session>>;
    /// Swaps the stored token hash from `old_hash` to `new_hash` in one atomic step (remembering
    /// `old_hash` as the previous one), so two concurrent refreshes with the same token cannot both
    /// succeed. When the session no longer holds `old_hash`: `JustRotated` if it was rotated out
    /// after `grace_after` (a concurrent refresh, a retry), else `Refused`; nothing changes.
    async fn rotate_session(
        &self,
        id: SessionId,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        grace_after: DateTime<Utc>,
    ) -> StoreResult<Rotation>;
    /// Ends one session of one user; false when there was none.
    async fn delete_session(&self, id: SessionId, user_id: UserId) -> StoreResult<bool>;
    /// The user's live sessions at `now`, newest first.
    async fn list_sessions(&self, user_id: UserId, now: DateTime<Utc>)
        -> StoreResult<Vec<Session>>;
    /// Ends every session of the user except `keep`; returns how many ended.
    async fn delete_other_sessions(&self, user_id: UserId, keep: SessionId) -> StoreResult<u64>;
}

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit on `key` (a key names one client and one window) and returns the count so far.
    /// The counter lives in the database so every process and function instance shares it.
    async fn hit(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// Everything the services need from a database.
#[async_trait]
pub trait Storage:
    UserStore
    + SessionStore
    + RateLimitStore
    + MessageStore
    + GroupStore
    + ChangeFeed
    + RealtimeStore
    + Send
    + Sync
{
    /// `"mongodb"` or `"sqlite"`, for the health check and logs.
    fn kind(&self) -> &'static str;
    /// A round trip to the database.
    async fn ping(&self) -> StoreResult<()>;
}

pub type Store = Arc<dyn Storage>;

/// Opens the configured adapter, creating the schema / indexes idempotently.
pub async fn connect(config: &Config) -> StoreResult<Store> {
    match &config.storage {
        StorageConfig::Mongo { uri, database } => Ok(Arc::new(
            mongo::MongoStore::connect(uri, database.as_deref()).await?,
        )),
        StorageConfig::Sqlite { path } => Ok(Arc::new(sqlite::SqliteStore::open(path).await?)),
    }
}

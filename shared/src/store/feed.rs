//! The change feed: the changes the realtime nodes fan out, and the ordered, resumable port
//! that yields them.

use std::{cmp::Ordering, pin::Pin};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::StoreResult;
use crate::model::{Group, Message, Room, SessionId, UserId};

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

impl Change {
    /// The change's kind, as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::MessageCreated(_) => "message_created",
            Change::MessageUpdated(_) => "message_updated",
            Change::MessageEdited(_) => "message_edited",
            Change::MessageDeleted(_) => "message_deleted",
            Change::ReactionsChanged(_) => "reactions_changed",
            Change::GroupChanged(_) => "group_changed",
            Change::Presence(_) => "presence",
            Change::Signal(_) => "signal",
            Change::SessionEnded(_) => "session_ended",
        }
    }
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

/// One change and the feed position just after it (resume from there to get what follows).
/// `change` is `None` for a checkpoint: the feed moved on past events there is nothing to fan out
/// for (writes elsewhere, or an event that could not be decoded and was skipped), and a reader
/// should store the new position so it never resumes from a point the feed no longer holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub position: String,
    pub change: Option<Change>,
    /// When the change was committed, as the database recorded it (for the feed-lag metric).
    pub committed_at: Option<DateTime<Utc>>,
}

pub type ChangeStream = Pin<Box<dyn Stream<Item = StoreResult<FeedEvent>> + Send>>;

/// The ordered, resumable feed of changes: MongoDB change streams, or the embedded events table.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// The position of "now": a stream opened from it yields only later changes.
    async fn feed_position(&self) -> StoreResult<String>;
    /// Every change after `position` (from now when `None`), in order, without end.
    async fn changes(&self, position: Option<String>) -> StoreResult<ChangeStream>;
    /// How two positions of this feed stand in its order (`Less`: `a` comes first), or `None`
    /// when either cannot be read.
    fn position_order(&self, a: &str, b: &str) -> Option<Ordering>;
}

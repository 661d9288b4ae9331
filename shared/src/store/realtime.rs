//! The realtime port: socket and API Gateway connections, ephemeral signals, feed positions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Signal, StoreResult};
use crate::model::{SessionId, UserId};

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

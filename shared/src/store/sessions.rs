//! The sessions port: login sessions and their refresh-token rotation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{NewSession, Session, SessionId, UserId};

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
    /// Ends every session of the user (each one a `SessionEnded` on the feed); how many ended.
    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64>;
    /// Ends every session of the user except `keep`; returns how many ended.
    async fn delete_other_sessions(&self, user_id: UserId, keep: SessionId) -> StoreResult<u64>;
}

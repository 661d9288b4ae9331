//! The storage port: the traits every service talks to, and `connect`, which picks the adapter
//! (MongoDB when `MONGO_URI` is set, the embedded SQLite file otherwise). No service knows which one
//! it runs on; both adapters pass the same contract suite in `tests/`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    config::{Config, Storage as StorageConfig},
    model::{NewSession, NewUser, ProfilePatch, Session, SessionId, UserId, UserRecord},
};

pub mod mongo;
pub mod sqlite;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A unique constraint refused the write; `field` is the API field name.
    #[error("duplicate {field}")]
    Duplicate { field: &'static str },
    /// The database could not be reached (or stayed locked) within its timeouts.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
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
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;
    /// The session if it exists and has not expired at `now`.
    async fn find_session(&self, id: SessionId, now: DateTime<Utc>)
        -> StoreResult<Option<Session>>;
    /// Swaps the stored token hash from `old_hash` to `new_hash` in one atomic step. Returns false
    /// (and changes nothing) when the session is gone, expired, or no longer holds `old_hash`, so
    /// two concurrent refreshes with the same token cannot both succeed.
    async fn rotate_session(
        &self,
        id: SessionId,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
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
pub trait Storage: UserStore + SessionStore + RateLimitStore + Send + Sync {
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

//! The storage port: one trait per aggregate (a file each, beside the two adapters that implement
//! them all), `Storage` that bundles them, and `connect`, which picks the adapter (MongoDB when
//! `MONGO_URI` is set, the embedded SQLite file otherwise). No service knows which one it runs on;
//! both adapters pass the same contract suite in `tests/`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, Storage as StorageConfig};

mod attachments;
mod errors;
mod feed;
mod groups;
mod leases;
mod messages;
mod moderation;
mod notifications;
mod rate_limits;
mod realtime;
mod sessions;
mod users;

pub mod mongo;
pub mod sqlite;

pub use attachments::{AttachmentClaim, AttachmentStore};
pub use errors::{StoreError, StoreResult};
pub use feed::{Change, ChangeFeed, ChangeStream, FeedEvent, PresenceChange, Signal};
pub use groups::{GroupStore, MemberRemoval};
pub use leases::{Claimed, LeaseStore};
pub use messages::{
    MessageSearch, MessageStore, ReactOutcome, ReactionChange, RoomSummary, RoomsPage, SendOutcome,
    SendRequest,
};
pub use moderation::{open_key, resolved, ModerationStore, ReportFiled, ReportQuery, Resolution};
pub use notifications::NotificationStore;
pub use rate_limits::{RateLimitHit, RateLimitStore};
pub use realtime::{RealtimeStore, SavedPosition};
pub use sessions::{Rotation, SessionStore};
pub use users::UserStore;

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
    + LeaseStore
    + AttachmentStore
    + ModerationStore
    + NotificationStore
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

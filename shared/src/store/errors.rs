//! What a storage call can fail with, in words the services map to HTTP.

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

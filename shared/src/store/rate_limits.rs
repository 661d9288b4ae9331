//! The rate-limit port: fixed-window counters shared by every process.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

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

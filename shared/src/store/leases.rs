//! The leases port: a job that exactly one process runs at a time (the API Gateway fan-out) is
//! held through a lease with a holder, an expiry and a fencing token, and keeps its own feed
//! position on the lease, so only the current holder can move it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

/// A lease just claimed: its fencing token (it grows each time the lease changes hands) and the
/// position the job saved last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub token: u64,
    pub position: Option<String>,
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes `job` for `holder` until `expires_at` when nobody holds it, its lease has expired, or
    /// `holder` already holds it (then the token stays); `None` while someone else holds it.
    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<Claimed>>;
    /// Extends the lease to `expires_at` and saves `position` (when given), only while `holder`
    /// still holds it under `token`; false once it has changed hands (the holder must stop).
    async fn renew_lease(
        &self,
        job: &str,
        holder: &str,
        token: u64,
        expires_at: DateTime<Utc>,
        position: Option<&str>,
    ) -> StoreResult<bool>;
}

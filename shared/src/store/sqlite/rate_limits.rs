//! Rate-limit counters on SQLite: one row per key, counted inside the caller's transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::{count, execute, one, SqliteStore};
use crate::{
    store::{RateLimitStore, StoreResult},
    time::to_iso,
};

/// Counts one hit on `key` inside the caller's transaction (sweeping expired windows first);
/// the count so far.
pub(crate) fn hit(
    conn: &Connection,
    key: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    execute(
        conn,
        "DELETE FROM rate_limits WHERE expires_at <= ?",
        [to_iso(&now)],
    )?;
    one(
        conn,
        "INSERT INTO rate_limits (key, count, expires_at) VALUES (?, 1, ?) \
         ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count",
        params![key, to_iso(&expires_at)],
        |row| row.get::<_, i64>(0),
    )
    .map(count)
}

#[async_trait]
impl RateLimitStore for SqliteStore {
    async fn hit(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let key = key.to_owned();
        self.engine()
            .write(move |conn| hit(conn, &key, expires_at, now))
            .await
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{map_err, SqliteStore};
use crate::{
    store::{RateLimitStore, StoreResult},
    time::to_iso,
};

#[async_trait]
impl RateLimitStore for SqliteStore {
    async fn hit(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        // One write transaction: sweep the expired windows, count this hit.
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM rate_limits WHERE expires_at <= ?")
            .bind(to_iso(&now))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limits (key, count, expires_at) VALUES (?, 1, ?) \
             ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count",
        )
        .bind(key)
        .bind(to_iso(&expires_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

//! Rate-limit counters on MongoDB: one document per key, expired by a TTL index.

use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, Utc};
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{indexes::RATE_LIMITS, map_err, to_bson_time, MongoStore};
use crate::store::{RateLimitStore, StoreError, StoreResult};

/// One counter per client and window; the TTL index on `expiresAt` drops finished windows.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CounterDoc {
    #[serde(rename = "_id")]
    key: String,
    count: i64,
    expires_at: bson::DateTime,
}

impl MongoStore {
    fn counters(&self) -> Collection<CounterDoc> {
        self.database().collection(RATE_LIMITS)
    }

    async fn increment(&self, key: &str, expires_at: DateTime<Utc>) -> StoreResult<u64> {
        let counter = self
            .counters()
            .find_one_and_update(
                doc! { "_id": key },
                doc! {
                    "$inc": { "count": 1_i64 },
                    "$setOnInsert": { "expiresAt": to_bson_time(&expires_at) },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(counter.map_or(1, |c| u64::try_from(c.count).unwrap_or(0)))
    }
}

#[async_trait]
impl RateLimitStore for MongoStore {
    async fn hit(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        // Two first hits racing on an upsert: one inserts, the other gets E11000 and retries as an
        // update, which then finds the document.
        match self.increment(key, expires_at).await {
            Err(StoreError::Duplicate { .. }) => self.increment(key, expires_at).await,
            other => other,
        }
    }
}

//! Job leases on MongoDB: one document per job (`_id` the job), claimed by conditional atomic
//! updates (renew one's own, take an expired one with the token bumped, or insert the first; the
//! unique `_id` refuses a second insert).

use async_trait::async_trait;
use bson::doc;
use chrono::{DateTime, Utc};
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{indexes::JOB_LEASES, map_err, to_bson_time, MongoStore};
use crate::store::{Claimed, LeaseStore, StoreError, StoreResult};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaseDoc {
    #[serde(rename = "_id")]
    job: String,
    holder: String,
    token: i64,
    expires_at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<String>,
}

impl From<LeaseDoc> for Claimed {
    fn from(lease: LeaseDoc) -> Self {
        Self {
            token: u64::try_from(lease.token).unwrap_or_default(),
            position: lease.position,
        }
    }
}

impl MongoStore {
    fn leases(&self) -> Collection<LeaseDoc> {
        self.database().collection(JOB_LEASES)
    }
}

#[async_trait]
impl LeaseStore for MongoStore {
    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<Claimed>> {
        let (now, until) = (to_bson_time(&now), to_bson_time(&expires_at));
        // Still ours: extend it, same token.
        let renewed = self
            .leases()
            .find_one_and_update(
                doc! { "_id": job, "holder": holder, "expiresAt": { "$gt": now } },
                doc! { "$set": { "expiresAt": until } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        if let Some(lease) = renewed {
            return Ok(Some(lease.into()));
        }
        // Expired: take it over, with a new token.
        let taken = self
            .leases()
            .find_one_and_update(
                doc! { "_id": job, "expiresAt": { "$lte": now } },
                doc! { "$set": { "holder": holder, "expiresAt": until }, "$inc": { "token": 1 } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        if let Some(lease) = taken {
            return Ok(Some(lease.into()));
        }
        // Never held: the first insert wins.
        let first = LeaseDoc {
            job: job.to_owned(),
            holder: holder.to_owned(),
            token: 1,
            expires_at: until,
            position: None,
        };
        match self.leases().insert_one(&first).await.map_err(map_err) {
            Ok(_) => Ok(Some(first.into())),
            Err(StoreError::Duplicate { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn renew_lease(
        &self,
        job: &str,
        holder: &str,
        token: u64,
        expires_at: DateTime<Utc>,
        position: Option<&str>,
    ) -> StoreResult<bool> {
        let mut set = doc! { "expiresAt": to_bson_time(&expires_at) };
        if let Some(position) = position {
            set.insert("position", position);
        }
        let token = i64::try_from(token).unwrap_or(i64::MAX);
        let result = self
            .leases()
            .update_one(
                doc! { "_id": job, "holder": holder, "token": token },
                doc! { "$set": set },
            )
            .await
            .map_err(map_err)?;
        Ok(result.matched_count > 0)
    }
}

//! Login sessions on MongoDB: the `sessions` document and the `SessionStore` methods.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{indexes::SESSIONS, map_err, to_bson_time, MongoStore};
use crate::{
    model::{NewSession, Session, SessionId, UserId},
    store::{Rotation, SessionStore, StoreResult},
};

/// A `sessions` document; `expiresAt` carries a TTL index, so MongoDB removes dead sessions.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    user_id: ObjectId,
    token_hash: String,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: bson::DateTime,
    last_used_at: bson::DateTime,
    expires_at: bson::DateTime,
}

impl From<SessionDoc> for Session {
    fn from(doc: SessionDoc) -> Self {
        Self {
            id: SessionId(doc.id),
            user_id: UserId(doc.user_id),
            token_hash: doc.token_hash,
            user_agent: doc.user_agent,
            ip: doc.ip,
            created_at: doc.created_at.to_chrono(),
            last_used_at: doc.last_used_at.to_chrono(),
            expires_at: doc.expires_at.to_chrono(),
        }
    }
}

impl MongoStore {
    fn sessions(&self) -> Collection<SessionDoc> {
        self.database().collection(SESSIONS)
    }
}

#[async_trait]
impl SessionStore for MongoStore {
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        let doc = SessionDoc {
            id: session.id.0,
            user_id: session.user_id.0,
            token_hash: session.token_hash,
            user_agent: session.user_agent,
            ip: session.ip,
            created_at: to_bson_time(&session.created_at),
            last_used_at: to_bson_time(&session.last_used_at),
            expires_at: to_bson_time(&session.expires_at),
        };
        self.sessions().insert_one(doc).await.map_err(map_err)?;
        Ok(())
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        let found = self
            .sessions()
            .find_one(doc! { "_id": id.0, "expiresAt": { "$gt": to_bson_time(&now) } })
            .await
            .map_err(map_err)?;
        Ok(found.map(Session::from))
    }

    async fn rotate_session(
        &self,
        id: SessionId,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        grace_after: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let live = doc! { "$gt": to_bson_time(&now) };
        let result = self
            .sessions()
            .update_one(
                doc! { "_id": id.0, "tokenHash": old_hash, "expiresAt": live.clone() },
                doc! { "$set": {
                    "tokenHash": new_hash,
                    "previousTokenHash": old_hash,
                    "rotatedAt": to_bson_time(&now),
                    "lastUsedAt": to_bson_time(&now),
                    "expiresAt": to_bson_time(&expires_at),
                } },
            )
            .await
            .map_err(map_err)?;
        if result.modified_count == 1 {
            return Ok(Rotation::Rotated);
        }
        let just_rotated = self
            .sessions()
            .count_documents(doc! {
                "_id": id.0,
                "previousTokenHash": old_hash,
                "rotatedAt": { "$gt": to_bson_time(&grace_after) },
                "expiresAt": live,
            })
            .await
            .map_err(map_err)?;
        Ok(if just_rotated > 0 {
            Rotation::JustRotated
        } else {
            Rotation::Refused
        })
    }

    async fn list_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let found: Vec<SessionDoc> = self
            .sessions()
            .find(doc! { "userId": user_id.0, "expiresAt": { "$gt": to_bson_time(&now) } })
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(Session::from).collect())
    }

    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64> {
        let result = self
            .sessions()
            .delete_many(doc! { "userId": user_id.0 })
            .await
            .map_err(map_err)?;
        // Their devices go with them.
        self.forget_devices_of_sessions(doc! { "userId": user_id.0 })
            .await?;
        Ok(result.deleted_count)
    }

    async fn delete_other_sessions(&self, user_id: UserId, keep: SessionId) -> StoreResult<u64> {
        let result = self
            .sessions()
            .delete_many(doc! { "userId": user_id.0, "_id": { "$ne": keep.0 } })
            .await
            .map_err(map_err)?;
        self.forget_devices_of_sessions(
            doc! { "userId": user_id.0, "sessionId": { "$ne": keep.0 } },
        )
        .await?;
        Ok(result.deleted_count)
    }

    async fn delete_session(&self, id: SessionId, user_id: UserId) -> StoreResult<bool> {
        let result = self
            .sessions()
            .delete_one(doc! { "_id": id.0, "userId": user_id.0 })
            .await
            .map_err(map_err)?;
        if result.deleted_count == 1 {
            self.forget_devices_of_sessions(MongoStore::session_filter(id))
                .await?;
        }
        Ok(result.deleted_count == 1)
    }
}

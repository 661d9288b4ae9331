//! Mutes and push devices on MongoDB. Ending a session deletes its devices in the sessions
//! adapter (`sessions.rs`), next to the session's own deletion.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId, Bson, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{
    indexes::{MUTES, PUSH_DELIVERIES, PUSH_SUBSCRIPTIONS},
    map_err, to_bson_time, MongoStore,
};
use crate::{
    model::{Mute, PushSubscription, PushSubscriptionId, Room, SessionId, UserId},
    store::{NotificationStore, StoreError, StoreResult},
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MuteDoc {
    user_id: ObjectId,
    chat_room_id: Room,
    until: Option<bson::DateTime>,
    created_at: bson::DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    user_id: ObjectId,
    session_id: ObjectId,
    target_key: String,
    body: Document,
}

fn decode(doc: SubscriptionDoc) -> StoreResult<PushSubscription> {
    bson::from_document(doc.body)
        .map_err(|_| StoreError::Backend("corrupt push subscription".into()))
}

impl MongoStore {
    fn mutes(&self) -> Collection<MuteDoc> {
        self.database().collection(MUTES)
    }

    fn push_subscriptions(&self) -> Collection<SubscriptionDoc> {
        self.database().collection(PUSH_SUBSCRIPTIONS)
    }

    fn push_deliveries(&self) -> Collection<Document> {
        self.database().collection(PUSH_DELIVERIES)
    }

    /// Removes the devices of ended sessions (called where sessions are deleted).
    pub(crate) async fn forget_devices_of_sessions(&self, filter: Document) -> StoreResult<()> {
        self.push_subscriptions()
            .delete_many(filter)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(crate) fn session_filter(session: SessionId) -> Document {
        doc! { "sessionId": session.0 }
    }
}

#[async_trait]
impl NotificationStore for MongoStore {
    async fn set_mute(
        &self,
        user: UserId,
        room: Room,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let until = until
            .as_ref()
            .map_or(Bson::Null, |at| Bson::DateTime(to_bson_time(at)));
        self.mutes()
            .update_one(
                doc! { "userId": user.0, "chatRoomId": room.to_string() },
                doc! {
                    "$set": { "until": until },
                    "$setOnInsert": { "createdAt": to_bson_time(&now) },
                },
            )
            .upsert(true)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn clear_mute(&self, user: UserId, room: Room) -> StoreResult<bool> {
        let result = self
            .mutes()
            .delete_one(doc! { "userId": user.0, "chatRoomId": room.to_string() })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count == 1)
    }

    async fn mutes_of(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Mute>> {
        let found: Vec<MuteDoc> = self
            .mutes()
            .find(doc! {
                "userId": user.0,
                "$or": [{ "until": Bson::Null }, { "until": { "$gt": to_bson_time(&now) } }],
            })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found
            .into_iter()
            .map(|mute| Mute {
                chat_room_id: mute.chat_room_id,
                until: mute.until.map(|at| at.to_chrono()),
            })
            .collect())
    }

    async fn save_push_subscription(
        &self,
        subscription: PushSubscription,
    ) -> StoreResult<PushSubscription> {
        let key = subscription.target.key();
        let existing = self
            .push_subscriptions()
            .find_one(doc! { "userId": subscription.user_id.0, "targetKey": &key })
            .await
            .map_err(map_err)?;
        let mut stored = subscription;
        if let Some(existing) = existing {
            stored.subscription_id = PushSubscriptionId(existing.id);
        }
        let body = bson::to_document(&stored)
            .map_err(|err| StoreError::Backend(format!("cannot encode: {err}")))?;
        self.push_subscriptions()
            .find_one_and_update(
                doc! { "userId": stored.user_id.0, "targetKey": &key },
                doc! {
                    "$set": { "sessionId": stored.session_id.0, "body": body },
                    "$setOnInsert": { "_id": stored.subscription_id.0 },
                },
            )
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(stored)
    }

    async fn push_subscriptions_of(&self, users: &[UserId]) -> StoreResult<Vec<PushSubscription>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<ObjectId> = users.iter().map(|user| user.0).collect();
        let found: Vec<SubscriptionDoc> = self
            .push_subscriptions()
            .find(doc! { "userId": { "$in": ids } })
            .sort(doc! { "_id": 1 })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        found.into_iter().map(decode).collect()
    }

    async fn delete_push_subscription(
        &self,
        id: PushSubscriptionId,
        user: UserId,
    ) -> StoreResult<bool> {
        let result = self
            .push_subscriptions()
            .delete_one(doc! { "_id": id.0, "userId": user.0 })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count == 1)
    }

    async fn forget_notifications_of(&self, user: UserId) -> StoreResult<()> {
        self.mutes()
            .delete_many(doc! { "userId": user.0 })
            .await
            .map_err(map_err)?;
        self.forget_devices_of_sessions(doc! { "userId": user.0 })
            .await
    }

    async fn claim_push_delivery(
        &self,
        subscription: PushSubscriptionId,
        message_id: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let inserted = self
            .push_deliveries()
            .insert_one(doc! {
                "_id": format!("{}:{message_id}", subscription.to_hex()),
                "expiresAt": to_bson_time(&expires_at),
            })
            .await;
        match inserted.map_err(map_err) {
            Ok(_) => Ok(true),
            Err(StoreError::Duplicate { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn forget_push_deliveries(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        // The TTL index does this within a minute; this keeps the contract the same on both.
        let result = self
            .push_deliveries()
            .delete_many(doc! { "expiresAt": { "$lt": to_bson_time(&now) } })
            .await
            .map_err(map_err)?;
        Ok(result.deleted_count)
    }
}

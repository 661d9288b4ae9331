//! Attachments on MongoDB: one document each (`_id` the attachment id); a claim is one
//! conditional `findOneAndUpdate`.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{options::ReturnDocument, Collection};
use serde::{Deserialize, Serialize};

use super::{indexes::ATTACHMENTS, map_err, to_bson_time, MongoStore};
use crate::{
    model::{Attachment, AttachmentId, Room, UserId},
    store::{AttachmentClaim, AttachmentStore, StoreError, StoreResult},
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttachmentDoc {
    #[serde(rename = "_id")]
    id: String,
    uploader: ObjectId,
    chat_room_id: Room,
    file_name: String,
    content_type: String,
    size: i64,
    /// Null while pending (the sweep's index covers it).
    message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<i64>,
    created_at: bson::DateTime,
    expires_at: bson::DateTime,
}

impl From<&Attachment> for AttachmentDoc {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id.as_str().to_owned(),
            uploader: a.uploader.0,
            chat_room_id: a.chat_room_id,
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: i64::try_from(a.size).unwrap_or(i64::MAX),
            message_id: a.message_id.clone(),
            width: a.width.map(i64::from),
            height: a.height.map(i64::from),
            created_at: to_bson_time(&a.created_at),
            expires_at: to_bson_time(&a.expires_at),
        }
    }
}

impl TryFrom<AttachmentDoc> for Attachment {
    type Error = StoreError;

    fn try_from(d: AttachmentDoc) -> StoreResult<Self> {
        let pixels = |value: Option<i64>| value.and_then(|value| u32::try_from(value).ok());
        Ok(Self {
            id: AttachmentId::parse(&d.id)
                .ok_or_else(|| StoreError::Backend("corrupt attachments._id".into()))?,
            uploader: UserId(d.uploader),
            chat_room_id: d.chat_room_id,
            file_name: d.file_name,
            content_type: d.content_type,
            size: u64::try_from(d.size).unwrap_or_default(),
            message_id: d.message_id,
            width: pixels(d.width),
            height: pixels(d.height),
            created_at: d.created_at.to_chrono(),
            expires_at: d.expires_at.to_chrono(),
        })
    }
}

impl MongoStore {
    fn attachments(&self) -> Collection<AttachmentDoc> {
        self.database().collection(ATTACHMENTS)
    }
}

#[async_trait]
impl AttachmentStore for MongoStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        self.attachments()
            .insert_one(AttachmentDoc::from(attachment))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn find_attachment(&self, id: &AttachmentId) -> StoreResult<Option<Attachment>> {
        self.attachments()
            .find_one(doc! { "_id": id.as_str() })
            .await
            .map_err(map_err)?
            .map(Attachment::try_from)
            .transpose()
    }

    async fn claim_attachment(&self, claim: &AttachmentClaim) -> StoreResult<Option<Attachment>> {
        let mut set = doc! { "messageId": &claim.message_id };
        if let Some((width, height)) = claim.dimensions {
            set.insert("width", i64::from(width));
            set.insert("height", i64::from(height));
        }
        self.attachments()
            .find_one_and_update(
                doc! {
                    "_id": claim.id.as_str(),
                    "messageId": null,
                    "uploader": claim.uploader.0,
                    "chatRoomId": claim.chat_room_id.to_string(),
                    "expiresAt": { "$gt": to_bson_time(&claim.now) },
                },
                doc! { "$set": set },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?
            .map(Attachment::try_from)
            .transpose()
    }

    async fn release_attachment(&self, id: &AttachmentId, message_id: &str) -> StoreResult<()> {
        self.attachments()
            .update_one(
                doc! { "_id": id.as_str(), "messageId": message_id },
                doc! { "$set": { "messageId": null } },
            )
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_attachment(&self, id: &AttachmentId) -> StoreResult<()> {
        self.attachments()
            .delete_one(doc! { "_id": id.as_str() })
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn attachments_of(&self, uploader: UserId) -> StoreResult<Vec<Attachment>> {
        let docs: Vec<AttachmentDoc> = self
            .attachments()
            .find(doc! { "uploader": uploader.0 })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        docs.into_iter().map(Attachment::try_from).collect()
    }

    async fn expired_attachments(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        let docs: Vec<AttachmentDoc> = self
            .attachments()
            .find(doc! { "messageId": null, "expiresAt": { "$lte": to_bson_time(&now) } })
            .sort(doc! { "expiresAt": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        docs.into_iter().map(Attachment::try_from).collect()
    }

    async fn remove_expired_attachment(
        &self,
        id: &AttachmentId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let removed = self
            .attachments()
            .delete_one(doc! {
                "_id": id.as_str(),
                "messageId": null,
                "expiresAt": { "$lte": to_bson_time(&now) },
            })
            .await
            .map_err(map_err)?;
        Ok(removed.deleted_count > 0)
    }
}

//! The attachments port: uploads declared for a conversation, pending until one message claims
//! them, swept when they expire unclaimed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{Attachment, AttachmentId, Room, UserId};

/// A send that wants to carry a pending attachment.
#[derive(Debug, Clone)]
pub struct AttachmentClaim {
    pub id: AttachmentId,
    pub uploader: UserId,
    pub chat_room_id: Room,
    pub message_id: String,
    /// Read from the uploaded bytes (raster images).
    pub dimensions: Option<(u32, u32)>,
    pub now: DateTime<Utc>,
}

#[async_trait]
pub trait AttachmentStore: Send + Sync {
    async fn insert_attachment(&self, attachment: &Attachment) -> StoreResult<()>;
    async fn find_attachment(&self, id: &AttachmentId) -> StoreResult<Option<Attachment>>;
    /// Attaches a pending, unexpired attachment of `claim.uploader` for `claim.chat_room_id` to
    /// `claim.message_id` (with its dimensions), atomically: `None` when it is not such a one (two
    /// sends racing for one attachment: one wins).
    async fn claim_attachment(&self, claim: &AttachmentClaim) -> StoreResult<Option<Attachment>>;
    /// Undoes a claim whose message was not stored.
    async fn release_attachment(&self, id: &AttachmentId, message_id: &str) -> StoreResult<()>;
    /// Forgets an attachment (its message was deleted).
    async fn remove_attachment(&self, id: &AttachmentId) -> StoreResult<()>;
    /// Every attachment `uploader` uploaded, pending or attached (their account is being deleted).
    async fn attachments_of(&self, uploader: UserId) -> StoreResult<Vec<Attachment>>;
    /// Pending attachments whose time ran out by `now`, at most `limit`.
    async fn expired_attachments(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>>;
    /// Forgets one of those, only if it is still pending and expired (a claim may not race it);
    /// whether it did.
    async fn remove_expired_attachment(
        &self,
        id: &AttachmentId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

//! Attachments: a file uploaded to object storage for one conversation (pending until one message
//! carries it), and what a message says of it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Room, UserId};

/// An attachment's id: a random UUID, also the last part of its object key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentId(String);

impl AttachmentId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// An id as a client or a row spells it: a UUID in its hyphenated form, nothing else.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text)
            .ok()
            .map(|id| Self(id.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where its bytes live in object storage (one home for the layout of keys).
    pub fn object_key(&self) -> String {
        format!("attachments/{}", self.0)
    }
}

impl Default for AttachmentId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An upload as stored: declared by its uploader for one conversation, attached to at most one
/// message (`message_id`), expiring while it is not.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub uploader: UserId,
    pub chat_room_id: Room,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// The message that carries it; `None` while it is pending.
    pub message_id: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub created_at: DateTime<Utc>,
    /// A pending attachment is swept after this.
    pub expires_at: DateTime<Utc>,
}

impl Attachment {
    /// What a message carries of it.
    pub fn file(&self) -> FileAttachment {
        FileAttachment {
            attachment_id: self.id.as_str().to_owned(),
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
        }
    }
}

/// A stored file as a message carries it (download it with `GET /chat/attachments/{attachmentId}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileAttachment {
    pub attachment_id: String,
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Pixels, for raster images (read from the uploaded file's header).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u32>,
}

/// A message's `attachment`: a file stored by us (an object), or the seed's plain URL (a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MessageAttachment {
    File(FileAttachment),
    /// An http(s) URL the client got elsewhere (the seed's form).
    Link(String),
}

impl MessageAttachment {
    /// The stored file's id, when it is one.
    pub fn attachment_id(&self) -> Option<AttachmentId> {
        match self {
            Self::File(file) => AttachmentId::parse(&file.attachment_id),
            Self::Link(_) => None,
        }
    }
}

//! Attachments: declaring an upload, and the links to send and fetch the bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::{GroupId, UserId};

/// `POST /chat/attachments`: the file about to be uploaded, for one conversation (a `receiver`,
/// or a `groupId`).
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAttachmentRequest {
    #[validate(length(min = 1, max = 255, message = "fileName must be 1 to 255 characters"))]
    #[schema(min_length = 1, max_length = 255)]
    pub file_name: String,
    /// One of the allowed types (README, Attachments); `text/html` and `image/svg+xml` never are.
    #[validate(length(
        min = 1,
        max = 127,
        message = "contentType must be 1 to 127 characters"
    ))]
    #[schema(min_length = 1, max_length = 127)]
    pub content_type: String,
    /// Bytes, 1 to `ATTACHMENT_MAX_BYTES`.
    pub size: u64,
    pub receiver: Option<UserId>,
    pub group_id: Option<GroupId>,
}

/// How to send the bytes: `method` to `url` with exactly `headers`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadInstructions {
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
}

/// The answer to a declared upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicket {
    /// Send it as `attachmentId` with the message.
    pub attachment_id: String,
    pub upload: UploadInstructions,
    /// The upload URL works until then.
    #[serde(with = "crate::time::iso")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// `GET /chat/attachments/{id}?redirect=false`: the short-lived link instead of a redirect.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DownloadLink {
    pub url: String,
    #[serde(with = "crate::time::iso")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// The query of `GET /chat/attachments/{id}`.
#[derive(Debug, Clone, Default, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// `false`: answer 200 with `{url, expiresAt}` instead of a 302 (for clients that cannot
    /// read a redirect, such as a page's `fetch` with a bearer token).
    pub redirect: Option<bool>,
}

//! Messages: creating, fetching history, status.

use serde::{Deserialize, Serialize};
use validator::Validate;

use chrono::{DateTime, Utc};

use crate::model::{ChatType, GroupId, Message, MessageStatus, Reaction, Room, UserId};

/// Longest message text accepted, in characters.
pub const MAX_MESSAGE_CHARS: u64 = 5_000;

/// `POST /chat/message` (and the socket's `sendMessage.messageData`). `sender` and `messageId` come
/// from the server; a `chatRoomId` sent by the client is ignored (the server derives it).
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[validate(schema(function = "text_or_file"))]
pub struct CreateMessageRequest {
    #[validate(length(max = 200, message = "chatRoomId must be at most 200 characters"))]
    pub chat_room_id: Option<String>,
    pub chat_type: Option<ChatType>,
    /// Accepted for compatibility; must be the caller when present.
    pub sender: Option<UserId>,
    pub receiver: Option<UserId>,
    pub group_id: Option<GroupId>,
    /// The text; may be empty (or left out) when the message carries `attachmentId`.
    #[serde(default)]
    #[validate(custom(function = "super::rules::caption"))]
    #[schema(max_length = 5000)]
    pub message: String,
    #[validate(custom(
        function = "super::rules::http_url",
        message = "attachment must be an http:// or https:// URL"
    ))]
    pub attachment: Option<String>,
    /// A file uploaded for this conversation (`POST /chat/attachments`); the message then
    /// carries it as `attachment: {attachmentId, fileName, contentType, size, width?, height?}`.
    #[validate(length(
        min = 1,
        max = 100,
        message = "attachmentId must be 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub attachment_id: Option<String>,
    /// Makes sending idempotent: a repeat with the same value returns the stored message.
    #[validate(length(
        min = 1,
        max = 100,
        message = "clientMessageId must be 1 to 100 characters"
    ))]
    #[schema(min_length = 1, max_length = 100)]
    pub client_message_id: Option<String>,
    /// The `messageId` of a message of the same conversation that this one answers.
    #[validate(length(min = 1, max = 100, message = "replyTo must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100)]
    pub reply_to: Option<String>,
}

/// `POST /chat/messages/fetch`: one conversation (a partner, or a group), newest first by page, or
/// from a cursor: `before` pages back, `after` catches up (oldest first).
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FetchMessagesRequest {
    pub current_user_id: Option<UserId>,
    pub sender_id: Option<UserId>,
    pub receiver_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    #[validate(range(min = 1, max = 1_000_000, message = "page must be at least 1"))]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    #[validate(range(min = 1, max = 100, message = "limit must be between 1 and 100"))]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[validate(length(min = 1, max = 100, message = "before must be a messageId"))]
    pub before: Option<String>,
    #[validate(length(min = 1, max = 100, message = "after must be a messageId"))]
    pub after: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    pub has_more: bool,
}

/// `PUT /chat/message/:messageId/status`.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStatusRequest {
    pub status: MessageStatus,
}

/// Bulk status changes answer how many messages moved.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedCount {
    pub modified_count: u64,
}

/// Most conversations one rooms-list page holds.
pub const MAX_ROOMS_PAGE: u32 = 100;

/// `GET /chat/rooms/{userId}` and `GET /chat/group-rooms/{userId}`: `?limit=&before=` for a
/// screenful at a time; without them, every conversation (the seed's answer). Unknown parameters
/// are ignored, as before (a client's cache-buster).
#[derive(Debug, Default, Deserialize, Validate, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RoomsQuery {
    /// At most this many conversations, most recent activity first.
    #[validate(range(min = 1, max = 100, message = "limit must be between 1 and 100"))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Only conversations whose latest activity is older than this: the last room's
    /// `lastMessage.createdAt` of the previous page (a group without messages: its `createdAt`).
    #[serde(default, with = "crate::time::iso_option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<DateTime<Utc>>,
    /// With `before`: the previous page's last `chatRoomId`, so rooms whose latest activity is at
    /// that very millisecond are neither skipped nor repeated.
    #[validate(length(max = 200, message = "beforeRoom must be at most 200 characters"))]
    pub before_room: Option<String>,
}

impl RoomsQuery {
    /// The page as the storage port reads it.
    pub fn window(&self) -> crate::store::RoomsPage {
        crate::store::RoomsPage {
            before: self.before,
            before_room: self.before_room.clone(),
            limit: self.limit,
        }
    }
}

/// A private conversation in the rooms list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateRoom {
    pub chat_room_id: Room,
    pub partner: crate::model::PublicUser,
    pub last_message: Message,
    pub unread_count: u64,
    /// The caller muted this conversation (no push notifications).
    pub muted: bool,
}

/// A group in the group rooms list (groups without messages have `lastMessage: null`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRoom {
    pub chat_room_id: Room,
    pub group: super::groups::GroupSummary,
    pub last_message: Option<Message>,
    pub unread_count: u64,
    /// The caller muted this group (no push notifications).
    pub muted: bool,
}

/// A message has text, a file, or both; and one kind of attachment at most.
fn text_or_file(request: &CreateMessageRequest) -> Result<(), validator::ValidationError> {
    use std::borrow::Cow;
    if request.attachment.is_some() && request.attachment_id.is_some() {
        return Err(
            validator::ValidationError::new("attachment").with_message(Cow::Borrowed(
                "send either attachment (a URL) or attachmentId (an uploaded file), not both",
            )),
        );
    }
    if request.message.is_empty() && request.attachment_id.is_none() {
        return Err(
            validator::ValidationError::new("length").with_message(Cow::Owned(format!(
                "message must be 1 to {MAX_MESSAGE_CHARS} characters"
            ))),
        );
    }
    Ok(())
}

impl CreateMessageRequest {
    /// The chat type asked for, or the one the fields imply (a `groupId` means GROUP).
    pub fn chat_type(&self) -> ChatType {
        self.chat_type.unwrap_or(if self.group_id.is_some() {
            ChatType::Group
        } else {
            ChatType::Private
        })
    }
}

/// `PATCH /chat/message/{messageId}` (and the socket's `editMessage`): the new text, under the
/// same rules as sending.
#[derive(Debug, Clone, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The text; may be empty (or left out) when the message carries `attachmentId`.
    #[serde(default)]
    #[validate(custom(function = "super::rules::caption"))]
    #[schema(max_length = 5000)]
    pub message: String,
}

/// The answer to a deletion, and the `messageDeleted` event's payload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDeleted {
    pub message_id: String,
    pub chat_room_id: Room,
    #[serde(with = "crate::time::iso_option")]
    #[schema(value_type = String, format = DateTime)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// A moderator removed it (a report was upheld); absent when its sender or a group admin did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed_by_moderator: bool,
}

impl From<&Message> for MessageDeleted {
    fn from(message: &Message) -> Self {
        Self {
            message_id: message.message_id.clone(),
            chat_room_id: message.chat_room_id,
            deleted_at: message.deleted_at,
            removed_by_moderator: message.removed_by_moderator,
        }
    }
}

/// The answer to adding or removing a reaction, and the `messageReactions` event's payload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageReactions {
    pub message_id: String,
    pub chat_room_id: Room,
    pub reactions: Vec<Reaction>,
}

impl From<&Message> for MessageReactions {
    fn from(message: &Message) -> Self {
        Self {
            message_id: message.message_id.clone(),
            chat_room_id: message.chat_room_id,
            reactions: message.reactions.clone(),
        }
    }
}

/// Most results one search answers.
pub const MAX_SEARCH_RESULTS: u32 = 50;

/// `GET /chat/messages/search?q=&chatRoomId=&limit=`.
#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchMessagesQuery {
    /// Words to find (each as a word or a word's start; all of them; case- and accent-insensitive).
    #[validate(length(min = 1, max = 200, message = "q must be 1 to 200 characters"))]
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// Only this conversation (one of yours).
    #[validate(length(max = 200, message = "chatRoomId must be at most 200 characters"))]
    pub chat_room_id: Option<String>,
    #[validate(range(min = 1, max = 50, message = "limit must be between 1 and 50"))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// Search results, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageSearchPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GroupId, MessageOid, Room, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChatType {
    Private,
    Group,
}

impl ChatType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "PRIVATE",
            Self::Group => "GROUP",
        }
    }
}

/// SENT → DELIVERED → READ; a status never moves back.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "SENT",
            Self::Delivered => "DELIVERED",
            Self::Read => "READ",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SENT" => Some(Self::Sent),
            "DELIVERED" => Some(Self::Delivered),
            "READ" => Some(Self::Read),
            _ => None,
        }
    }

    /// Whether moving from `self` to `next` goes forward.
    pub fn can_become(self, next: Self) -> bool {
        next > self
    }

    /// The statuses that may move to `next` (every earlier one).
    pub fn before(next: Self) -> &'static [MessageStatus] {
        match next {
            Self::Sent => &[],
            Self::Delivered => &[Self::Sent],
            Self::Read => &[Self::Sent, Self::Delivered],
        }
    }
}

/// A message as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(rename = "_id")]
    pub id: MessageOid,
    pub chat_room_id: Room,
    pub message_id: String,
    pub chat_type: ChatType,
    pub sender: UserId,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub receiver: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub group_id: Option<GroupId>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub attachment: Option<String>,
    pub status: MessageStatus,
    pub read_by: Vec<UserId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_message_id: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub updated_at: DateTime<Utc>,
}

/// Where a history page starts: a message's position in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: MessageOid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryWindow {
    /// Newest first, skipping `offset`.
    Page { offset: u64 },
    /// Newest first, strictly older than the cursor.
    Before(Cursor),
    /// Oldest first, strictly newer than the cursor.
    After(Cursor),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_only_moves_forward() {
        use MessageStatus::*;
        assert!(Sent.can_become(Delivered) && Sent.can_become(Read) && Delivered.can_become(Read));
        assert!(
            !Read.can_become(Delivered) && !Delivered.can_become(Sent) && !Read.can_become(Read)
        );
    }
}

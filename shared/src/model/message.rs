//! A message as stored: chat type, status, reply quote, reactions, history cursors and their limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GroupId, MessageAttachment, MessageOid, Room, UserId};

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
    /// A stored file (`{attachmentId, fileName, …}`) or the seed's plain URL string.
    pub attachment: Option<MessageAttachment>,
    pub status: MessageStatus,
    pub read_by: Vec<UserId>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_message_id: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::iso")]
    pub updated_at: DateTime<Utc>,
    /// When the sender last changed the text.
    #[serde(
        with = "crate::time::iso_option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<DateTime<Utc>>,
    /// A tombstone: the message stays in history with its text, attachment and reactions removed.
    #[serde(default)]
    pub deleted: bool,
    #[serde(
        with = "crate::time::iso_option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The tombstone was made by a moderator (a reported message removed), not by its sender.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed_by_moderator: bool,
    /// One entry per emoji, in the order they were first used.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// The message this one answers, as it is now.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_to: Option<ReplyPreview>,
}

/// Characters of the quoted text a reply carries.
pub const REPLY_PREVIEW_CHARS: usize = 200;

/// The message a reply quotes: its id, author, the start of its text, and whether it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyPreview {
    pub message_id: String,
    pub sender: UserId,
    /// The first `REPLY_PREVIEW_CHARS` characters (empty once it is deleted).
    pub message: String,
    pub deleted: bool,
}

impl ReplyPreview {
    pub fn of(quoted: &Message) -> Self {
        Self {
            message_id: quoted.message_id.clone(),
            sender: quoted.sender,
            message: preview_text(&quoted.message),
            deleted: quoted.deleted,
        }
    }
}

/// The start of a text as a reply quotes it.
pub fn preview_text(text: &str) -> String {
    text.chars().take(REPLY_PREVIEW_CHARS).collect()
}

/// Distinct emoji one message may carry.
pub const MAX_DISTINCT_REACTIONS: usize = 20;
/// Reacting users listed per emoji (the count covers them all).
pub const MAX_REACTION_USERS_LISTED: usize = 20;

/// The users who reacted to a message with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub emoji: String,
    pub count: u64,
    /// The first `MAX_REACTION_USERS_LISTED` of them, in the order they reacted.
    pub user_ids: Vec<UserId>,
}

impl Reaction {
    /// Groups `(emoji, user)` pairs, given in reaction order, into the API's reactions.
    pub fn group(pairs: impl IntoIterator<Item = (String, UserId)>) -> Vec<Reaction> {
        let mut reactions: Vec<Reaction> = Vec::new();
        for (emoji, user) in pairs {
            let index = match reactions.iter().position(|r| r.emoji == emoji) {
                Some(index) => index,
                None => {
                    reactions.push(Reaction {
                        emoji,
                        count: 0,
                        user_ids: Vec::new(),
                    });
                    reactions.len() - 1
                }
            };
            let reaction = &mut reactions[index];
            reaction.count += 1;
            if reaction.user_ids.len() < MAX_REACTION_USERS_LISTED {
                reaction.user_ids.push(user);
            }
        }
        reactions
    }
}

impl Message {
    /// The participants' rooms an edit, deletion or reaction reaches: both users of a private
    /// conversation, or the group.
    pub fn conversation_rooms(&self) -> Vec<Room> {
        match (self.receiver, self.group_id) {
            (Some(receiver), _) => vec![Room::User(self.sender), Room::User(receiver)],
            (None, Some(group)) => vec![Room::Group(group)],
            (None, None) => vec![Room::User(self.sender)],
        }
    }
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

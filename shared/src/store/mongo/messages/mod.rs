//! Messages on MongoDB: the `messages` document and its mapping (the change stream decodes these
//! too), and the port's `MessageStore` methods, each delegating to the module of its job.

use async_trait::async_trait;
use bson::{oid::ObjectId, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{options::FindOptions, Collection};
use serde::{Deserialize, Serialize};

use super::{indexes::MESSAGES, map_err, to_bson_time, MongoStore};
use crate::{
    model::{
        ChatType, GroupId, HistoryWindow, Message, MessageAttachment, MessageOid, MessageStatus,
        Reaction, ReplyPreview, Room, UserId,
    },
    store::{
        MessageSearch, MessageStore, ReactOutcome, ReactionChange, RoomSummary, RoomsPage,
        SendOutcome, SendRequest, StoreResult,
    },
};

mod conversations;
mod erasure;
mod history;
mod search;
mod writes;

/// A `messages` document, field for field (the change stream decodes these too).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    chat_room_id: Room,
    message_id: String,
    chat_type: ChatType,
    sender: ObjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    receiver: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id: Option<ObjectId>,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attachment: Option<MessageAttachment>,
    status: MessageStatus,
    #[serde(default)]
    read_by: Vec<ObjectId>,
    /// Left out when absent, so the partial unique index only sees real ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_message_id: Option<String>,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at: Option<bson::DateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<bson::DateTime>,
    /// `"moderator"` on a tombstone a moderator made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    removed_by: Option<String>,
    /// One entry per user and emoji, in reaction order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reactions: Vec<ReactionDoc>,
    /// The quoted message, copied at send and kept current when it is edited or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyDoc>,
}

/// `removedBy` of a tombstone a moderator made.
pub(super) const REMOVED_BY_MODERATOR: &str = "moderator";

/// The quote a reply carries (`replyTo`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReplyDoc {
    message_id: String,
    sender: ObjectId,
    message: String,
    #[serde(default)]
    deleted: bool,
}

/// One user's reaction with one emoji.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReactionDoc {
    emoji: String,
    user_id: ObjectId,
}

impl From<&Message> for MessageDoc {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.0,
            chat_room_id: m.chat_room_id,
            message_id: m.message_id.clone(),
            chat_type: m.chat_type,
            sender: m.sender.0,
            receiver: m.receiver.map(|id| id.0),
            group_id: m.group_id.map(|id| id.0),
            message: m.message.clone(),
            attachment: m.attachment.clone(),
            status: m.status,
            read_by: m.read_by.iter().map(|id| id.0).collect(),
            client_message_id: m.client_message_id.clone(),
            created_at: to_bson_time(&m.created_at),
            updated_at: to_bson_time(&m.updated_at),
            edited_at: m.edited_at.as_ref().map(to_bson_time),
            deleted_at: m.deleted_at.as_ref().map(to_bson_time),
            removed_by: m
                .removed_by_moderator
                .then(|| REMOVED_BY_MODERATOR.to_owned()),
            reactions: m
                .reactions
                .iter()
                .flat_map(|reaction| {
                    reaction.user_ids.iter().map(|user| ReactionDoc {
                        emoji: reaction.emoji.clone(),
                        user_id: user.0,
                    })
                })
                .collect(),
            reply_to: m.reply_to.as_ref().map(|quoted| ReplyDoc {
                message_id: quoted.message_id.clone(),
                sender: quoted.sender.0,
                message: quoted.message.clone(),
                deleted: quoted.deleted,
            }),
        }
    }
}

impl From<MessageDoc> for Message {
    fn from(d: MessageDoc) -> Self {
        Self {
            id: MessageOid(d.id),
            chat_room_id: d.chat_room_id,
            message_id: d.message_id,
            chat_type: d.chat_type,
            sender: UserId(d.sender),
            receiver: d.receiver.map(UserId),
            group_id: d.group_id.map(GroupId),
            message: d.message,
            attachment: d.attachment,
            status: d.status,
            read_by: d.read_by.into_iter().map(UserId).collect(),
            client_message_id: d.client_message_id,
            created_at: d.created_at.to_chrono(),
            updated_at: d.updated_at.to_chrono(),
            edited_at: d.edited_at.map(|at| at.to_chrono()),
            deleted: d.deleted_at.is_some(),
            deleted_at: d.deleted_at.map(|at| at.to_chrono()),
            removed_by_moderator: d.removed_by.as_deref() == Some(REMOVED_BY_MODERATOR),
            reactions: Reaction::group(
                d.reactions
                    .into_iter()
                    .map(|reaction| (reaction.emoji, UserId(reaction.user_id))),
            ),
            reply_to: d.reply_to.map(|quoted| ReplyPreview {
                message_id: quoted.message_id,
                sender: UserId(quoted.sender),
                message: quoted.message,
                deleted: quoted.deleted,
            }),
        }
    }
}

impl MongoStore {
    pub(super) fn messages(&self) -> Collection<MessageDoc> {
        self.database().collection(MESSAGES)
    }

    pub(super) async fn find_messages(
        &self,
        filter: Document,
        options: FindOptions,
    ) -> StoreResult<Vec<Message>> {
        let found: Vec<MessageDoc> = self
            .messages()
            .find(filter)
            .with_options(options)
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(Message::from).collect())
    }
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn send_message(&self, send: SendRequest) -> StoreResult<SendOutcome> {
        self.send(send).await
    }

    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.edit(id, text, now).await
    }

    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
        by_moderator: bool,
    ) -> StoreResult<Option<(Message, bool)>> {
        self.delete(id, now, by_moderator).await
    }

    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>> {
        self.search(search).await
    }

    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.read_group(group, reader, now).await
    }

    async fn react(&self, change: ReactionChange) -> StoreResult<ReactOutcome> {
        self.change_reaction(change).await
    }

    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>> {
        self.by_message_id(message_id).await
    }

    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        self.by_client_id(sender, client_message_id).await
    }

    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.advance_one(id, status, reader, now).await
    }

    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.advance_all(sender, receiver, status, now).await
    }

    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.history(room, window, limit).await
    }

    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64> {
        self.count_in_room(room).await
    }

    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>> {
        self.undelivered(sender, receiver).await
    }

    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        self.contacts(user).await
    }

    async fn private_rooms(&self, user: UserId, page: RoomsPage) -> StoreResult<Vec<RoomSummary>> {
        self.private_room_summaries(user, &page).await
    }

    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>> {
        self.group_room_summaries(user, groups).await
    }

    async fn erase_messages_of(
        &self,
        user: UserId,
        keep_tombstones: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.erase_of(user, keep_tombstones, now).await
    }

    async fn messages_sent_by(
        &self,
        sender: UserId,
        after: Option<MessageOid>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.sent_by(sender, after, limit).await
    }
}

use async_trait::async_trait;
use bson::{doc, oid::ObjectId, Bson, Document};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{
    options::{FindOptions, ReturnDocument},
    Collection,
};
use serde::{Deserialize, Serialize};

use super::{
    indexes::{GROUPS, MESSAGES},
    map_err, to_bson_time, MongoStore,
};
use crate::{
    model::{
        preview_text, ChatType, GroupId, HistoryWindow, Message, MessageOid, MessageStatus,
        Reaction, ReplyPreview, Room, UserId,
    },
    store::{
        GroupStore, MessageSearch, MessageStore, RateLimitStore, ReactOutcome, ReactionChange,
        RoomSummary, SendOutcome, SendRequest, StoreResult, UserStore,
    },
};

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
    attachment: Option<String>,
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
    /// One entry per user and emoji, in reaction order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reactions: Vec<ReactionDoc>,
    /// The quoted message, copied at send and kept current when it is edited or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_to: Option<ReplyDoc>,
}

/// The quote a reply carries (`replyTo`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyDoc {
    message_id: String,
    sender: ObjectId,
    message: String,
    #[serde(default)]
    deleted: bool,
}

/// One user's reaction with one emoji.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReactionDoc {
    emoji: String,
    user_id: ObjectId,
}

/// Matches a message's entry for `user` and `emoji`.
fn reaction_entry(emoji: &str, user: UserId) -> Document {
    doc! { "$elemMatch": { "emoji": emoji, "userId": user.0 } }
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

/// One row of the rooms aggregations.
#[derive(Debug, Deserialize)]
struct RoomDoc {
    latest: MessageDoc,
    unread: i64,
}

impl From<RoomDoc> for RoomSummary {
    fn from(room: RoomDoc) -> Self {
        let latest = Message::from(room.latest);
        Self {
            chat_room_id: latest.chat_room_id,
            latest,
            unread: u64::try_from(room.unread).unwrap_or(0),
        }
    }
}

fn status_names(statuses: &[MessageStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

impl MongoStore {
    fn messages(&self) -> Collection<MessageDoc> {
        self.database().collection(MESSAGES)
    }

    async fn find_messages(
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

    /// Keeps the quotes of the replies to `message_id` current (SQLite reads them at query time).
    /// The change stream ignores these writes: the replies themselves did not change.
    async fn update_quotes(&self, message_id: &str, set: Document) -> StoreResult<()> {
        self.messages()
            .update_many(
                doc! { "replyTo.messageId": message_id },
                doc! { "$set": set },
            )
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn rooms(&self, pipeline: Vec<Document>) -> StoreResult<Vec<RoomSummary>> {
        let rooms: Vec<RoomDoc> = self
            .messages()
            .aggregate(pipeline)
            .with_type::<RoomDoc>()
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(rooms.into_iter().map(RoomSummary::from).collect())
    }
}

#[async_trait]
impl MessageStore for MongoStore {
    async fn insert_message(&self, message: Message) -> StoreResult<()> {
        self.messages()
            .insert_one(MessageDoc::from(&message))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// The same steps as SQLite's one transaction, one request each (not atomic: two sends with
    /// one `clientMessageId` can race to the unique index, which refuses the second).
    async fn send_message(&self, send: SendRequest) -> StoreResult<SendOutcome> {
        let SendRequest {
            message,
            rate_limit,
        } = send;
        if let Some(client_id) = &message.client_message_id {
            if let Some(sent) = self
                .find_message_by_client_id(message.sender, client_id)
                .await?
            {
                return Ok(SendOutcome::Repeated(sent));
            }
        }
        let hits = self
            .hit(&rate_limit.key, rate_limit.expires_at, rate_limit.now)
            .await?;
        if hits > rate_limit.max {
            return Ok(SendOutcome::RateLimited);
        }
        if let Some(receiver) = message.receiver {
            if self.find_user_by_id(receiver).await?.is_none() {
                return Ok(SendOutcome::ReceiverMissing);
            }
            if self.blocks(receiver, message.sender).await? {
                return Ok(SendOutcome::Blocked);
            }
        }
        if let Some(group_id) = message.group_id {
            match self.find_group(group_id).await? {
                Some(group) if group.is_active => {
                    if !group.is_member(message.sender) {
                        return Ok(SendOutcome::NotAMember);
                    }
                }
                _ => return Ok(SendOutcome::GroupMissing),
            }
        }
        self.insert_message(message.clone()).await?;
        Ok(SendOutcome::Created(message))
    }

    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let at = to_bson_time(&now);
        let edited = self
            .messages()
            .find_one_and_update(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! { "$set": { "message": text, "editedAt": at, "updatedAt": at } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        let edited = edited.map(Message::from);
        if let Some(message) = &edited {
            self.update_quotes(
                &message.message_id,
                doc! { "replyTo.message": preview_text(&message.message) },
            )
            .await?;
        }
        Ok(edited)
    }

    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Message, bool)>> {
        let at = to_bson_time(&now);
        let deleted = self
            .messages()
            .find_one_and_update(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! {
                    "$set": { "message": "", "deletedAt": at, "updatedAt": at, "reactions": [] },
                    "$unset": { "attachment": "" },
                },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        if let Some(message) = deleted {
            let message = Message::from(message);
            self.update_quotes(
                &message.message_id,
                doc! { "replyTo.message": "", "replyTo.deleted": true },
            )
            .await?;
            return Ok(Some((message, true)));
        }
        // Already a tombstone (or no such message).
        let found = self
            .messages()
            .find_one(doc! { "_id": id.0 })
            .await
            .map_err(map_err)?;
        Ok(found.map(|message| (Message::from(message), false)))
    }

    /// `$text` with every term as a quoted phrase (all required), restricted to the user's
    /// private messages and active groups in the same filter.
    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>> {
        let phrase = search
            .terms
            .iter()
            .map(|term| format!("\"{term}\""))
            .collect::<Vec<_>>()
            .join(" ");
        let groups: Vec<Bson> = self
            .database()
            .collection::<Document>(GROUPS)
            .distinct("_id", doc! { "members": search.user.0, "isActive": true })
            .await
            .map_err(map_err)?;
        let me = search.user.0;
        let mut filter = doc! {
            "$text": { "$search": phrase },
            "deletedAt": Bson::Null,
            "$or": [
                { "sender": me, "chatType": ChatType::Private.as_str() },
                { "receiver": me },
                { "groupId": { "$in": groups } },
            ],
        };
        if let Some(room) = search.room {
            filter.insert("chatRoomId", room.to_string());
        }
        let options = FindOptions::builder()
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .limit(i64::from(search.limit))
            .build();
        self.find_messages(filter, options).await
    }

    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let result = self
            .messages()
            .update_many(
                doc! {
                    "groupId": group.0,
                    "sender": { "$ne": reader.0 },
                    "readBy": { "$ne": reader.0 },
                    "deletedAt": Bson::Null,
                },
                doc! {
                    "$addToSet": { "readBy": reader.0 },
                    "$set": { "status": MessageStatus::Read.as_str(), "updatedAt": to_bson_time(&now) },
                },
            )
            .await
            .map_err(map_err)?;
        Ok(result.modified_count)
    }

    /// The distinct-emoji cap is checked on the document read first: two concurrent new emoji
    /// can pass it together (as the other caps on this adapter).
    async fn react(&self, change: ReactionChange) -> StoreResult<ReactOutcome> {
        let Some(current) = self
            .messages()
            .find_one(doc! { "_id": change.message.0, "deletedAt": Bson::Null })
            .await
            .map_err(map_err)?
        else {
            return Ok(ReactOutcome::Gone);
        };
        let current = Message::from(current);
        let has_emoji = current.reactions.iter().any(|r| r.emoji == change.emoji);
        if change.add && !has_emoji && current.reactions.len() >= change.max_distinct {
            return Ok(ReactOutcome::TooMany);
        }
        let entry = reaction_entry(&change.emoji, change.user);
        let at = to_bson_time(&change.now);
        let pair = doc! { "emoji": &change.emoji, "userId": change.user.0 };
        // One write that happens only when it changes something, so a repeat writes nothing
        // (and puts nothing on the change stream).
        let (filter, update) = if change.add {
            (
                doc! { "_id": change.message.0, "deletedAt": Bson::Null,
                "reactions": { "$not": entry } },
                doc! { "$push": { "reactions": pair }, "$set": { "updatedAt": at } },
            )
        } else {
            (
                doc! { "_id": change.message.0, "deletedAt": Bson::Null, "reactions": entry },
                doc! { "$pull": { "reactions": pair }, "$set": { "updatedAt": at } },
            )
        };
        let updated = self
            .messages()
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        // No match: the write would have changed nothing (a repeat).
        let message = updated.map_or(current, Message::from);
        Ok(ReactOutcome::Done(Box::new(message)))
    }

    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>> {
        let found = self
            .messages()
            .find_one(doc! { "messageId": message_id })
            .await
            .map_err(map_err)?;
        Ok(found.map(Message::from))
    }

    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        let found = self
            .messages()
            .find_one(doc! { "sender": sender.0, "clientMessageId": client_message_id })
            .await
            .map_err(map_err)?;
        Ok(found.map(Message::from))
    }

    /// One atomic write, one feed event: the status moves forward, and a group reader joins
    /// `readBy`; nothing happens when neither applies.
    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let behind = doc! { "status": { "$in": status_names(MessageStatus::before(status)) } };
        let (filter, mut update) = match reader {
            Some(reader) => (
                doc! { "_id": id.0, "$or": [behind, { "readBy": { "$ne": reader.0 } }] },
                doc! { "$addToSet": { "readBy": reader.0 } },
            ),
            None => {
                let mut filter = behind;
                filter.insert("_id", id.0);
                (filter, Document::new())
            }
        };
        // The filter let the write through only when the status is behind (or, for a reader of a
        // message already READ, when the reader is new: setting READ again changes nothing).
        update.insert(
            "$set",
            doc! { "status": status.as_str(), "updatedAt": to_bson_time(&now) },
        );
        let updated = self
            .messages()
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(map_err)?;
        Ok(updated.map(Message::from))
    }

    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let result = self
            .messages()
            .update_many(
                doc! {
                    "chatType": ChatType::Private.as_str(),
                    "sender": sender.0,
                    "receiver": receiver.0,
                    "status": { "$in": status_names(MessageStatus::before(status)) },
                },
                doc! { "$set": { "status": status.as_str(), "updatedAt": to_bson_time(&now) } },
            )
            .await
            .map_err(map_err)?;
        Ok(result.modified_count)
    }

    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let chat_room_id = room.to_string();
        let newest_first = doc! { "createdAt": -1, "_id": -1 };
        let (filter, options) = match window {
            HistoryWindow::Page { offset } => (
                doc! { "chatRoomId": chat_room_id },
                FindOptions::builder()
                    .sort(newest_first)
                    .skip(offset)
                    .limit(i64::from(limit))
                    .build(),
            ),
            HistoryWindow::Before(cursor) => {
                let at = to_bson_time(&cursor.created_at);
                (
                    doc! { "chatRoomId": chat_room_id, "$or": [
                        { "createdAt": { "$lt": at } },
                        { "createdAt": at, "_id": { "$lt": cursor.id.0 } },
                    ] },
                    FindOptions::builder()
                        .sort(newest_first)
                        .limit(i64::from(limit))
                        .build(),
                )
            }
            HistoryWindow::After(cursor) => {
                let at = to_bson_time(&cursor.created_at);
                (
                    doc! { "chatRoomId": chat_room_id, "$or": [
                        { "createdAt": { "$gt": at } },
                        { "createdAt": at, "_id": { "$gt": cursor.id.0 } },
                    ] },
                    FindOptions::builder()
                        .sort(doc! { "createdAt": 1, "_id": 1 })
                        .limit(i64::from(limit))
                        .build(),
                )
            }
        };
        self.find_messages(filter, options).await
    }

    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64> {
        let chat_room_id = room.to_string();
        self.messages()
            .count_documents(doc! { "chatRoomId": chat_room_id })
            .await
            .map_err(map_err)
    }

    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>> {
        self.find_messages(
            doc! {
                "chatType": ChatType::Private.as_str(),
                "sender": sender.0,
                "receiver": receiver.0,
                "status": MessageStatus::Sent.as_str(),
            },
            FindOptions::builder()
                .sort(doc! { "createdAt": 1, "_id": 1 })
                .build(),
        )
        .await
    }

    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        let private = doc! { "chatType": ChatType::Private.as_str() };
        let mut sent_to = private.clone();
        sent_to.insert("sender", user.0);
        let mut heard_from = private;
        heard_from.insert("receiver", user.0);
        let mut contacts: Vec<ObjectId> = Vec::new();
        for (field, filter) in [("receiver", sent_to), ("sender", heard_from)] {
            let found = self
                .messages()
                .distinct(field, filter)
                .await
                .map_err(map_err)?;
            contacts.extend(found.into_iter().filter_map(|id| id.as_object_id()));
        }
        let members = self
            .database()
            .collection::<Document>(super::indexes::GROUPS)
            .distinct("members", doc! { "members": user.0, "isActive": true })
            .await
            .map_err(map_err)?;
        contacts.extend(members.into_iter().filter_map(|id| id.as_object_id()));
        contacts.sort();
        contacts.dedup();
        contacts.retain(|id| *id != user.0);
        let blocked = self.blocked_users(user).await?;
        Ok(contacts
            .into_iter()
            .map(UserId)
            .filter(|contact| !blocked.contains(contact))
            .collect())
    }

    async fn private_rooms(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        let me = Bson::ObjectId(user.0);
        let unread = doc! { "$cond": [
            { "$and": [
                { "$eq": ["$receiver", &me] },
                { "$ne": ["$status", "READ"] },
                { "$eq": [{ "$ifNull": ["$deletedAt", Bson::Null] }, Bson::Null] },
            ] }, 1, 0
        ] };
        let pipeline = vec![
            doc! { "$match": {
                "chatType": ChatType::Private.as_str(),
                "$or": [ { "sender": &me }, { "receiver": &me } ],
            } },
            doc! { "$group": {
                "_id": "$chatRoomId",
                "latest": { "$top": { "sortBy": { "createdAt": -1, "_id": -1 }, "output": "$$ROOT" } },
                "unread": { "$sum": unread },
            } },
            doc! { "$sort": { "latest.createdAt": -1, "latest._id": -1 } },
        ];
        self.rooms(pipeline).await
    }

    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let me = Bson::ObjectId(user.0);
        let group_ids: Vec<ObjectId> = groups.iter().map(|g| g.0).collect();
        let unread = doc! { "$cond": [
            { "$and": [
                { "$ne": ["$sender", &me] },
                { "$not": [ { "$in": [&me, { "$ifNull": ["$readBy", []] }] } ] },
                { "$eq": [{ "$ifNull": ["$deletedAt", Bson::Null] }, Bson::Null] },
            ] }, 1, 0
        ] };
        let pipeline = vec![
            doc! { "$match": { "groupId": { "$in": group_ids } } },
            doc! { "$group": {
                "_id": "$groupId",
                "latest": { "$top": { "sortBy": { "createdAt": -1, "_id": -1 }, "output": "$$ROOT" } },
                "unread": { "$sum": unread },
            } },
            doc! { "$sort": { "latest.createdAt": -1, "latest._id": -1 } },
        ];
        self.rooms(pipeline).await
    }
}

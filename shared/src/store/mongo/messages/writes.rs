//! Every message write: send (its checks, then the insert), edit, delete, reactions and receipts;
//! quotes of a changed message are kept current.

use bson::{doc, Bson, Document};
use chrono::{DateTime, Utc};
use mongodb::options::ReturnDocument;

use super::{MessageDoc, MongoStore};
use crate::{
    model::{preview_text, ChatType, GroupId, Message, MessageOid, MessageStatus, UserId},
    store::{
        mongo::{map_err, to_bson_time},
        GroupStore, RateLimitStore, ReactOutcome, ReactionChange, SendOutcome, SendRequest,
        StoreResult, UserStore,
    },
};

/// Matches a message's entry for `user` and `emoji`.
fn reaction_entry(emoji: &str, user: UserId) -> Document {
    doc! { "$elemMatch": { "emoji": emoji, "userId": user.0 } }
}

fn status_names(statuses: &[MessageStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

impl MongoStore {
    /// Stores a new message (the change stream carries it to the feed).
    async fn insert(&self, message: &Message) -> StoreResult<()> {
        self.messages()
            .insert_one(MessageDoc::from(message))
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// The same steps as SQLite's one transaction, one request each (not atomic: two sends with
    /// one `clientMessageId` can race to the unique index, which refuses the second).
    pub(super) async fn send(&self, send: SendRequest) -> StoreResult<SendOutcome> {
        let SendRequest {
            message,
            rate_limit,
        } = send;
        if let Some(client_id) = &message.client_message_id {
            if let Some(sent) = self.by_client_id(message.sender, client_id).await? {
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
            let live = self.find_user_by_id(receiver).await?;
            if live.is_none_or(|user| user.is_deleted()) {
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
        self.insert(&message).await?;
        Ok(SendOutcome::Created(message))
    }

    pub(super) async fn edit(
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

    pub(super) async fn delete(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
        by_moderator: bool,
    ) -> StoreResult<Option<(Message, bool)>> {
        let at = to_bson_time(&now);
        let removed_by = if by_moderator {
            Bson::String(super::REMOVED_BY_MODERATOR.to_owned())
        } else {
            Bson::Null
        };
        let deleted = self
            .messages()
            .find_one_and_update(
                doc! { "_id": id.0, "deletedAt": Bson::Null },
                doc! {
                    "$set": {
                        "message": "", "deletedAt": at, "updatedAt": at, "reactions": [],
                        "removedBy": removed_by,
                    },
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

    pub(super) async fn read_group(
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
    pub(super) async fn change_reaction(
        &self,
        change: ReactionChange,
    ) -> StoreResult<ReactOutcome> {
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

    /// One atomic write, one feed event: the status moves forward, and a group reader joins
    /// `readBy`; nothing happens when neither applies.
    pub(super) async fn advance_one(
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

    pub(super) async fn advance_all(
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
}

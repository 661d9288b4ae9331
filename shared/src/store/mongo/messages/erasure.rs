//! What an account's deletion removes from messages, and the pages of a user's own messages the
//! data export reads.

use bson::{doc, Bson};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::{MessageDoc, MongoStore};
use crate::{
    model::{Message, MessageOid, UserId},
    store::{mongo::map_err, mongo::to_bson_time, StoreResult},
};

impl MongoStore {
    pub(super) async fn erase_of(
        &self,
        user: UserId,
        keep_tombstones: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let erased = if keep_tombstones {
            let at = to_bson_time(&now);
            self.messages()
                .update_many(
                    doc! { "sender": user.0, "deletedAt": Bson::Null },
                    doc! {
                        "$set": { "message": "", "deletedAt": at, "updatedAt": at, "reactions": [] },
                        "$unset": { "attachment": "" },
                    },
                )
                .await
                .map_err(map_err)?
                .modified_count
        } else {
            self.messages()
                .delete_many(doc! { "sender": user.0 })
                .await
                .map_err(map_err)?
                .deleted_count
        };
        self.messages()
            .update_many(
                doc! { "reactions.userId": user.0 },
                doc! { "$pull": { "reactions": { "userId": user.0 } } },
            )
            .await
            .map_err(map_err)?;
        self.messages()
            .update_many(
                doc! { "readBy": user.0 },
                doc! { "$pull": { "readBy": user.0 } },
            )
            .await
            .map_err(map_err)?;
        Ok(erased)
    }

    pub(super) async fn sent_by(
        &self,
        sender: UserId,
        after: Option<MessageOid>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut filter = doc! { "sender": sender.0 };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$gt": after.0 });
        }
        let found: Vec<MessageDoc> = self
            .messages()
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found.into_iter().map(Message::from).collect())
    }
}

//! Reading a conversation's messages: by id, pages and cursors, counts, undelivered ones.

use bson::{doc, Document};
use mongodb::options::FindOptions;

use super::MongoStore;
use crate::{
    model::{ChatType, HistoryWindow, Message, MessageStatus, Room, UserId},
    store::{
        mongo::{map_err, to_bson_time},
        StoreResult,
    },
};

impl MongoStore {
    pub(super) async fn by_message_id(&self, message_id: &str) -> StoreResult<Option<Message>> {
        let found = self
            .messages()
            .find_one(doc! { "messageId": message_id })
            .await
            .map_err(map_err)?;
        Ok(found.map(Message::from))
    }

    pub(super) async fn by_client_id(
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

    /// A room's messages in the window: a page newest first, strictly older than a cursor newest
    /// first, or strictly newer than one oldest first; at most `limit`.
    pub(super) async fn history(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let chat_room_id = room.to_string();
        let (filter, options) = match window {
            HistoryWindow::Page { offset } => (
                doc! { "chatRoomId": chat_room_id },
                FindOptions::builder()
                    .sort(doc! { "createdAt": -1, "_id": -1 })
                    .skip(offset)
                    .limit(i64::from(limit))
                    .build(),
            ),
            HistoryWindow::Before(cursor) | HistoryWindow::After(cursor) => {
                let (beyond, order) = match window {
                    HistoryWindow::After(_) => ("$gt", 1),
                    _ => ("$lt", -1),
                };
                let at = to_bson_time(&cursor.created_at);
                let mut later_or_earlier = Document::new();
                later_or_earlier.insert(beyond, at);
                let mut same_time_by_id = Document::new();
                same_time_by_id.insert(beyond, cursor.id.0);
                (
                    doc! { "chatRoomId": chat_room_id, "$or": [
                        { "createdAt": later_or_earlier },
                        { "createdAt": at, "_id": same_time_by_id },
                    ] },
                    FindOptions::builder()
                        .sort(doc! { "createdAt": order, "_id": order })
                        .limit(i64::from(limit))
                        .build(),
                )
            }
        };
        self.find_messages(filter, options).await
    }

    pub(super) async fn count_in_room(&self, room: &Room) -> StoreResult<u64> {
        let chat_room_id = room.to_string();
        self.messages()
            .count_documents(doc! { "chatRoomId": chat_room_id })
            .await
            .map_err(map_err)
    }

    pub(super) async fn undelivered(
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
}

//! Full-text search (SPEC §7) with the `$text` index, restricted to the user's conversations.

use bson::{doc, Bson, Document};
use mongodb::options::FindOptions;

use super::MongoStore;
use crate::{
    model::{ChatType, Message},
    store::{
        mongo::{indexes::GROUPS, map_err},
        MessageSearch, StoreResult,
    },
};

impl MongoStore {
    /// `$text` with every term as a quoted phrase (all required), restricted to the user's
    /// private messages and active groups in the same filter.
    pub(super) async fn search(&self, search: MessageSearch) -> StoreResult<Vec<Message>> {
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
}

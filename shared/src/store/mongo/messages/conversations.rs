//! The rooms lists (latest message and unread count per conversation, by aggregation) and a
//! user's contacts.

use bson::{doc, oid::ObjectId, Bson, Document};
use futures_util::TryStreamExt;
use serde::Deserialize;

use super::{MessageDoc, MongoStore};
use crate::{
    model::{ChatType, GroupId, Message, UserId},
    store::{
        mongo::{indexes::GROUPS, map_err, to_bson_time},
        RoomSummary, RoomsPage, StoreResult, UserStore,
    },
};

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

impl MongoStore {
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

    pub(super) async fn contacts(&self, user: UserId) -> StoreResult<Vec<UserId>> {
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
            .collection::<Document>(GROUPS)
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

    pub(super) async fn private_room_summaries(
        &self,
        user: UserId,
        page: &RoomsPage,
    ) -> StoreResult<Vec<RoomSummary>> {
        let me = Bson::ObjectId(user.0);
        let unread = doc! { "$cond": [
            { "$and": [
                { "$eq": ["$receiver", &me] },
                { "$ne": ["$status", "READ"] },
                { "$eq": [{ "$ifNull": ["$deletedAt", Bson::Null] }, Bson::Null] },
            ] }, 1, 0
        ] };
        let mut pipeline = vec![
            doc! { "$match": {
                "chatType": ChatType::Private.as_str(),
                "$or": [ { "sender": &me }, { "receiver": &me } ],
            } },
            doc! { "$group": {
                "_id": "$chatRoomId",
                "latest": { "$top": { "sortBy": { "createdAt": -1, "_id": -1 }, "output": "$$ROOT" } },
                "unread": { "$sum": unread },
            } },
            doc! { "$sort": { "latest.createdAt": -1, "_id": -1 } },
        ];
        if let Some(before) = &page.before {
            let before = to_bson_time(before);
            let mut older = vec![doc! { "latest.createdAt": { "$lt": before } }];
            if let Some(room) = &page.before_room {
                older.push(doc! { "latest.createdAt": before, "_id": { "$lt": room } });
            }
            pipeline.push(doc! { "$match": { "$or": older } });
        }
        if let Some(limit) = page.limit {
            pipeline.push(doc! { "$limit": i32::try_from(limit).unwrap_or(i32::MAX) });
        }
        self.rooms(pipeline).await
    }

    pub(super) async fn group_room_summaries(
        &self,
        user: UserId,
        groups: &[GroupId],
    ) -> StoreResult<Vec<RoomSummary>> {
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

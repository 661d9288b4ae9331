//! The production change feed: one MongoDB change stream over `messages` and `groups`, with full
//! documents. A position is the stream's resume token (as JSON), so a reader resumes where it
//! stopped, as long as the oplog still holds that point.

use async_trait::async_trait;
use bson::{doc, Document};
use futures_util::StreamExt;
use mongodb::{
    change_stream::event::{ChangeStreamEvent, OperationType, ResumeToken},
    options::FullDocumentType,
};

use super::{
    groups::GroupDoc,
    indexes::{GROUPS, MESSAGES, SIGNALS, USERS},
    map_err,
    messages::MessageDoc,
    realtime::SignalDoc,
    users::UserDoc,
    MongoStore,
};
use crate::store::{Change, ChangeFeed, ChangeStream, FeedEvent, StoreError, StoreResult};

/// Messages and groups (any write), signals (inserts), users (only `isOnline` updates).
fn pipeline() -> Vec<Document> {
    vec![doc! { "$match": { "$or": [
        {
            "ns.coll": { "$in": [MESSAGES, GROUPS] },
            "operationType": { "$in": ["insert", "update", "replace"] },
        },
        { "ns.coll": SIGNALS, "operationType": "insert" },
        {
            "ns.coll": USERS,
            "operationType": "update",
            "updateDescription.updatedFields.isOnline": { "$exists": true },
        },
    ] } }]
}

fn encode(token: &ResumeToken) -> StoreResult<String> {
    serde_json::to_string(token).map_err(|err| StoreError::Backend(format!("resume token: {err}")))
}

fn decode(position: &str) -> StoreResult<ResumeToken> {
    serde_json::from_str(position)
        .map_err(|err| StoreError::Backend(format!("bad feed position: {err}")))
}

/// Turns one change-stream event into a feed event; `None` for events that carry nothing to fan out.
fn to_feed_event(event: ChangeStreamEvent<Document>) -> StoreResult<Option<FeedEvent>> {
    let position = encode(&event.id)?;
    let (Some(ns), Some(document)) = (event.ns, event.full_document) else {
        return Ok(None);
    };
    let decode_err = |err: bson::de::Error| StoreError::Backend(format!("change event: {err}"));
    let change = match ns.coll.as_deref() {
        Some(MESSAGES) => {
            let message = bson::from_document::<MessageDoc>(document)
                .map_err(decode_err)?
                .into();
            if event.operation_type == OperationType::Insert {
                Change::MessageCreated(message)
            } else {
                Change::MessageUpdated(message)
            }
        }
        Some(GROUPS) => Change::GroupChanged(
            bson::from_document::<GroupDoc>(document)
                .map_err(decode_err)?
                .into(),
        ),
        Some(USERS) => Change::Presence(
            bson::from_document::<UserDoc>(document)
                .map_err(decode_err)?
                .presence(),
        ),
        Some(SIGNALS) => Change::Signal(
            bson::from_document::<SignalDoc>(document)
                .map_err(decode_err)?
                .into_signal()?,
        ),
        _ => return Ok(None),
    };
    Ok(Some(FeedEvent { position, change }))
}

#[async_trait]
impl ChangeFeed for MongoStore {
    async fn feed_position(&self) -> StoreResult<String> {
        let mut stream = self
            .database()
            .watch()
            .pipeline(pipeline())
            .await
            .map_err(map_err)?;
        // The first (empty) batch carries the post-batch resume token: "now".
        let _ = stream.next_if_any().await.map_err(map_err)?;
        let token = stream
            .resume_token()
            .ok_or_else(|| StoreError::Backend("change stream gave no resume token".into()))?;
        encode(&token)
    }

    async fn changes(&self, position: Option<String>) -> StoreResult<ChangeStream> {
        let mut watch = self
            .database()
            .watch()
            .pipeline(pipeline())
            .full_document(FullDocumentType::UpdateLookup);
        if let Some(position) = position {
            watch = watch.resume_after(decode(&position)?);
        }
        let stream = watch.await.map_err(map_err)?;
        let events = stream.filter_map(|item| async move {
            match item {
                Ok(event) => to_feed_event(event).transpose(),
                Err(err) => Some(Err(map_err(err))),
            }
        });
        Ok(Box::pin(events))
    }
}

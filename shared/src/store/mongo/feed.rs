//! The production change feed: one MongoDB change stream over `messages`, `groups`, `signals` and
//! `users`. A position is the stream's resume token (as JSON), so a reader resumes where it stopped,
//! as long as the oplog still holds that point; when it does not (or the token cannot be read),
//! opening the feed fails with `PositionLost` and the reader decides what to do.
//!
//! What an event says is taken from the write itself where the change stream carries it
//! (`updateDescription`): presence transitions and message statuses. The looked-up document
//! (`fullDocument: updateLookup`) is the state at read time, which can be later than the write:
//! two quick status changes would otherwise both be reported with the second status.
//!
//! The stream also yields checkpoints (`change: None`): the post-batch resume token after quiet
//! batches, and events that cannot be decoded (logged and skipped), so a stored position keeps up
//! with the oplog and no document can stall the feed.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bson::{doc, Bson, Document, RawDocumentBuf};
use mongodb::{
    change_stream::{
        event::{ChangeStreamEvent, OperationType, ResumeToken, UpdateDescription},
        ChangeStream as DriverStream,
    },
    options::FullDocumentType,
};

use super::{
    groups::GroupDoc,
    indexes::{GROUPS, MESSAGES, SESSIONS, SIGNALS, USERS},
    map_err,
    messages::MessageDoc,
    realtime::SignalDoc,
    users::UserDoc,
    MongoStore,
};
use crate::{
    model::{MessageStatus, SessionId, UserId},
    store::{Change, ChangeFeed, ChangeStream, FeedEvent, PresenceChange, StoreError, StoreResult},
};

/// A quiet stream hands out its post-batch resume token at most this often.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Messages and groups (any write), signals (inserts), users (only `isOnline` updates), sessions
/// (deletes: the session ended, by logout, from another device or by its TTL).
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
        { "ns.coll": SESSIONS, "operationType": "delete" },
    ] } }]
}

fn encode(token: &ResumeToken) -> StoreResult<String> {
    serde_json::to_string(token).map_err(|err| StoreError::Backend(format!("resume token: {err}")))
}

fn decode(position: &str) -> StoreResult<ResumeToken> {
    serde_json::from_str(position)
        .map_err(|err| StoreError::PositionLost(format!("unreadable resume token: {err}")))
}

/// What the write set, from the event itself.
fn updated_fields(event: &Event) -> Option<&Document> {
    event
        .update_description
        .as_ref()
        .map(|description| &description.updated_fields)
}

/// Whether `path` is `field` or a path inside it (`reactions.3`).
fn under(path: &str, field: &str) -> bool {
    path.strip_prefix(field)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Whether the write changed `field` (set, removed, or an array under it changed or shrank).
fn touched(description: &UpdateDescription, field: &str) -> bool {
    description
        .updated_fields
        .keys()
        .any(|path| under(path, field))
        || description
            .removed_fields
            .iter()
            .any(|path| under(path, field))
        || description
            .truncated_arrays
            .iter()
            .flatten()
            .any(|array| under(&array.field, field))
}

/// What an update of a message was, from the fields it wrote: a deletion, an edit, a reaction,
/// or (anything else) a status or read-receipt change. `None` for a write that only kept a
/// reply's quote current: the reply itself did not change.
fn message_update(
    description: Option<&UpdateDescription>,
) -> Option<fn(crate::model::Message) -> Change> {
    let Some(description) = description else {
        return Some(Change::MessageUpdated);
    };
    let fields = &description.updated_fields;
    if !fields.is_empty() && fields.keys().all(|path| under(path, "replyTo")) {
        None
    } else if touched(description, "deletedAt") {
        Some(Change::MessageDeleted)
    } else if touched(description, "editedAt") {
        Some(Change::MessageEdited)
    } else if touched(description, "reactions") {
        Some(Change::ReactionsChanged)
    } else {
        Some(Change::MessageUpdated)
    }
}

/// A presence transition as written: `isOnline` (and `lastSeen`, when going offline) from the
/// update itself; the looked-up user only fills in a `lastSeen` the update did not set.
fn presence(event: &Event) -> Option<PresenceChange> {
    let fields = updated_fields(event)?;
    let is_online = fields.get_bool("isOnline").ok()?;
    let user_id = event
        .document_key
        .as_ref()
        .and_then(|key| key.get_object_id("_id").ok())
        .map(UserId)?;
    let looked_up = event
        .full_document
        .as_ref()
        .and_then(|document| bson::from_slice::<UserDoc>(document.as_bytes()).ok());
    let last_seen = match fields.get("lastSeen") {
        Some(Bson::DateTime(at)) => at.to_chrono(),
        _ => looked_up.map_or_else(crate::time::now, |user| user.presence().last_seen),
    };
    Some(PresenceChange {
        user_id,
        is_online,
        last_seen,
    })
}

/// Change events with the document as raw bytes: decoding it (which can fail on client data such
/// as `{"$oid": "zz"}`, read by bson as an ObjectId) is ours to do, event by event, so one bad
/// document is skipped instead of failing the stream.
type Event = ChangeStreamEvent<RawDocumentBuf>;

fn typed<T: serde::de::DeserializeOwned>(document: &RawDocumentBuf) -> Result<T, String> {
    bson::from_slice(document.as_bytes()).map_err(|err| err.to_string())
}

/// Decodes one change-stream event; `None` for an event there is nothing to fan out for.
fn to_change(event: Event) -> Result<Option<Change>, String> {
    let collection = event.ns.as_ref().and_then(|ns| ns.coll.clone());
    if collection.as_deref() == Some(USERS) {
        return Ok(presence(&event).map(Change::Presence));
    }
    if collection.as_deref() == Some(SESSIONS) {
        let ended = event
            .document_key
            .as_ref()
            .and_then(|key| key.get_object_id("_id").ok())
            .map(|id| Change::SessionEnded(SessionId(id)));
        return Ok(ended);
    }
    let Some(document) = event.full_document else {
        return Ok(None);
    };
    let change = match collection.as_deref() {
        Some(MESSAGES) => {
            let mut message: crate::model::Message = typed::<MessageDoc>(&document)?.into();
            if event.operation_type == OperationType::Insert {
                Change::MessageCreated(message)
            } else {
                let description = event.update_description.as_ref();
                let Some(updated) = message_update(description) else {
                    return Ok(None);
                };
                let written_status = description
                    .and_then(|description| description.updated_fields.get_str("status").ok())
                    .and_then(MessageStatus::parse);
                if let Some(status) = written_status {
                    message.status = status;
                }
                updated(message)
            }
        }
        Some(GROUPS) => Change::GroupChanged(typed::<GroupDoc>(&document)?.into()),
        Some(SIGNALS) => Change::Signal(
            typed::<SignalDoc>(&document)?
                .into_signal()
                .map_err(|err| err.to_string())?,
        ),
        _ => return Ok(None),
    };
    Ok(Some(change))
}

fn to_feed_event(event: Event) -> StoreResult<FeedEvent> {
    let position = encode(&event.id)?;
    // MongoDB 6+ stamps each event with its wall time; older servers give the cluster time only.
    let committed_at = event.wall_time.map(|at| at.to_chrono()).or_else(|| {
        event
            .cluster_time
            .and_then(|at| chrono::DateTime::from_timestamp(i64::from(at.time), 0))
    });
    let change = match to_change(event) {
        Ok(change) => change,
        Err(err) => {
            // Client data (a signal's payload, a migrated document) must never stall the feed.
            tracing::error!(%position, error = %err, "skipping a change event that cannot be decoded");
            None
        }
    };
    Ok(FeedEvent {
        position,
        change,
        committed_at,
    })
}

struct Reader {
    stream: DriverStream<Event>,
    checkpoint: Option<ResumeToken>,
    checkpointed_at: Instant,
    failed: bool,
}

impl Reader {
    /// The post-batch resume token, when it moved since the last checkpoint and one is due.
    fn due_checkpoint(&mut self) -> StoreResult<Option<FeedEvent>> {
        let Some(token) = self.stream.resume_token() else {
            return Ok(None);
        };
        if self.checkpoint.as_ref() == Some(&token)
            || self.checkpointed_at.elapsed() < CHECKPOINT_INTERVAL
        {
            return Ok(None);
        }
        let position = encode(&token)?;
        self.checkpoint = Some(token);
        self.checkpointed_at = Instant::now();
        Ok(Some(FeedEvent {
            position,
            change: None,
            committed_at: None,
        }))
    }

    async fn next(&mut self) -> Option<StoreResult<FeedEvent>> {
        if self.failed {
            return None;
        }
        loop {
            if !self.stream.is_alive() {
                self.failed = true;
                return Some(Err(StoreError::Backend(
                    "the change stream was closed by the server".into(),
                )));
            }
            match self.stream.next_if_any().await {
                Ok(Some(event)) => {
                    let event = to_feed_event(event);
                    if let Ok(event) = &event {
                        self.checkpoint = decode(&event.position).ok();
                        self.checkpointed_at = Instant::now();
                    }
                    return Some(event);
                }
                Ok(None) => match self.due_checkpoint() {
                    Ok(Some(checkpoint)) => return Some(Ok(checkpoint)),
                    Ok(None) => {}
                    Err(err) => return Some(Err(err)),
                },
                Err(err) => {
                    self.failed = true;
                    return Some(Err(map_err(err)));
                }
            }
        }
    }
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
        // The opening batch's post-batch resume token is "now"; only when a server gives none is
        // a batch read (which may move "now" past an event, never before one).
        let token = match stream.resume_token() {
            Some(token) => token,
            None => {
                let _ = stream.next_if_any().await.map_err(map_err)?;
                stream.resume_token().ok_or_else(|| {
                    StoreError::Backend("change stream gave no resume token".into())
                })?
            }
        };
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
        let stream = watch.await.map_err(map_err)?.with_type::<Event>();
        let reader = Reader {
            checkpoint: stream.resume_token(),
            checkpointed_at: Instant::now(),
            stream,
            failed: false,
        };
        let events = futures_util::stream::unfold(reader, |mut reader| async move {
            reader.next().await.map(|item| (item, reader))
        });
        Ok(Box::pin(events))
    }

    /// Resume tokens (since MongoDB 4.0) sort by their hex `_data` string.
    fn position_order(&self, a: &str, b: &str) -> Option<std::cmp::Ordering> {
        Some(token_data(a)?.cmp(&token_data(b)?))
    }
}

/// The `_data` string of a resume token in its stored (JSON) form.
fn token_data(position: &str) -> Option<String> {
    let token: serde_json::Value = serde_json::from_str(position).ok()?;
    token.get("_data")?.as_str().map(str::to_owned)
}

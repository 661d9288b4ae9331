//! Realtime records on MongoDB: socket and API Gateway connections, presence, signals, feed positions.

use async_trait::async_trait;
use bson::{doc, oid::ObjectId};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::{
    indexes::{CONNECTIONS, FEED_POSITIONS, SIGNALS, WS_CONNECTIONS},
    map_err, to_bson_time, MongoStore,
};
use crate::{
    model::{Room, SessionId, UserId},
    store::{RealtimeStore, SavedPosition, Signal, StoreError, StoreResult},
};

/// How long a signal document stays (the TTL index removes it; the change stream has it already).
const SIGNAL_TTL_SECS: i64 = 3_600;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionDoc {
    #[serde(rename = "_id")]
    socket_id: String,
    node_id: String,
    user_id: ObjectId,
    connected_at: bson::DateTime,
    heartbeat_at: bson::DateTime,
}

/// A `signals` document: inserted only to travel through the change stream to every node.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignalDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    room: Room,
    event: String,
    data: bson::Bson,
    #[serde(default)]
    except: Option<Room>,
    expires_at: bson::DateTime,
}

impl SignalDoc {
    pub(crate) fn into_signal(self) -> StoreResult<Signal> {
        Ok(Signal {
            room: self.room,
            event: self.event,
            data: serde_json::to_value(&self.data)
                .map_err(|err| StoreError::Backend(format!("signal data: {err}")))?,
            except: self.except,
        })
    }
}

/// An API Gateway WebSocket connection; the TTL index on `expiresAt` drops it when it expires.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WsConnectionDoc {
    #[serde(rename = "_id")]
    connection_id: String,
    user_id: ObjectId,
    #[serde(default)]
    session_id: Option<ObjectId>,
    connected_at: bson::DateTime,
    expires_at: bson::DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedPositionDoc {
    #[serde(rename = "_id")]
    node_id: String,
    position: String,
    updated_at: bson::DateTime,
}

impl MongoStore {
    fn connections(&self) -> Collection<ConnectionDoc> {
        self.database().collection(CONNECTIONS)
    }

    async fn delete_connections(&self, filter: bson::Document) -> StoreResult<Vec<UserId>> {
        let found: Vec<ConnectionDoc> = self
            .connections()
            .find(filter.clone())
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        let ids: Vec<String> = found.iter().map(|c| c.socket_id.clone()).collect();
        // The filter again: a connection refreshed since it was read stays.
        let mut still_matching = filter;
        still_matching.insert("_id", doc! { "$in": ids });
        self.connections()
            .delete_many(still_matching)
            .await
            .map_err(map_err)?;
        let mut users: Vec<UserId> = found.into_iter().map(|c| UserId(c.user_id)).collect();
        users.sort();
        users.dedup();
        Ok(users)
    }

    async fn live_connections(&self, user: UserId, alive_after: DateTime<Utc>) -> StoreResult<u64> {
        self.connections()
            .count_documents(
                doc! { "userId": user.0, "heartbeatAt": { "$gt": to_bson_time(&alive_after) } },
            )
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl RealtimeStore for MongoStore {
    async fn add_connection(
        &self,
        socket_id: &str,
        node_id: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let doc = ConnectionDoc {
            socket_id: socket_id.to_owned(),
            node_id: node_id.to_owned(),
            user_id: user.0,
            connected_at: to_bson_time(&now),
            heartbeat_at: to_bson_time(&now),
        };
        self.connections()
            .replace_one(doc! { "_id": socket_id }, doc)
            .upsert(true)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_connection(&self, socket_id: &str) -> StoreResult<()> {
        self.connections()
            .delete_one(doc! { "_id": socket_id })
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn count_live_connections(
        &self,
        user: UserId,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.live_connections(user, alive_after).await
    }

    async fn heartbeat(&self, node_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.connections()
            .update_many(
                doc! { "nodeId": node_id },
                doc! { "$set": { "heartbeatAt": to_bson_time(&now) } },
            )
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_node_connections(&self, node_id: &str) -> StoreResult<Vec<UserId>> {
        self.delete_connections(doc! { "nodeId": node_id }).await
    }

    async fn expire_connections(&self, alive_after: DateTime<Utc>) -> StoreResult<Vec<UserId>> {
        self.delete_connections(doc! { "heartbeatAt": { "$lte": to_bson_time(&alive_after) } })
            .await
    }

    async fn mark_online(&self, user: UserId, _now: DateTime<Utc>) -> StoreResult<bool> {
        // The change stream reports the `isOnline` update to every node.
        let result = self
            .users()
            .update_one(
                doc! { "_id": user.0, "isOnline": false },
                doc! { "$set": { "isOnline": true } },
            )
            .await
            .map_err(map_err)?;
        Ok(result.modified_count == 1)
    }

    async fn mark_offline_if_gone(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        if self.live_connections(user, alive_after).await? > 0 {
            return Ok(None);
        }
        let result = self
            .users()
            .update_one(
                doc! { "_id": user.0, "isOnline": true },
                doc! { "$set": { "isOnline": false, "lastSeen": to_bson_time(&now) } },
            )
            .await
            .map_err(map_err)?;
        if result.modified_count == 0 {
            return Ok(None);
        }
        // A connection that arrived between the count and the update wins: back online.
        if self.live_connections(user, alive_after).await? > 0 {
            self.mark_online(user, now).await?;
        }
        Ok(Some(now))
    }

    async fn add_ws_connection(
        &self,
        connection_id: &str,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let doc = WsConnectionDoc {
            connection_id: connection_id.to_owned(),
            user_id: user.0,
            session_id: Some(session.0),
            connected_at: to_bson_time(&now),
            expires_at: to_bson_time(&expires_at),
        };
        self.database()
            .collection::<WsConnectionDoc>(WS_CONNECTIONS)
            .replace_one(doc! { "_id": connection_id }, doc)
            .upsert(true)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_ws_connection(&self, connection_id: &str) -> StoreResult<()> {
        self.database()
            .collection::<WsConnectionDoc>(WS_CONNECTIONS)
            .delete_one(doc! { "_id": connection_id })
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_session_ws_connections(&self, session: SessionId) -> StoreResult<Vec<String>> {
        let connections = self
            .database()
            .collection::<WsConnectionDoc>(WS_CONNECTIONS);
        let filter = doc! { "sessionId": session.0 };
        let found: Vec<WsConnectionDoc> = connections
            .find(filter.clone())
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        connections.delete_many(filter).await.map_err(map_err)?;
        Ok(found.into_iter().map(|doc| doc.connection_id).collect())
    }

    async fn ws_connection_owner(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(UserId, SessionId)>> {
        let found = self
            .database()
            .collection::<WsConnectionDoc>(WS_CONNECTIONS)
            .find_one(doc! { "_id": connection_id, "expiresAt": { "$gt": to_bson_time(&now) } })
            .await
            .map_err(map_err)?;
        Ok(found.and_then(|doc| {
            doc.session_id
                .map(|session| (UserId(doc.user_id), SessionId(session)))
        }))
    }

    async fn ws_connections(
        &self,
        users: Option<&[UserId]>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, UserId)>> {
        let mut filter = doc! { "expiresAt": { "$gt": to_bson_time(&now) } };
        if let Some(users) = users {
            let ids: Vec<ObjectId> = users.iter().map(|user| user.0).collect();
            filter.insert("userId", doc! { "$in": ids });
        }
        let found: Vec<WsConnectionDoc> = self
            .database()
            .collection::<WsConnectionDoc>(WS_CONNECTIONS)
            .find(filter)
            .sort(doc! { "_id": 1 })
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        Ok(found
            .into_iter()
            .map(|doc| (doc.connection_id, UserId(doc.user_id)))
            .collect())
    }

    async fn publish_signal(&self, signal: Signal, now: DateTime<Utc>) -> StoreResult<()> {
        let data = bson::to_bson(&signal.data)
            .map_err(|err| StoreError::Backend(format!("signal data: {err}")))?;
        let doc = SignalDoc {
            id: ObjectId::new(),
            room: signal.room,
            event: signal.event,
            data,
            except: signal.except,
            expires_at: to_bson_time(&(now + chrono::Duration::seconds(SIGNAL_TTL_SECS))),
        };
        self.database()
            .collection::<SignalDoc>(SIGNALS)
            .insert_one(doc)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn load_feed_position(&self, node_id: &str) -> StoreResult<Option<SavedPosition>> {
        let found = self
            .database()
            .collection::<FeedPositionDoc>(FEED_POSITIONS)
            .find_one(doc! { "_id": node_id })
            .await
            .map_err(map_err)?;
        Ok(found.map(|doc| SavedPosition {
            position: doc.position,
            saved_at: doc.updated_at.to_chrono(),
        }))
    }

    async fn save_feed_position(
        &self,
        node_id: &str,
        position: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let doc = FeedPositionDoc {
            node_id: node_id.to_owned(),
            position: position.to_owned(),
            updated_at: to_bson_time(&now),
        };
        self.database()
            .collection::<FeedPositionDoc>(FEED_POSITIONS)
            .replace_one(doc! { "_id": node_id }, doc)
            .upsert(true)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

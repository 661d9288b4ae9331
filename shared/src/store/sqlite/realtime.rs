//! Realtime records on SQLite: socket and API Gateway connections, presence, signals, feed positions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, types::Value};

use super::{
    all, count, execute, feed::record, one, optional, parse_column, parse_time, placeholders,
    SqliteStore,
};
use crate::{
    model::{SessionId, UserId},
    store::{Change, PresenceChange, RealtimeStore, SavedPosition, Signal, StoreResult},
    time::to_iso,
};

fn distinct_users(ids: Vec<String>) -> StoreResult<Vec<UserId>> {
    let mut users: Vec<UserId> = ids
        .iter()
        .map(|id| parse_column("connections.user_id", id))
        .collect::<StoreResult<_>>()?;
    users.sort();
    users.dedup();
    Ok(users)
}

#[async_trait]
impl RealtimeStore for SqliteStore {
    async fn add_connection(
        &self,
        socket_id: &str,
        node_id: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (socket_id, node_id) = (socket_id.to_owned(), node_id.to_owned());
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT OR REPLACE INTO connections (socket_id, node_id, user_id, \
                     connected_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
                    params![
                        socket_id,
                        node_id,
                        user.to_hex(),
                        to_iso(&now),
                        to_iso(&now)
                    ],
                )
                .map(|_| ())
            })
            .await
    }

    async fn remove_connection(&self, socket_id: &str) -> StoreResult<()> {
        let socket_id = socket_id.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM connections WHERE socket_id = ?",
                    [socket_id],
                )
                .map(|_| ())
            })
            .await
    }

    async fn count_live_connections(
        &self,
        user: UserId,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.engine()
            .read(move |conn| {
                one(
                    conn,
                    "SELECT COUNT(*) FROM connections WHERE user_id = ? AND heartbeat_at > ?",
                    params![user.to_hex(), to_iso(&alive_after)],
                    |row| row.get::<_, i64>(0),
                )
                .map(count)
            })
            .await
    }

    async fn heartbeat(&self, node_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let node_id = node_id.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "UPDATE connections SET heartbeat_at = ? WHERE node_id = ?",
                    params![to_iso(&now), node_id],
                )
                .map(|_| ())
            })
            .await
    }

    async fn remove_node_connections(&self, node_id: &str) -> StoreResult<Vec<UserId>> {
        let node_id = node_id.to_owned();
        let ids = self
            .engine()
            .write(move |conn| {
                all(
                    conn,
                    "DELETE FROM connections WHERE node_id = ? RETURNING user_id",
                    [node_id],
                    |row| row.get::<_, String>(0),
                )
            })
            .await?;
        distinct_users(ids)
    }

    async fn expire_connections(&self, alive_after: DateTime<Utc>) -> StoreResult<Vec<UserId>> {
        let ids = self
            .engine()
            .write(move |conn| {
                all(
                    conn,
                    "DELETE FROM connections WHERE heartbeat_at <= ? RETURNING user_id",
                    [to_iso(&alive_after)],
                    |row| row.get::<_, String>(0),
                )
            })
            .await?;
        distinct_users(ids)
    }

    async fn mark_online(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                // Already online (another device): nothing to write.
                let last_seen = optional(
                    conn,
                    "UPDATE users SET is_online = 1 WHERE id = ? AND is_online = 0 \
                     RETURNING last_seen",
                    [user.to_hex()],
                    |row| row.get::<_, String>(0),
                )?;
                let Some(last_seen) = last_seen else {
                    return Ok(false);
                };
                let change = Change::Presence(PresenceChange {
                    user_id: user,
                    is_online: true,
                    last_seen: parse_time("users.last_seen", &last_seen)?,
                });
                record(conn, &change, now)?;
                Ok(true)
            })
            .await
    }

    async fn mark_offline_if_gone(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.engine()
            .write(move |conn| {
                // One statement: the check for live connections and the update cannot interleave
                // with a connect on another node. The caller removed its connection first, so the
                // last of several disconnecting devices always sees none left.
                let changed = execute(
                    conn,
                    "UPDATE users SET is_online = 0, last_seen = ?1 WHERE id = ?2 AND is_online = 1 \
                     AND NOT EXISTS (SELECT 1 FROM connections WHERE user_id = ?2 \
                     AND heartbeat_at > ?3)",
                    params![to_iso(&now), user.to_hex(), to_iso(&alive_after)],
                )?;
                if changed == 0 {
                    return Ok(None);
                }
                let change = Change::Presence(PresenceChange {
                    user_id: user,
                    is_online: false,
                    last_seen: now,
                });
                record(conn, &change, now)?;
                Ok(Some(now))
            })
            .await
    }

    async fn add_ws_connection(
        &self,
        connection_id: &str,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let connection_id = connection_id.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM ws_connections WHERE expires_at <= ?",
                    [to_iso(&now)],
                )?;
                execute(
                    conn,
                    "INSERT OR REPLACE INTO ws_connections (connection_id, user_id, session_id, \
                     connected_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                    params![
                        connection_id,
                        user.to_hex(),
                        session.to_hex(),
                        to_iso(&now),
                        to_iso(&expires_at),
                    ],
                )
                .map(|_| ())
            })
            .await
    }

    async fn remove_ws_connection(&self, connection_id: &str) -> StoreResult<()> {
        let connection_id = connection_id.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM ws_connections WHERE connection_id = ?",
                    [connection_id],
                )
                .map(|_| ())
            })
            .await
    }

    async fn remove_session_ws_connections(&self, session: SessionId) -> StoreResult<Vec<String>> {
        self.engine()
            .write(move |conn| {
                all(
                    conn,
                    "DELETE FROM ws_connections WHERE session_id = ? RETURNING connection_id",
                    [session.to_hex()],
                    |row| row.get::<_, String>(0),
                )
            })
            .await
    }

    async fn ws_connection_owner(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(UserId, SessionId)>> {
        let connection_id = connection_id.to_owned();
        let owner = self
            .engine()
            .read(move |conn| {
                optional(
                    conn,
                    "SELECT user_id, session_id FROM ws_connections WHERE connection_id = ? \
                     AND expires_at > ? AND session_id IS NOT NULL",
                    params![connection_id, to_iso(&now)],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
            })
            .await?;
        owner
            .map(|(user, session)| {
                Ok((
                    parse_column("ws_connections.user_id", &user)?,
                    parse_column("ws_connections.session_id", &session)?,
                ))
            })
            .transpose()
    }

    async fn ws_connections(
        &self,
        users: Option<&[UserId]>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, UserId)>> {
        let filter = match users {
            Some([]) => return Ok(Vec::new()),
            Some(users) => format!("AND user_id IN ({})", placeholders(users.len())),
            None => String::new(),
        };
        let mut values = vec![Value::Text(to_iso(&now))];
        values.extend(
            users
                .unwrap_or_default()
                .iter()
                .map(|user| Value::Text(user.to_hex())),
        );
        let rows = self
            .engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT connection_id, user_id FROM ws_connections WHERE expires_at > ? \
                     {filter} ORDER BY connection_id"
                );
                all(conn, &sql, params_from_iter(values), |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
            })
            .await?;
        rows.into_iter()
            .map(|(connection, user)| {
                Ok((connection, parse_column("ws_connections.user_id", &user)?))
            })
            .collect()
    }

    async fn publish_signal(&self, signal: Signal, now: DateTime<Utc>) -> StoreResult<()> {
        self.engine()
            .write(move |conn| record(conn, &Change::Signal(signal), now))
            .await
    }

    async fn load_feed_position(&self, node_id: &str) -> StoreResult<Option<SavedPosition>> {
        let node_id = node_id.to_owned();
        let row = self
            .engine()
            .read(move |conn| {
                optional(
                    conn,
                    "SELECT position, updated_at FROM feed_positions WHERE node_id = ?",
                    [node_id],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
            })
            .await?;
        row.map(|(position, saved_at)| {
            Ok(SavedPosition {
                position,
                saved_at: parse_time("feed_positions.updated_at", &saved_at)?,
            })
        })
        .transpose()
    }

    async fn save_feed_position(
        &self,
        node_id: &str,
        position: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (node_id, position) = (node_id.to_owned(), position.to_owned());
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO feed_positions (node_id, position, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (node_id) DO UPDATE SET position = excluded.position, \
                     updated_at = excluded.updated_at",
                    params![node_id, position, to_iso(&now)],
                )
                .map(|_| ())
            })
            .await
    }
}

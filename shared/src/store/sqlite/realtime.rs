use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{feed::record, map_err, parse_column, parse_time, placeholders, SqliteStore};
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
        sqlx::query(
            "INSERT OR REPLACE INTO connections (socket_id, node_id, user_id, connected_at, \
             heartbeat_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(socket_id)
        .bind(node_id)
        .bind(user.to_hex())
        .bind(to_iso(&now))
        .bind(to_iso(&now))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn remove_connection(&self, socket_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM connections WHERE socket_id = ?")
            .bind(socket_id)
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn count_live_connections(
        &self,
        user: UserId,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM connections WHERE user_id = ? AND heartbeat_at > ?",
        )
        .bind(user.to_hex())
        .bind(to_iso(&alive_after))
        .fetch_one(self.pool())
        .await
        .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn heartbeat(&self, node_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE connections SET heartbeat_at = ? WHERE node_id = ?")
            .bind(to_iso(&now))
            .bind(node_id)
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_node_connections(&self, node_id: &str) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("DELETE FROM connections WHERE node_id = ? RETURNING user_id")
                .bind(node_id)
                .fetch_all(self.writer())
                .await
                .map_err(map_err)?;
        distinct_users(ids)
    }

    async fn expire_connections(&self, alive_after: DateTime<Utc>) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("DELETE FROM connections WHERE heartbeat_at <= ? RETURNING user_id")
                .bind(to_iso(&alive_after))
                .fetch_all(self.writer())
                .await
                .map_err(map_err)?;
        distinct_users(ids)
    }

    async fn mark_online(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
        // Already online (another device): a read answers, no write lock is taken. Safe because
        // the caller stored its connection first, so no concurrent "last one gone" can follow it.
        let online: Option<bool> = sqlx::query_scalar("SELECT is_online FROM users WHERE id = ?")
            .bind(user.to_hex())
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?;
        if online != Some(false) {
            return Ok(false);
        }
        let mut tx = self.write().await?;
        let last_seen: Option<String> = sqlx::query_scalar(
            "UPDATE users SET is_online = 1 WHERE id = ? AND is_online = 0 RETURNING last_seen",
        )
        .bind(user.to_hex())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(last_seen) = last_seen else {
            return Ok(false);
        };
        let change = Change::Presence(PresenceChange {
            user_id: user,
            is_online: true,
            last_seen: super::parse_time("users.last_seen", &last_seen)?,
        });
        record(&mut tx, &change, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn mark_offline_if_gone(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        alive_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        // Still connected elsewhere (or already offline): a read answers. The caller removed its
        // connection first, so the last of several disconnecting devices always sees none left.
        let gone: Option<bool> = sqlx::query_scalar(
            "SELECT is_online = 1 AND NOT EXISTS (SELECT 1 FROM connections \
             WHERE user_id = ?1 AND heartbeat_at > ?2) FROM users WHERE id = ?1",
        )
        .bind(user.to_hex())
        .bind(to_iso(&alive_after))
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
        if gone != Some(true) {
            return Ok(None);
        }
        let mut tx = self.write().await?;
        // One statement: the check for live connections and the update cannot interleave with a
        // connect on another node.
        let changed = sqlx::query(
            "UPDATE users SET is_online = 0, last_seen = ?1 WHERE id = ?2 AND is_online = 1 \
             AND NOT EXISTS (SELECT 1 FROM connections WHERE user_id = ?2 AND heartbeat_at > ?3)",
        )
        .bind(to_iso(&now))
        .bind(user.to_hex())
        .bind(to_iso(&alive_after))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        let change = Change::Presence(PresenceChange {
            user_id: user,
            is_online: false,
            last_seen: now,
        });
        record(&mut tx, &change, now).await?;
        tx.commit().await.map_err(map_err)?;
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
        sqlx::query("DELETE FROM ws_connections WHERE expires_at <= ?")
            .bind(to_iso(&now))
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT OR REPLACE INTO ws_connections (connection_id, user_id, session_id, \
             connected_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(connection_id)
        .bind(user.to_hex())
        .bind(session.to_hex())
        .bind(to_iso(&now))
        .bind(to_iso(&expires_at))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn remove_ws_connection(&self, connection_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM ws_connections WHERE connection_id = ?")
            .bind(connection_id)
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_session_ws_connections(&self, session: SessionId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "DELETE FROM ws_connections WHERE session_id = ? RETURNING connection_id",
        )
        .bind(session.to_hex())
        .fetch_all(self.writer())
        .await
        .map_err(map_err)
    }

    async fn ws_connection_owner(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(UserId, SessionId)>> {
        let owner: Option<(String, String)> = sqlx::query_as(
            "SELECT user_id, session_id FROM ws_connections WHERE connection_id = ? \
             AND expires_at > ? AND session_id IS NOT NULL",
        )
        .bind(connection_id)
        .bind(to_iso(&now))
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?;
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
        let sql = format!(
            "SELECT connection_id, user_id FROM ws_connections WHERE expires_at > ? {filter} \
             ORDER BY connection_id"
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(to_iso(&now));
        for user in users.unwrap_or_default() {
            query = query.bind(user.to_hex());
        }
        let rows = query.fetch_all(self.pool()).await.map_err(map_err)?;
        rows.into_iter()
            .map(|(connection, user)| {
                Ok((connection, parse_column("ws_connections.user_id", &user)?))
            })
            .collect()
    }

    async fn publish_signal(&self, signal: Signal, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.writer().acquire().await.map_err(map_err)?;
        record(&mut conn, &Change::Signal(signal), now).await
    }

    async fn load_feed_position(&self, node_id: &str) -> StoreResult<Option<SavedPosition>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT position, updated_at FROM feed_positions WHERE node_id = ?")
                .bind(node_id)
                .fetch_optional(self.pool())
                .await
                .map_err(map_err)?;
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
        sqlx::query(
            "INSERT INTO feed_positions (node_id, position, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (node_id) DO UPDATE SET position = excluded.position, \
             updated_at = excluded.updated_at",
        )
        .bind(node_id)
        .bind(position)
        .bind(to_iso(&now))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{feed::record, map_err, parse_column, SqliteStore};
use crate::{
    model::UserId,
    store::{Change, PresenceChange, RealtimeStore, Signal, StoreResult},
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
        .execute(self.pool())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn remove_connection(&self, socket_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM connections WHERE socket_id = ?")
            .bind(socket_id)
            .execute(self.pool())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn heartbeat(&self, node_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE connections SET heartbeat_at = ? WHERE node_id = ?")
            .bind(to_iso(&now))
            .bind(node_id)
            .execute(self.pool())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_node_connections(&self, node_id: &str) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("DELETE FROM connections WHERE node_id = ? RETURNING user_id")
                .bind(node_id)
                .fetch_all(self.pool())
                .await
                .map_err(map_err)?;
        distinct_users(ids)
    }

    async fn expire_connections(&self, alive_after: DateTime<Utc>) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("DELETE FROM connections WHERE heartbeat_at <= ? RETURNING user_id")
                .bind(to_iso(&alive_after))
                .fetch_all(self.pool())
                .await
                .map_err(map_err)?;
        distinct_users(ids)
    }

    async fn mark_online(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
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

    async fn publish_signal(&self, signal: Signal, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.pool().acquire().await.map_err(map_err)?;
        record(&mut conn, &Change::Signal(signal), now).await
    }

    async fn load_feed_position(&self, node_id: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT position FROM feed_positions WHERE node_id = ?")
            .bind(node_id)
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)
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
        .execute(self.pool())
        .await
        .map_err(map_err)?;
        Ok(())
    }
}

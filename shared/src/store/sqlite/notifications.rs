//! Mutes and push devices on SQLite. A device row references its session: deleting the session
//! (logout, revoke, password change, account deletion) removes it in the same statement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter};

use super::{all, execute, optional, parse_column, parse_time, placeholders, SqliteStore};
use crate::{
    model::{Mute, PushSubscription, PushSubscriptionId, Room, UserId},
    store::{NotificationStore, StoreError, StoreResult},
    time::to_iso,
};

fn decode(body: &str) -> StoreResult<PushSubscription> {
    serde_json::from_str(body)
        .map_err(|_| StoreError::Backend("corrupt push_subscriptions row".into()))
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn set_mute(
        &self,
        user: UserId,
        room: Room,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO mutes (user_id, chat_room_id, until, created_at) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (user_id, chat_room_id) DO UPDATE SET until = excluded.until",
                    params![
                        user.to_hex(),
                        room.to_string(),
                        until.as_ref().map(to_iso),
                        to_iso(&now)
                    ],
                )
                .map(|_| ())
            })
            .await
    }

    async fn clear_mute(&self, user: UserId, room: Room) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM mutes WHERE user_id = ? AND chat_room_id = ?",
                    params![user.to_hex(), room.to_string()],
                )
                .map(|removed| removed == 1)
            })
            .await
    }

    async fn mutes_of(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Mute>> {
        let rows = self
            .engine()
            .read(move |conn| {
                all(
                    conn,
                    "SELECT chat_room_id, until FROM mutes WHERE user_id = ? \
                     AND (until IS NULL OR until > ?)",
                    params![user.to_hex(), to_iso(&now)],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)),
                )
            })
            .await?;
        rows.into_iter()
            .map(|(room, until)| {
                Ok(Mute {
                    chat_room_id: parse_column("mutes.chat_room_id", &room)?,
                    until: until.map(|at| parse_time("mutes.until", &at)).transpose()?,
                })
            })
            .collect()
    }

    async fn save_push_subscription(
        &self,
        subscription: PushSubscription,
    ) -> StoreResult<PushSubscription> {
        self.engine()
            .write(move |conn| {
                let key = subscription.target.key();
                // The same device again: keep its id, take the new session and keys.
                let existing = optional(
                    conn,
                    "SELECT id FROM push_subscriptions WHERE user_id = ? AND target_key = ?",
                    params![subscription.user_id.to_hex(), key],
                    |row| row.get::<_, String>(0),
                )?;
                let mut stored = subscription;
                if let Some(id) = existing {
                    stored.subscription_id = parse_column("push_subscriptions.id", &id)?;
                }
                let body = serde_json::to_string(&stored)
                    .map_err(|err| StoreError::Backend(format!("cannot encode: {err}")))?;
                execute(
                    conn,
                    "INSERT INTO push_subscriptions (id, user_id, session_id, target_key, body) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, target_key) DO UPDATE SET \
                     session_id = excluded.session_id, body = excluded.body",
                    params![
                        stored.subscription_id.to_hex(),
                        stored.user_id.to_hex(),
                        stored.session_id.to_hex(),
                        key,
                        body
                    ],
                )?;
                Ok(stored)
            })
            .await
    }

    async fn push_subscriptions_of(&self, users: &[UserId]) -> StoreResult<Vec<PushSubscription>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = users.iter().map(UserId::to_hex).collect();
        let bodies = self
            .engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT body FROM push_subscriptions WHERE user_id IN ({}) ORDER BY id",
                    placeholders(ids.len())
                );
                all(conn, &sql, params_from_iter(&ids), |row| {
                    row.get::<_, String>(0)
                })
            })
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn delete_push_subscription(
        &self,
        id: PushSubscriptionId,
        user: UserId,
    ) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM push_subscriptions WHERE id = ? AND user_id = ?",
                    params![id.to_hex(), user.to_hex()],
                )
                .map(|removed| removed == 1)
            })
            .await
    }

    async fn forget_notifications_of(&self, user: UserId) -> StoreResult<()> {
        self.engine()
            .write(move |conn| {
                execute(conn, "DELETE FROM mutes WHERE user_id = ?", [user.to_hex()])?;
                execute(
                    conn,
                    "DELETE FROM push_subscriptions WHERE user_id = ?",
                    [user.to_hex()],
                )?;
                Ok(())
            })
            .await
    }

    async fn claim_push_delivery(
        &self,
        subscription: PushSubscriptionId,
        message_id: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let message_id = message_id.to_owned();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "INSERT INTO push_deliveries (subscription_id, message_id, expires_at) \
                     VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    params![subscription.to_hex(), message_id, to_iso(&expires_at)],
                )
                .map(|inserted| inserted == 1)
            })
            .await
    }

    async fn forget_push_deliveries(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "DELETE FROM push_deliveries WHERE expires_at < ?",
                    [to_iso(&now)],
                )
                .map(|removed| removed as u64)
            })
            .await
    }
}

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{feed::record, map_err, parse_column, parse_time, SqliteStore};
use crate::{
    model::{NewSession, Session, SessionId, UserId},
    store::{Change, Rotation, SessionStore, StoreResult},
    time::to_iso,
};

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    token_hash: String,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: String,
    last_used_at: String,
    expires_at: String,
}

impl SessionRow {
    fn into_session(self) -> StoreResult<Session> {
        Ok(Session {
            id: parse_column("sessions.id", &self.id)?,
            user_id: parse_column("sessions.user_id", &self.user_id)?,
            token_hash: self.token_hash,
            user_agent: self.user_agent,
            ip: self.ip,
            created_at: parse_time("sessions.created_at", &self.created_at)?,
            last_used_at: parse_time("sessions.last_used_at", &self.last_used_at)?,
            expires_at: parse_time("sessions.expires_at", &self.expires_at)?,
        })
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        // Expired sessions are swept here (MongoDB's TTL index does the same there).
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(to_iso(&session.created_at))
            .execute(self.writer())
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, user_agent, ip, created_at, \
             last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session.id.to_hex())
        .bind(session.user_id.to_hex())
        .bind(&session.token_hash)
        .bind(&session.user_agent)
        .bind(&session.ip)
        .bind(to_iso(&session.created_at))
        .bind(to_iso(&session.last_used_at))
        .bind(to_iso(&session.expires_at))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        sqlx::query_as::<_, SessionRow>(
            "SELECT id, user_id, token_hash, user_agent, ip, created_at, last_used_at, expires_at \
             FROM sessions WHERE id = ? AND expires_at > ?",
        )
        .bind(id.to_hex())
        .bind(to_iso(&now))
        .fetch_optional(self.pool())
        .await
        .map_err(map_err)?
        .map(SessionRow::into_session)
        .transpose()
    }

    async fn rotate_session(
        &self,
        id: SessionId,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        grace_after: DateTime<Utc>,
    ) -> StoreResult<Rotation> {
        let result = sqlx::query(
            "UPDATE sessions SET previous_token_hash = token_hash, rotated_at = ?, token_hash = ?, \
             last_used_at = ?, expires_at = ? WHERE id = ? AND token_hash = ? AND expires_at > ?",
        )
        .bind(to_iso(&now))
        .bind(new_hash)
        .bind(to_iso(&now))
        .bind(to_iso(&expires_at))
        .bind(id.to_hex())
        .bind(old_hash)
        .bind(to_iso(&now))
        .execute(self.writer())
        .await
        .map_err(map_err)?;
        if result.rows_affected() == 1 {
            return Ok(Rotation::Rotated);
        }
        let just_rotated: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sessions WHERE id = ? AND previous_token_hash = ? AND rotated_at > ? \
             AND expires_at > ?",
        )
        .bind(id.to_hex())
        .bind(old_hash)
        .bind(to_iso(&grace_after))
        .bind(to_iso(&now))
        .fetch_optional(self.writer())
        .await
        .map_err(map_err)?;
        Ok(if just_rotated.is_some() {
            Rotation::JustRotated
        } else {
            Rotation::Refused
        })
    }

    async fn list_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query_as::<_, SessionRow>(
            "SELECT id, user_id, token_hash, user_agent, ip, created_at, last_used_at, expires_at \
             FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id.to_hex())
        .bind(to_iso(&now))
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    async fn delete_other_sessions(&self, user_id: UserId, keep: SessionId) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let ended: Vec<String> =
            sqlx::query_scalar("DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id")
                .bind(user_id.to_hex())
                .bind(keep.to_hex())
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
        for id in &ended {
            let id = parse_column("sessions.id", id)?;
            record(&mut tx, &Change::SessionEnded(id), crate::time::now()).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(ended.len() as u64)
    }

    async fn delete_session(&self, id: SessionId, user_id: UserId) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let result = sqlx::query("DELETE FROM sessions WHERE id = ? AND user_id = ?")
            .bind(id.to_hex())
            .bind(user_id.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let ended = result.rows_affected() == 1;
        if ended {
            record(&mut tx, &Change::SessionEnded(id), crate::time::now()).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(ended)
    }
}

//! Login sessions on SQLite: rows with the refresh-token hash and its atomic rotation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{all, execute, feed::record, optional, parse_column, parse_time, SqliteStore};
use crate::{
    model::{NewSession, Session, SessionId, UserId},
    store::{Change, Rotation, SessionStore, StoreResult},
    time::to_iso,
};

const COLUMNS: &str =
    "id, user_id, token_hash, user_agent, ip, created_at, last_used_at, expires_at";

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
    /// Reads the columns of `COLUMNS`, in order.
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            user_id: row.get(1)?,
            token_hash: row.get(2)?,
            user_agent: row.get(3)?,
            ip: row.get(4)?,
            created_at: row.get(5)?,
            last_used_at: row.get(6)?,
            expires_at: row.get(7)?,
        })
    }

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

/// Runs `delete` (a `DELETE … RETURNING id` of sessions) and records each ended session on the
/// feed, so its sockets close on every node; how many ended.
fn end_sessions(
    conn: &rusqlite::Connection,
    delete: &str,
    params: impl rusqlite::Params,
) -> StoreResult<u64> {
    let ended = all(conn, delete, params, |row| row.get::<_, String>(0))?;
    for id in &ended {
        let id = parse_column("sessions.id", id)?;
        record(conn, &Change::SessionEnded(id), crate::time::now())?;
    }
    Ok(ended.len() as u64)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: NewSession) -> StoreResult<()> {
        self.engine()
            .write(move |conn| {
                // Expired sessions are swept here (MongoDB's TTL index does the same there).
                execute(
                    conn,
                    "DELETE FROM sessions WHERE expires_at <= ?",
                    [to_iso(&session.created_at)],
                )?;
                execute(
                    conn,
                    "INSERT INTO sessions (id, user_id, token_hash, user_agent, ip, created_at, \
                     last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        session.id.to_hex(),
                        session.user_id.to_hex(),
                        session.token_hash,
                        session.user_agent,
                        session.ip,
                        to_iso(&session.created_at),
                        to_iso(&session.last_used_at),
                        to_iso(&session.expires_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn find_session(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        self.engine()
            .read(move |conn| {
                let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = ? AND expires_at > ?");
                optional(
                    conn,
                    &sql,
                    params![id.to_hex(), to_iso(&now)],
                    SessionRow::read,
                )?
                .map(SessionRow::into_session)
                .transpose()
            })
            .await
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
        let (old_hash, new_hash) = (old_hash.to_owned(), new_hash.to_owned());
        self.engine()
            .write(move |conn| {
                let rotated = execute(
                    conn,
                    "UPDATE sessions SET previous_token_hash = token_hash, rotated_at = ?, \
                     token_hash = ?, last_used_at = ?, expires_at = ? \
                     WHERE id = ? AND token_hash = ? AND expires_at > ?",
                    params![
                        to_iso(&now),
                        new_hash,
                        to_iso(&now),
                        to_iso(&expires_at),
                        id.to_hex(),
                        old_hash,
                        to_iso(&now),
                    ],
                )?;
                if rotated == 1 {
                    return Ok(Rotation::Rotated);
                }
                let just_rotated = optional(
                    conn,
                    "SELECT 1 FROM sessions WHERE id = ? AND previous_token_hash = ? \
                     AND rotated_at > ? AND expires_at > ?",
                    params![id.to_hex(), old_hash, to_iso(&grace_after), to_iso(&now)],
                    |row| row.get::<_, i64>(0),
                )?;
                Ok(if just_rotated.is_some() {
                    Rotation::JustRotated
                } else {
                    Rotation::Refused
                })
            })
            .await
    }

    async fn list_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        self.engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM sessions WHERE user_id = ? AND expires_at > ? \
                     ORDER BY created_at DESC, id DESC"
                );
                all(
                    conn,
                    &sql,
                    params![user_id.to_hex(), to_iso(&now)],
                    SessionRow::read,
                )?
                .into_iter()
                .map(SessionRow::into_session)
                .collect()
            })
            .await
    }

    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                end_sessions(
                    conn,
                    "DELETE FROM sessions WHERE user_id = ? RETURNING id",
                    [user_id.to_hex()],
                )
            })
            .await
    }

    async fn delete_other_sessions(&self, user_id: UserId, keep: SessionId) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                end_sessions(
                    conn,
                    "DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id",
                    params![user_id.to_hex(), keep.to_hex()],
                )
            })
            .await
    }

    async fn delete_session(&self, id: SessionId, user_id: UserId) -> StoreResult<bool> {
        self.engine()
            .write(move |conn| {
                let ended = execute(
                    conn,
                    "DELETE FROM sessions WHERE id = ? AND user_id = ?",
                    params![id.to_hex(), user_id.to_hex()],
                )? == 1;
                if ended {
                    record(conn, &Change::SessionEnded(id), crate::time::now())?;
                }
                Ok(ended)
            })
            .await
    }
}

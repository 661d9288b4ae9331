//! Attachments on SQLite: one row each; a claim is one conditional update.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

use super::{all, count, execute, optional, parse_column, parse_time, SqliteStore};
use crate::{
    model::{Attachment, AttachmentId, UserId},
    store::{AttachmentClaim, AttachmentStore, StoreError, StoreResult},
    time::to_iso,
};

const COLUMNS: &str = "id, uploader, chat_room_id, file_name, content_type, size, message_id, \
                       width, height, created_at, expires_at";

type AttachmentRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    String,
);

fn read_row(row: &Row<'_>) -> rusqlite::Result<AttachmentRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
    ))
}

fn into_attachment(row: AttachmentRow) -> StoreResult<Attachment> {
    let (id, uploader, room, file_name, content_type, size, message_id, width, height, at, until) =
        row;
    let pixels = |value: Option<i64>| value.and_then(|value| u32::try_from(value).ok());
    Ok(Attachment {
        id: AttachmentId::parse(&id)
            .ok_or_else(|| StoreError::Backend("corrupt attachments.id".into()))?,
        uploader: parse_column("attachments.uploader", &uploader)?,
        chat_room_id: parse_column("attachments.chat_room_id", &room)?,
        file_name,
        content_type,
        size: count(size),
        message_id,
        width: pixels(width),
        height: pixels(height),
        created_at: parse_time("attachments.created_at", &at)?,
        expires_at: parse_time("attachments.expires_at", &until)?,
    })
}

fn find(conn: &rusqlite::Connection, id: &str) -> StoreResult<Option<Attachment>> {
    optional(
        conn,
        &format!("SELECT {COLUMNS} FROM attachments WHERE id = ?"),
        [id],
        read_row,
    )?
    .map(into_attachment)
    .transpose()
}

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn insert_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        let a = attachment.clone();
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    &format!(
                        "INSERT INTO attachments ({COLUMNS}) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    params![
                        a.id.as_str(),
                        a.uploader.to_hex(),
                        a.chat_room_id.to_string(),
                        a.file_name,
                        a.content_type,
                        i64::try_from(a.size).unwrap_or(i64::MAX),
                        a.message_id,
                        a.width,
                        a.height,
                        to_iso(&a.created_at),
                        to_iso(&a.expires_at),
                    ],
                )
                .map(|_| ())
            })
            .await
    }

    async fn find_attachment(&self, id: &AttachmentId) -> StoreResult<Option<Attachment>> {
        let id = id.as_str().to_owned();
        self.engine().read(move |conn| find(conn, &id)).await
    }

    async fn claim_attachment(&self, claim: &AttachmentClaim) -> StoreResult<Option<Attachment>> {
        let claim = claim.clone();
        self.engine()
            .write(move |conn| {
                let (width, height) = claim.dimensions.unzip();
                let changed = execute(
                    conn,
                    "UPDATE attachments SET message_id = ?, width = ?, height = ? \
                     WHERE id = ? AND message_id IS NULL AND uploader = ? AND chat_room_id = ? \
                     AND expires_at > ?",
                    params![
                        claim.message_id,
                        width,
                        height,
                        claim.id.as_str(),
                        claim.uploader.to_hex(),
                        claim.chat_room_id.to_string(),
                        to_iso(&claim.now),
                    ],
                )?;
                if changed == 0 {
                    return Ok(None);
                }
                find(conn, claim.id.as_str())
            })
            .await
    }

    async fn release_attachment(&self, id: &AttachmentId, message_id: &str) -> StoreResult<()> {
        let (id, message_id) = (id.as_str().to_owned(), message_id.to_owned());
        self.engine()
            .write(move |conn| {
                execute(
                    conn,
                    "UPDATE attachments SET message_id = NULL WHERE id = ? AND message_id = ?",
                    params![id, message_id],
                )
                .map(|_| ())
            })
            .await
    }

    async fn remove_attachment(&self, id: &AttachmentId) -> StoreResult<()> {
        let id = id.as_str().to_owned();
        self.engine()
            .write(move |conn| {
                execute(conn, "DELETE FROM attachments WHERE id = ?", [id]).map(|_| ())
            })
            .await
    }

    async fn attachments_of(&self, uploader: UserId) -> StoreResult<Vec<Attachment>> {
        self.engine()
            .read(move |conn| {
                all(
                    conn,
                    &format!("SELECT {COLUMNS} FROM attachments WHERE uploader = ?"),
                    [uploader.to_hex()],
                    read_row,
                )?
                .into_iter()
                .map(into_attachment)
                .collect()
            })
            .await
    }

    async fn expired_attachments(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        self.engine()
            .read(move |conn| {
                all(
                    conn,
                    &format!(
                        "SELECT {COLUMNS} FROM attachments WHERE message_id IS NULL \
                         AND expires_at <= ? ORDER BY expires_at LIMIT ?"
                    ),
                    params![to_iso(&now), limit],
                    read_row,
                )?
                .into_iter()
                .map(into_attachment)
                .collect()
            })
            .await
    }

    async fn remove_expired_attachment(
        &self,
        id: &AttachmentId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let id = id.as_str().to_owned();
        self.engine()
            .write(move |conn| {
                let removed = execute(
                    conn,
                    "DELETE FROM attachments WHERE id = ? AND message_id IS NULL \
                     AND expires_at <= ?",
                    params![id, to_iso(&now)],
                )?;
                Ok(removed > 0)
            })
            .await
    }
}

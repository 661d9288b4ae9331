use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{
    feed::record, map_err, parse_column, parse_id_list, parse_time, placeholders, SqliteStore,
};
use crate::{
    model::{ChatType, GroupId, HistoryWindow, Message, MessageOid, MessageStatus, Room, UserId},
    store::{Change, MessageStore, RoomSummary, StoreError, StoreResult},
    time::to_iso,
};

/// Every column of a message, `readBy` included (as a JSON array in reading order).
const COLUMNS: &str = "m.id, m.message_id, m.chat_room_id, m.chat_type, m.sender, m.receiver, \
    m.group_id, m.message, m.attachment, m.status, m.client_message_id, m.created_at, \
    m.updated_at, (SELECT json_group_array(user_id) FROM (SELECT r.user_id FROM message_reads r \
    WHERE r.message_id = m.id ORDER BY r.rowid)) AS read_by";

/// The private rooms of user `?1`: latest message per room (window function) and unread count.
pub(crate) fn private_rooms_sql() -> String {
    format!(
        "WITH latest AS ( \
           SELECT id, ROW_NUMBER() OVER (PARTITION BY chat_room_id \
                                         ORDER BY created_at DESC, id DESC) AS rn \
           FROM messages WHERE chat_type = 'PRIVATE' AND (sender = ?1 OR receiver = ?1)) \
         SELECT {COLUMNS}, (SELECT COUNT(*) FROM messages u WHERE u.chat_room_id = m.chat_room_id \
                            AND u.receiver = ?1 AND u.status <> 'READ') AS unread \
         FROM latest JOIN messages m ON m.id = latest.id WHERE latest.rn = 1 \
         ORDER BY m.created_at DESC, m.id DESC"
    )
}

/// One page of room `?` newest first (`LIMIT ? OFFSET ?`).
pub(crate) fn room_page_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ? \
         ORDER BY m.created_at DESC, m.id DESC LIMIT ? OFFSET ?"
    )
}

/// SENT < DELIVERED < READ as numbers, for forward-only updates.
const STATUS_RANK: &str = "(CASE status WHEN 'SENT' THEN 0 WHEN 'DELIVERED' THEN 1 ELSE 2 END)";

fn rank(status: MessageStatus) -> i64 {
    match status {
        MessageStatus::Sent => 0,
        MessageStatus::Delivered => 1,
        MessageStatus::Read => 2,
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    message_id: String,
    chat_room_id: String,
    chat_type: String,
    sender: String,
    receiver: Option<String>,
    group_id: Option<String>,
    message: String,
    attachment: Option<String>,
    status: String,
    client_message_id: Option<String>,
    created_at: String,
    updated_at: String,
    read_by: String,
}

impl MessageRow {
    fn into_message(self) -> StoreResult<Message> {
        let chat_type = match self.chat_type.as_str() {
            "PRIVATE" => ChatType::Private,
            "GROUP" => ChatType::Group,
            _ => return Err(StoreError::Backend("corrupt messages.chat_type".into())),
        };
        Ok(Message {
            id: parse_column("messages.id", &self.id)?,
            chat_room_id: parse_column("messages.chat_room_id", &self.chat_room_id)?,
            message_id: self.message_id,
            chat_type,
            sender: parse_column("messages.sender", &self.sender)?,
            receiver: self
                .receiver
                .map(|id| parse_column("messages.receiver", &id))
                .transpose()?,
            group_id: self
                .group_id
                .map(|id| parse_column("messages.group_id", &id))
                .transpose()?,
            message: self.message,
            attachment: self.attachment,
            status: MessageStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Backend("corrupt messages.status".into()))?,
            read_by: parse_id_list("message_reads.user_id", &self.read_by)?,
            client_message_id: self.client_message_id,
            created_at: parse_time("messages.created_at", &self.created_at)?,
            updated_at: parse_time("messages.updated_at", &self.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RoomRow {
    #[sqlx(flatten)]
    message: MessageRow,
    unread: i64,
}

impl RoomRow {
    fn into_summary(self) -> StoreResult<RoomSummary> {
        let latest = self.message.into_message()?;
        Ok(RoomSummary {
            chat_room_id: latest.chat_room_id,
            latest,
            unread: u64::try_from(self.unread).unwrap_or(0),
        })
    }
}

async fn load(conn: &mut SqliteConnection, id: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.id = ?");
    sqlx::query_as::<_, MessageRow>(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(map_err)?
        .map(MessageRow::into_message)
        .transpose()
}

fn collect(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(MessageRow::into_message).collect()
}

impl SqliteStore {
    async fn find_message_where(
        &self,
        clause: &str,
        values: &[String],
    ) -> StoreResult<Option<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM messages m WHERE {clause}");
        let mut query = sqlx::query_as::<_, MessageRow>(&sql);
        for value in values {
            query = query.bind(value);
        }
        query
            .fetch_optional(self.pool())
            .await
            .map_err(map_err)?
            .map(MessageRow::into_message)
            .transpose()
    }
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn insert_message(&self, message: Message) -> StoreResult<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO messages (id, message_id, chat_room_id, chat_type, sender, receiver, \
             group_id, message, attachment, status, client_message_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(message.id.to_hex())
        .bind(&message.message_id)
        .bind(message.chat_room_id.to_string())
        .bind(message.chat_type.as_str())
        .bind(message.sender.to_hex())
        .bind(message.receiver.map(|id| id.to_hex()))
        .bind(message.group_id.map(|id| id.to_hex()))
        .bind(&message.message)
        .bind(&message.attachment)
        .bind(message.status.as_str())
        .bind(&message.client_message_id)
        .bind(to_iso(&message.created_at))
        .bind(to_iso(&message.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let at = message.created_at;
        record(&mut tx, &Change::MessageCreated(message), at).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>> {
        self.find_message_where("m.message_id = ?", &[message_id.to_owned()])
            .await
    }

    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        self.find_message_where(
            "m.sender = ? AND m.client_message_id = ?",
            &[sender.to_hex(), client_message_id.to_owned()],
        )
        .await
    }

    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        let mut tx = self.write().await?;
        let sql = format!(
            "UPDATE messages SET status = ?, updated_at = ? WHERE id = ? AND {STATUS_RANK} < ?"
        );
        let mut changed = sqlx::query(&sql)
            .bind(status.as_str())
            .bind(to_iso(&now))
            .bind(id.to_hex())
            .bind(rank(status))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
            > 0;
        if let Some(reader) = reader {
            let added = sqlx::query(
                "INSERT OR IGNORE INTO message_reads (message_id, user_id) \
                 SELECT id, ? FROM messages WHERE id = ?",
            )
            .bind(reader.to_hex())
            .bind(id.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
                > 0;
            if added && !changed {
                sqlx::query("UPDATE messages SET updated_at = ? WHERE id = ?")
                    .bind(to_iso(&now))
                    .bind(id.to_hex())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            changed |= added;
        }
        if !changed {
            return Ok(None);
        }
        let message = load(&mut tx, &id.to_hex()).await?;
        if let Some(message) = &message {
            record(&mut tx, &Change::MessageUpdated(message.clone()), now).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(message)
    }

    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let sql = format!(
            "UPDATE messages SET status = ?, updated_at = ? WHERE chat_type = 'PRIVATE' \
             AND sender = ? AND receiver = ? AND {STATUS_RANK} < ? RETURNING id"
        );
        let ids: Vec<String> = sqlx::query_scalar(&sql)
            .bind(status.as_str())
            .bind(to_iso(&now))
            .bind(sender.to_hex())
            .bind(receiver.to_hex())
            .bind(rank(status))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        for id in &ids {
            if let Some(message) = load(&mut tx, id).await? {
                record(&mut tx, &Change::MessageUpdated(message), now).await?;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(ids.len() as u64)
    }

    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let chat_room_id = room.to_string();
        let base = format!("SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ?");
        let newest_first = "ORDER BY m.created_at DESC, m.id DESC LIMIT ?";
        let rows = match window {
            HistoryWindow::Page { offset } => {
                sqlx::query_as::<_, MessageRow>(&room_page_sql())
                    .bind(&chat_room_id)
                    .bind(i64::from(limit))
                    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
                    .fetch_all(self.pool())
                    .await
            }
            HistoryWindow::Before(cursor) => {
                let sql = format!(
                    "{base} AND (m.created_at < ? OR (m.created_at = ? AND m.id < ?)) {newest_first}"
                );
                let at = to_iso(&cursor.created_at);
                sqlx::query_as::<_, MessageRow>(&sql)
                    .bind(&chat_room_id)
                    .bind(&at)
                    .bind(&at)
                    .bind(cursor.id.to_hex())
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
            }
            HistoryWindow::After(cursor) => {
                let sql = format!(
                    "{base} AND (m.created_at > ? OR (m.created_at = ? AND m.id > ?)) \
                     ORDER BY m.created_at ASC, m.id ASC LIMIT ?"
                );
                let at = to_iso(&cursor.created_at);
                sqlx::query_as::<_, MessageRow>(&sql)
                    .bind(&chat_room_id)
                    .bind(&at)
                    .bind(&at)
                    .bind(cursor.id.to_hex())
                    .bind(i64::from(limit))
                    .fetch_all(self.pool())
                    .await
            }
        };
        collect(rows.map_err(map_err)?)
    }

    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE chat_room_id = ?")
            .bind(room.to_string())
            .fetch_one(self.pool())
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM messages m WHERE m.chat_type = 'PRIVATE' AND m.sender = ? \
             AND m.receiver = ? AND m.status = 'SENT' ORDER BY m.created_at ASC, m.id ASC"
        );
        let rows = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(sender.to_hex())
            .bind(receiver.to_hex())
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        collect(rows)
    }

    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT receiver FROM messages WHERE chat_type = 'PRIVATE' AND sender = ?1 \
             UNION SELECT sender FROM messages WHERE chat_type = 'PRIVATE' AND receiver = ?1 \
             UNION SELECT other.user_id FROM group_members mine \
               JOIN groups g ON g.id = mine.group_id AND g.is_active = 1 \
               JOIN group_members other ON other.group_id = mine.group_id \
               WHERE mine.user_id = ?1 AND other.user_id <> ?1",
        )
        .bind(user.to_hex())
        .fetch_all(self.pool())
        .await
        .map_err(map_err)?;
        ids.iter()
            .map(|id| parse_column("contacts.user_id", id))
            .collect()
    }

    async fn private_rooms(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        let sql = private_rooms_sql();
        let rows = sqlx::query_as::<_, RoomRow>(&sql)
            .bind(user.to_hex())
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.into_iter().map(RoomRow::into_summary).collect()
    }

    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "WITH latest AS ( \
               SELECT id, ROW_NUMBER() OVER (PARTITION BY group_id \
                                             ORDER BY created_at DESC, id DESC) AS rn \
               FROM messages WHERE group_id IN ({groups})) \
             SELECT {COLUMNS}, (SELECT COUNT(*) FROM messages u WHERE u.group_id = m.group_id \
                                AND u.sender <> ? AND NOT EXISTS (SELECT 1 FROM message_reads r \
                                WHERE r.message_id = u.id AND r.user_id = ?)) AS unread \
             FROM latest JOIN messages m ON m.id = latest.id WHERE latest.rn = 1 \
             ORDER BY m.created_at DESC, m.id DESC",
            groups = placeholders(groups.len())
        );
        let mut query = sqlx::query_as::<_, RoomRow>(&sql);
        for group in groups {
            query = query.bind(group.to_hex());
        }
        let rows = query
            .bind(user.to_hex())
            .bind(user.to_hex())
            .fetch_all(self.pool())
            .await
            .map_err(map_err)?;
        rows.into_iter().map(RoomRow::into_summary).collect()
    }
}

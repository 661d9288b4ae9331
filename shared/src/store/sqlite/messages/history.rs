//! Reading a conversation's messages: by id, pages and cursors, counts, undelivered ones.

use rusqlite::{params, Connection};

use super::{
    super::{all, count, one, optional},
    messages, MessageRow, COLUMNS,
};
use crate::{
    model::{HistoryWindow, Message, Room, UserId},
    store::StoreResult,
    time::to_iso,
};

/// One page of room `?` newest first (`LIMIT ? OFFSET ?`).
pub(crate) fn room_page_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ? \
         ORDER BY m.created_at DESC, m.id DESC LIMIT ? OFFSET ?"
    )
}

/// The message with this public `messageId`.
pub(super) fn find(conn: &Connection, message_id: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.message_id = ?");
    optional(conn, &sql, [message_id], MessageRow::read)?
        .map(MessageRow::into_message)
        .transpose()
}

/// A room's messages in the window: a page newest first, strictly older than a cursor newest
/// first, or strictly newer than one oldest first; at most `limit`.
pub(super) fn room_messages(
    conn: &Connection,
    room: &Room,
    window: HistoryWindow,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let chat_room_id = room.to_string();
    let rows = match window {
        HistoryWindow::Page { offset } => all(
            conn,
            &room_page_sql(),
            params![
                chat_room_id,
                i64::from(limit),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            MessageRow::read,
        )?,
        HistoryWindow::Before(cursor) | HistoryWindow::After(cursor) => {
            let (beyond, order) = match window {
                HistoryWindow::After(_) => (">", "ASC"),
                _ => ("<", "DESC"),
            };
            let sql = format!(
                "SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ? \
                 AND (m.created_at {beyond} ? OR (m.created_at = ? AND m.id {beyond} ?)) \
                 ORDER BY m.created_at {order}, m.id {order} LIMIT ?"
            );
            let at = to_iso(&cursor.created_at);
            all(
                conn,
                &sql,
                params![chat_room_id, at, at, cursor.id.to_hex(), i64::from(limit)],
                MessageRow::read,
            )?
        }
    };
    messages(rows)
}

pub(super) fn count_room_messages(conn: &Connection, room: &Room) -> StoreResult<u64> {
    one(
        conn,
        "SELECT COUNT(*) FROM messages WHERE chat_room_id = ?",
        [room.to_string()],
        |row| row.get::<_, i64>(0),
    )
    .map(count)
}

/// Private messages from `sender` to `receiver` still SENT, oldest first.
pub(super) fn undelivered(
    conn: &Connection,
    sender: UserId,
    receiver: UserId,
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ? AND m.sender = ? \
         AND m.status <> 'READ' AND m.status = 'SENT' ORDER BY m.created_at ASC, m.id ASC"
    );
    messages(all(
        conn,
        &sql,
        params![Room::private(sender, receiver).to_string(), sender.to_hex()],
        MessageRow::read,
    )?)
}

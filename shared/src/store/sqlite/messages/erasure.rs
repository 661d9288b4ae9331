//! What an account's deletion removes from messages, as one writer operation; and the pages of
//! a user's own messages the data export reads.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::{
    super::{all, execute},
    conversations::rebuild_rooms,
    messages, search, MessageRow, COLUMNS,
};
use crate::{
    model::{Message, MessageOid, UserId},
    store::StoreResult,
    time::to_iso,
};

/// `erase_messages_of` as one writer operation.
pub(super) fn erase(
    conn: &Connection,
    user: UserId,
    keep_tombstones: bool,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let id = user.to_hex();
    let rooms = all(
        conn,
        "SELECT chat_room_id FROM conversations WHERE user_id = ?",
        [&id],
        |row| row.get::<_, String>(0),
    )?;
    search::index_pending(conn)?;
    let erased = if keep_tombstones {
        execute(
            conn,
            "DELETE FROM message_reactions WHERE message_id IN \
             (SELECT id FROM messages WHERE sender = ?)",
            [&id],
        )?;
        execute(
            conn,
            "UPDATE messages SET message = '', attachment = NULL, \
             deleted_at = COALESCE(deleted_at, ?1), updated_at = ?1 WHERE sender = ?2",
            params![to_iso(&now), id],
        )?
    } else {
        // Reactions and receipts on them go by cascade, the search index by trigger.
        execute(conn, "DELETE FROM messages WHERE sender = ?", [&id])?
    };
    execute(
        conn,
        "DELETE FROM message_reactions WHERE user_id = ?",
        [&id],
    )?;
    execute(conn, "DELETE FROM message_reads WHERE user_id = ?", [&id])?;
    // The feed's copies of their messages (the feed keeps changes for a while for readers that
    // resume): a message change names its sender as `"sender":"<id>"`.
    execute(
        conn,
        "DELETE FROM events WHERE instr(payload, ?) > 0",
        [format!("\"sender\":\"{id}\"")],
    )?;
    rebuild_rooms(conn, &rooms)?;
    execute(conn, "DELETE FROM conversations WHERE user_id = ?", [&id])?;
    Ok(erased as u64)
}

/// `messages_sent_by`: a scan of the primary key in order, filtered by sender, so the export
/// needs no index that every send would pay for.
pub(super) fn sent_by(
    conn: &Connection,
    sender: UserId,
    after: Option<MessageOid>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages m WHERE m.sender = ?1 AND (?2 IS NULL OR m.id > ?2) \
         ORDER BY m.id LIMIT ?3"
    );
    messages(all(
        conn,
        &sql,
        params![
            sender.to_hex(),
            after.map(|id| id.to_hex()),
            i64::from(limit)
        ],
        MessageRow::read,
    )?)
}

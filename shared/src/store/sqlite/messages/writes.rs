//! Every message write, each one operation of the writer (one transaction with its feed event):
//! send, edit, delete, reactions and receipts.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::{
    super::{all, execute, feed::record, groups, one, optional, rate_limits, users},
    conversations::{read_in_conversation, touch_conversation},
    find_by_client_id, load, search,
};
use crate::{
    model::{GroupId, Message, MessageOid, MessageStatus, Room, UserId},
    store::{Change, ReactOutcome, ReactionChange, SendOutcome, SendRequest, StoreResult},
    time::to_iso,
};

/// SENT < DELIVERED < READ as numbers, for forward-only updates.
const STATUS_RANK: &str = "(CASE status WHEN 'SENT' THEN 0 WHEN 'DELIVERED' THEN 1 ELSE 2 END)";

fn rank(status: MessageStatus) -> i64 {
    match status {
        MessageStatus::Sent => 0,
        MessageStatus::Delivered => 1,
        MessageStatus::Read => 2,
    }
}

/// Stores a message and its feed event inside the caller's transaction.
fn insert(conn: &Connection, message: &Message) -> StoreResult<()> {
    execute(
        conn,
        "INSERT INTO messages (id, message_id, chat_room_id, chat_type, sender, receiver, \
         group_id, message, attachment, status, client_message_id, created_at, updated_at, \
         reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            message.id.to_hex(),
            message.message_id,
            message.chat_room_id.to_string(),
            message.chat_type.as_str(),
            message.sender.to_hex(),
            message.receiver.map(|id| id.to_hex()),
            message.group_id.map(|id| id.to_hex()),
            message.message,
            super::attachment_column(message.attachment.as_ref()),
            message.status.as_str(),
            message.client_message_id,
            to_iso(&message.created_at),
            to_iso(&message.updated_at),
            message.reply_to.as_ref().map(|quoted| &quoted.message_id),
        ],
    )?;
    search::index_at_commit(conn, conn.last_insert_rowid())?;
    if let Some(receiver) = message.receiver {
        let unread = i64::from(message.status != MessageStatus::Read);
        touch_conversation(conn, message.sender, message, 0)?;
        touch_conversation(conn, receiver, message, unread)?;
    }
    record(
        conn,
        &Change::MessageCreated(message.clone()),
        message.created_at,
    )
}

/// `send_message` as one operation of the writer.
pub(super) fn send(conn: &Connection, request: SendRequest) -> StoreResult<SendOutcome> {
    let SendRequest {
        message,
        rate_limit,
    } = request;
    if let Some(client_id) = &message.client_message_id {
        if let Some(sent) = find_by_client_id(conn, message.sender, client_id)? {
            return Ok(SendOutcome::Repeated(sent));
        }
    }
    let hits = rate_limits::hit(conn, &rate_limit.key, rate_limit.expires_at, rate_limit.now)?;
    if hits > rate_limit.max {
        return Ok(SendOutcome::RateLimited);
    }
    if let Some(receiver) = message.receiver {
        if !users::exists(conn, receiver)? {
            return Ok(SendOutcome::ReceiverMissing);
        }
        if users::blocks(conn, receiver, message.sender)? {
            return Ok(SendOutcome::Blocked);
        }
    }
    if let Some(group_id) = message.group_id {
        match groups::standing(conn, group_id, message.sender)? {
            groups::Standing::NoGroup => return Ok(SendOutcome::GroupMissing),
            groups::Standing::NotMember => return Ok(SendOutcome::NotAMember),
            groups::Standing::Member => {}
        }
    }
    insert(conn, &message)?;
    Ok(SendOutcome::Created(message))
}

/// `edit_message` as one operation of the writer.
pub(super) fn edit(
    conn: &Connection,
    id: MessageOid,
    text: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    search::index_pending(conn)?;
    let changed = execute(
        conn,
        "UPDATE messages SET message = ?, edited_at = ?, updated_at = ? \
         WHERE id = ? AND deleted_at IS NULL",
        params![text, to_iso(&now), to_iso(&now), id.to_hex()],
    )?;
    if changed == 0 {
        return Ok(None);
    }
    let message = load(conn, &id.to_hex())?;
    if let Some(message) = &message {
        record(conn, &Change::MessageEdited(message.clone()), now)?;
    }
    Ok(message)
}

/// `delete_message` as one operation of the writer.
pub(super) fn delete(
    conn: &Connection,
    id: MessageOid,
    now: DateTime<Utc>,
    by_moderator: bool,
) -> StoreResult<Option<(Message, bool)>> {
    let Some(before) = load(conn, &id.to_hex())? else {
        return Ok(None);
    };
    if before.deleted {
        return Ok(Some((before, false)));
    }
    search::index_pending(conn)?;
    execute(
        conn,
        "UPDATE messages SET message = '', attachment = NULL, deleted_at = ?, updated_at = ?, \
         removed_by = ? WHERE id = ?",
        params![
            to_iso(&now),
            to_iso(&now),
            by_moderator.then_some(super::REMOVED_BY_MODERATOR),
            id.to_hex()
        ],
    )?;
    execute(
        conn,
        "DELETE FROM message_reactions WHERE message_id = ?",
        [id.to_hex()],
    )?;
    // Unread counts leave deleted messages out.
    if let (Some(receiver), true) = (before.receiver, before.status != MessageStatus::Read) {
        read_in_conversation(conn, receiver, &before.chat_room_id, 1)?;
    }
    let Some(message) = load(conn, &id.to_hex())? else {
        return Ok(None);
    };
    record(conn, &Change::MessageDeleted(message.clone()), now)?;
    Ok(Some((message, true)))
}

/// `mark_group_read` as one operation of the writer.
pub(super) fn mark_group_read(
    conn: &Connection,
    group: GroupId,
    reader: UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let ids = all(
        conn,
        "SELECT m.id FROM messages m WHERE m.group_id = ?1 AND m.sender <> ?2 \
         AND m.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM message_reads r \
         WHERE r.message_id = m.id AND r.user_id = ?2) ORDER BY m.created_at, m.id",
        params![group.to_hex(), reader.to_hex()],
        |row| row.get::<_, String>(0),
    )?;
    for id in &ids {
        execute(
            conn,
            "INSERT OR IGNORE INTO message_reads (message_id, user_id) VALUES (?, ?)",
            params![id, reader.to_hex()],
        )?;
        execute(
            conn,
            "UPDATE messages SET status = 'READ', updated_at = ? WHERE id = ?",
            params![to_iso(&now), id],
        )?;
        if let Some(message) = load(conn, id)? {
            record(conn, &Change::MessageUpdated(message), now)?;
        }
    }
    Ok(ids.len() as u64)
}

/// `react` as one operation of the writer.
pub(super) fn react(conn: &Connection, change: &ReactionChange) -> StoreResult<ReactOutcome> {
    let id = change.message.to_hex();
    let live = optional(
        conn,
        "SELECT deleted_at IS NULL FROM messages WHERE id = ?",
        [&id],
        |row| row.get::<_, bool>(0),
    )?;
    if live != Some(true) {
        return Ok(ReactOutcome::Gone);
    }
    let changed = if change.add {
        let (distinct, present): (i64, bool) = one(
            conn,
            "SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji = ?2), 0) \
             FROM message_reactions WHERE message_id = ?1",
            params![id, change.emoji],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        if !present && usize::try_from(distinct).unwrap_or(usize::MAX) >= change.max_distinct {
            return Ok(ReactOutcome::TooMany);
        }
        execute(
            conn,
            "INSERT OR IGNORE INTO message_reactions (message_id, emoji, user_id) VALUES (?, ?, ?)",
            params![id, change.emoji, change.user.to_hex()],
        )? > 0
    } else {
        execute(
            conn,
            "DELETE FROM message_reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            params![id, change.emoji, change.user.to_hex()],
        )? > 0
    };
    if changed {
        execute(
            conn,
            "UPDATE messages SET updated_at = ? WHERE id = ?",
            params![to_iso(&change.now), id],
        )?;
    }
    let Some(message) = load(conn, &id)? else {
        return Ok(ReactOutcome::Gone);
    };
    if changed {
        record(conn, &Change::ReactionsChanged(message.clone()), change.now)?;
    }
    Ok(ReactOutcome::Done(Box::new(message)))
}

/// `advance_message` as one operation of the writer.
pub(super) fn advance_message(
    conn: &Connection,
    id: MessageOid,
    status: MessageStatus,
    reader: Option<UserId>,
    now: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
    let sql = format!(
        "UPDATE messages SET status = ?, updated_at = ? WHERE id = ? AND {STATUS_RANK} < ?"
    );
    let status_moved = execute(
        conn,
        &sql,
        params![status.as_str(), to_iso(&now), id.to_hex(), rank(status)],
    )? > 0;
    let mut changed = status_moved;
    if let Some(reader) = reader {
        let added = execute(
            conn,
            "INSERT OR IGNORE INTO message_reads (message_id, user_id) \
             SELECT id, ? FROM messages WHERE id = ?",
            params![reader.to_hex(), id.to_hex()],
        )? > 0;
        if added && !changed {
            execute(
                conn,
                "UPDATE messages SET updated_at = ? WHERE id = ?",
                params![to_iso(&now), id.to_hex()],
            )?;
        }
        changed |= added;
    }
    if !changed {
        return Ok(None);
    }
    let message = load(conn, &id.to_hex())?;
    if let Some(message) = &message {
        if let (true, MessageStatus::Read, Some(receiver), false) =
            (status_moved, status, message.receiver, message.deleted)
        {
            read_in_conversation(conn, receiver, &message.chat_room_id, 1)?;
        }
        record(conn, &Change::MessageUpdated(message.clone()), now)?;
    }
    Ok(message)
}

/// `advance_conversation` as one operation of the writer.
pub(super) fn advance_conversation(
    conn: &Connection,
    sender: UserId,
    receiver: UserId,
    status: MessageStatus,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    // `status <> 'READ'` lets the planner use `messages_unread`.
    let sql = format!(
        "UPDATE messages SET status = ?, updated_at = ? WHERE chat_room_id = ? \
         AND sender = ? AND status <> 'READ' AND {STATUS_RANK} < ? \
         RETURNING id, deleted_at IS NULL"
    );
    let room = Room::private(sender, receiver);
    let ids = all(
        conn,
        &sql,
        params![
            status.as_str(),
            to_iso(&now),
            room.to_string(),
            sender.to_hex(),
            rank(status)
        ],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
    )?;
    // Deleted messages were not counted as unread.
    let counted = ids.iter().filter(|(_, live)| *live).count();
    if status == MessageStatus::Read && counted > 0 {
        read_in_conversation(conn, receiver, &room, counted)?;
    }
    for (id, _) in &ids {
        if let Some(message) = load(conn, id)? {
            record(conn, &Change::MessageUpdated(message), now)?;
        }
    }
    Ok(ids.len() as u64)
}

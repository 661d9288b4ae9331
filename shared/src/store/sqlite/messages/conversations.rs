//! The per-user conversation rows (latest message, unread counter) kept by the writes, and what
//! is read from them: the rooms lists and a user's contacts.

use rusqlite::{params, params_from_iter, types::Value, Connection, Row};

use super::{
    super::{all, count, execute, one, parse_column, placeholders},
    MessageRow, COLUMNS, COLUMN_COUNT,
};
use crate::{
    model::{GroupId, Message, Room, UserId},
    store::{RoomSummary, RoomsPage, StoreResult},
    time::to_iso,
};

/// The private rooms of user `?1`, newest first: their conversation rows and latest messages;
/// a page of them with `?2` (before this time), `?3` (or at it, below this `chatRoomId`) and `?4`
/// (at most this many; -1: all). Only the page's rows are joined and dressed.
pub(crate) fn private_rooms_sql() -> String {
    format!(
        "SELECT {COLUMNS}, c.unread FROM conversations c JOIN messages m ON m.id = c.last_message \
         WHERE c.user_id = ?1 \
           AND (?2 IS NULL OR c.last_at < ?2 OR (c.last_at = ?2 AND c.chat_room_id < ?3)) \
         ORDER BY c.last_at DESC, c.chat_room_id DESC LIMIT ?4"
    )
}

/// Moves `user`'s row of a private conversation to `message` (when it is the latest) and adds
/// `unread` to its count.
pub(super) fn touch_conversation(
    conn: &Connection,
    user: UserId,
    message: &Message,
    unread: i64,
) -> StoreResult<()> {
    execute(
        conn,
        "INSERT INTO conversations (user_id, chat_room_id, last_message, last_at, unread) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, chat_room_id) DO UPDATE SET \
           last_message = CASE WHEN (excluded.last_at, excluded.last_message) > (last_at, last_message) \
                          THEN excluded.last_message ELSE last_message END, \
           last_at = CASE WHEN (excluded.last_at, excluded.last_message) > (last_at, last_message) \
                     THEN excluded.last_at ELSE last_at END, \
           unread = unread + excluded.unread",
        params![
            user.to_hex(),
            message.chat_room_id.to_string(),
            message.id.to_hex(),
            to_iso(&message.created_at),
            unread
        ],
    )?;
    Ok(())
}

/// `count` messages to `receiver` in `room` became READ.
pub(super) fn read_in_conversation(
    conn: &Connection,
    receiver: UserId,
    room: &Room,
    count: usize,
) -> StoreResult<()> {
    execute(
        conn,
        "UPDATE conversations SET unread = MAX(unread - ?, 0) WHERE user_id = ? AND chat_room_id = ?",
        params![count as i64, receiver.to_hex(), room.to_string()],
    )?;
    Ok(())
}

/// Rebuilds every conversation row from the messages: for database files written before these
/// rows existed (at open, when there are private messages but no rows) and after bulk loads.
pub(crate) fn rebuild_conversations(conn: &Connection) -> StoreResult<()> {
    execute(conn, "DELETE FROM conversations", [])?;
    insert_conversations(conn, "", &[])
}

/// Rebuilds the conversation rows of `rooms` (private conversations whose messages were erased).
pub(super) fn rebuild_rooms(conn: &Connection, rooms: &[String]) -> StoreResult<()> {
    if rooms.is_empty() {
        return Ok(());
    }
    let list = placeholders(rooms.len());
    let sql = format!("DELETE FROM conversations WHERE chat_room_id IN ({list})");
    execute(conn, &sql, params_from_iter(rooms))?;
    insert_conversations(conn, &format!("AND chat_room_id IN ({list})"), rooms)
}

/// Inserts the conversation rows computed from the private messages that match `filter` (SQL
/// after `WHERE chat_type = 'PRIVATE'`, its parameters `rooms`).
fn insert_conversations(conn: &Connection, filter: &str, rooms: &[String]) -> StoreResult<()> {
    let sql = format!(
        "WITH parts AS ( \
           SELECT sender AS user_id, chat_room_id, id, created_at, 0 AS unread_one \
             FROM messages WHERE chat_type = 'PRIVATE' {filter} \
           UNION ALL \
           SELECT receiver, chat_room_id, id, created_at, status <> 'READ' AND deleted_at IS NULL \
             FROM messages WHERE chat_type = 'PRIVATE' {filter}), \
         ranked AS ( \
           SELECT user_id, chat_room_id, id, created_at, \
             ROW_NUMBER() OVER (PARTITION BY user_id, chat_room_id \
                                ORDER BY created_at DESC, id DESC) AS rn, \
             SUM(unread_one) OVER (PARTITION BY user_id, chat_room_id) AS unread \
           FROM parts) \
         INSERT INTO conversations (user_id, chat_room_id, last_message, last_at, unread) \
         SELECT user_id, chat_room_id, id, created_at, unread FROM ranked WHERE rn = 1"
    );
    // The filter's parameters appear twice, once per half of the union.
    let params: Vec<&String> = rooms.iter().chain(rooms.iter()).collect();
    execute(conn, &sql, params_from_iter(params))?;
    Ok(())
}

/// Whether the conversation rows are missing for the private messages there are.
pub(crate) fn conversations_missing(conn: &Connection) -> StoreResult<bool> {
    one(
        conn,
        "SELECT NOT EXISTS (SELECT 1 FROM conversations) \
           AND EXISTS (SELECT 1 FROM messages WHERE chat_type = 'PRIVATE')",
        [],
        |row| row.get::<_, bool>(0),
    )
}

/// A room summary row: the columns of `COLUMNS`, then the unread count.
fn read_summary(row: &Row<'_>) -> rusqlite::Result<(MessageRow, i64)> {
    Ok((MessageRow::read(row)?, row.get(COLUMN_COUNT)?))
}

fn summaries(rows: Vec<(MessageRow, i64)>) -> StoreResult<Vec<RoomSummary>> {
    rows.into_iter()
        .map(|(row, unread)| {
            let latest = row.into_message()?;
            Ok(RoomSummary {
                chat_room_id: latest.chat_room_id,
                latest,
                unread: count(unread),
            })
        })
        .collect()
}

/// A page of the user's private rooms, newest first.
pub(super) fn private_rooms(
    conn: &Connection,
    user: UserId,
    page: &RoomsPage,
) -> StoreResult<Vec<RoomSummary>> {
    let limit = page.limit.map_or(-1, i64::from);
    summaries(all(
        conn,
        &private_rooms_sql(),
        params![
            user.to_hex(),
            page.before.as_ref().map(to_iso),
            page.before_room,
            limit
        ],
        read_summary,
    )?)
}

/// For each of `groups`: its latest message and how many messages from others `user` has not read.
pub(super) fn group_rooms(
    conn: &Connection,
    user: UserId,
    groups: &[GroupId],
) -> StoreResult<Vec<RoomSummary>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = groups.iter().map(|g| Value::Text(g.to_hex())).collect();
    values.push(Value::Text(user.to_hex()));
    values.push(Value::Text(user.to_hex()));
    let sql = format!(
        "WITH latest AS ( \
           SELECT id, ROW_NUMBER() OVER (PARTITION BY group_id \
                                         ORDER BY created_at DESC, id DESC) AS rn \
           FROM messages WHERE group_id IN ({groups})) \
         SELECT {COLUMNS}, (SELECT COUNT(*) FROM messages u \
                            WHERE u.group_id = m.group_id AND u.sender <> ? \
                            AND u.deleted_at IS NULL \
                            AND NOT EXISTS (SELECT 1 FROM message_reads r \
                            WHERE r.message_id = u.id AND r.user_id = ?)) AS unread \
         FROM latest JOIN messages m ON m.id = latest.id WHERE latest.rn = 1 \
         ORDER BY m.created_at DESC, m.id DESC",
        groups = placeholders(groups.len())
    );
    summaries(all(conn, &sql, params_from_iter(values), read_summary)?)
}

/// Everyone `user` has a private conversation or an active group with, minus those they block.
pub(super) fn contacts_of(conn: &Connection, user: UserId) -> StoreResult<Vec<UserId>> {
    let text = |row: &Row<'_>| row.get::<_, String>(0);
    let rooms = all(
        conn,
        "SELECT chat_room_id FROM conversations WHERE user_id = ?",
        [user.to_hex()],
        text,
    )?;
    let members = all(
        conn,
        "SELECT other.user_id FROM group_members mine \
         JOIN groups g ON g.id = mine.group_id AND g.is_active = 1 \
         JOIN group_members other ON other.group_id = mine.group_id \
         WHERE mine.user_id = ?1 AND other.user_id <> ?1",
        [user.to_hex()],
        text,
    )?;
    let blocked = all(
        conn,
        "SELECT blocked FROM blocks WHERE blocker = ?",
        [user.to_hex()],
        text,
    )?;
    let mut contacts = Vec::new();
    for room in &rooms {
        if let Room::Private(pair) = parse_column("conversations.chat_room_id", room)? {
            contacts.extend(pair.partner_of(user));
        }
    }
    for member in &members {
        contacts.push(parse_column("group_members.user_id", member)?);
    }
    let blocked = blocked
        .iter()
        .map(|id| parse_column("blocks.blocked", id))
        .collect::<StoreResult<Vec<UserId>>>()?;
    contacts.sort();
    contacts.dedup();
    contacts.retain(|contact| !blocked.contains(contact));
    Ok(contacts)
}

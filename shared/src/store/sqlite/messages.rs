use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, types::Value, Connection, Row};

use super::{
    all, count, execute, feed::record, groups, one, optional, parse_column, parse_id_list,
    parse_time, placeholders, rate_limits, users, SqliteStore,
};
use crate::{
    model::{
        preview_text, ChatType, GroupId, HistoryWindow, Message, MessageOid, MessageStatus,
        Reaction, ReplyPreview, Room, UserId,
    },
    store::{
        Change, MessageSearch, MessageStore, ReactOutcome, ReactionChange, RoomSummary,
        SendOutcome, SendRequest, StoreError, StoreResult,
    },
    time::to_iso,
};

/// Every column of a message, `readBy` included (as a JSON array in reading order). Only group
/// messages have read receipts: a private message skips the subquery (and its sort).
const COLUMNS: &str = "m.id, m.message_id, m.chat_room_id, m.chat_type, m.sender, m.receiver, \
    m.group_id, m.message, m.attachment, m.status, m.client_message_id, m.created_at, \
    m.updated_at, CASE WHEN m.chat_type = 'GROUP' THEN (SELECT json_group_array(user_id) \
    FROM (SELECT r.user_id FROM message_reads r WHERE r.message_id = m.id ORDER BY r.rowid)) \
    ELSE '[]' END AS read_by, m.edited_at, m.deleted_at, \
    CASE WHEN EXISTS (SELECT 1 FROM message_reactions x WHERE x.message_id = m.id) \
    THEN (SELECT json_group_array(json_array(emoji, user_id)) FROM (SELECT x.emoji, x.user_id \
    FROM message_reactions x WHERE x.message_id = m.id ORDER BY x.rowid)) ELSE '[]' END \
    AS reactions, CASE WHEN m.reply_to IS NULL THEN NULL ELSE (SELECT json_object( \
    'messageId', q.message_id, 'sender', q.sender, 'message', q.message, \
    'deleted', json(CASE WHEN q.deleted_at IS NULL THEN 'false' ELSE 'true' END)) \
    FROM messages q WHERE q.message_id = m.reply_to) END AS reply_to";

/// The number of columns in `COLUMNS` (a room summary's unread count follows them).
const COLUMN_COUNT: usize = 18;

/// The private rooms of user `?1`, newest first: their conversation rows and latest messages.
pub(crate) fn private_rooms_sql() -> String {
    format!(
        "SELECT {COLUMNS}, c.unread FROM conversations c JOIN messages m ON m.id = c.last_message \
         WHERE c.user_id = ?1 ORDER BY c.last_at DESC, c.last_message DESC"
    )
}

/// Moves `user`'s row of a private conversation to `message` (when it is the latest) and adds
/// `unread` to its count.
fn touch_conversation(
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
fn read_in_conversation(
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
    execute(
        conn,
        "WITH parts AS ( \
           SELECT sender AS user_id, chat_room_id, id, created_at, 0 AS unread_one \
             FROM messages WHERE chat_type = 'PRIVATE' \
           UNION ALL \
           SELECT receiver, chat_room_id, id, created_at, status <> 'READ' AND deleted_at IS NULL \
             FROM messages WHERE chat_type = 'PRIVATE'), \
         ranked AS ( \
           SELECT user_id, chat_room_id, id, created_at, \
             ROW_NUMBER() OVER (PARTITION BY user_id, chat_room_id \
                                ORDER BY created_at DESC, id DESC) AS rn, \
             SUM(unread_one) OVER (PARTITION BY user_id, chat_room_id) AS unread \
           FROM parts) \
         INSERT INTO conversations (user_id, chat_room_id, last_message, last_at, unread) \
         SELECT user_id, chat_room_id, id, created_at, unread FROM ranked WHERE rn = 1",
        [],
    )?;
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
    edited_at: Option<String>,
    deleted_at: Option<String>,
    reactions: String,
    reply_to: Option<String>,
}

impl MessageRow {
    /// Reads the columns of `COLUMNS`, in order.
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            message_id: row.get(1)?,
            chat_room_id: row.get(2)?,
            chat_type: row.get(3)?,
            sender: row.get(4)?,
            receiver: row.get(5)?,
            group_id: row.get(6)?,
            message: row.get(7)?,
            attachment: row.get(8)?,
            status: row.get(9)?,
            client_message_id: row.get(10)?,
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            read_by: row.get(13)?,
            edited_at: row.get(14)?,
            deleted_at: row.get(15)?,
            reactions: row.get(16)?,
            reply_to: row.get(17)?,
        })
    }

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
            edited_at: self
                .edited_at
                .map(|at| parse_time("messages.edited_at", &at))
                .transpose()?,
            deleted: self.deleted_at.is_some(),
            deleted_at: self
                .deleted_at
                .map(|at| parse_time("messages.deleted_at", &at))
                .transpose()?,
            reactions: parse_reactions(&self.reactions)?,
            reply_to: self
                .reply_to
                .map(|json| {
                    serde_json::from_str::<ReplyPreview>(&json)
                        .map(|quoted| ReplyPreview {
                            message: preview_text(&quoted.message),
                            ..quoted
                        })
                        .map_err(|_| StoreError::Backend("corrupt messages.reply_to".into()))
                })
                .transpose()?,
        })
    }
}

/// The `[[emoji, userId], …]` pairs of `COLUMNS`, grouped per emoji.
fn parse_reactions(json: &str) -> StoreResult<Vec<Reaction>> {
    let pairs: Vec<(String, String)> = serde_json::from_str(json)
        .map_err(|_| StoreError::Backend("corrupt message_reactions list in database".into()))?;
    let pairs = pairs
        .into_iter()
        .map(|(emoji, user)| Ok((emoji, parse_column("message_reactions.user_id", &user)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Reaction::group(pairs))
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

fn load(conn: &Connection, id: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.id = ?");
    optional(conn, &sql, [id], MessageRow::read)?
        .map(MessageRow::into_message)
        .transpose()
}

fn messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(MessageRow::into_message).collect()
}

fn find_by_client_id(
    conn: &Connection,
    sender: UserId,
    client_message_id: &str,
) -> StoreResult<Option<Message>> {
    let sql =
        format!("SELECT {COLUMNS} FROM messages m WHERE m.sender = ? AND m.client_message_id = ?");
    optional(
        conn,
        &sql,
        params![sender.to_hex(), client_message_id],
        MessageRow::read,
    )?
    .map(MessageRow::into_message)
    .transpose()
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
            message.attachment,
            message.status.as_str(),
            message.client_message_id,
            to_iso(&message.created_at),
            to_iso(&message.updated_at),
            message.reply_to.as_ref().map(|quoted| &quoted.message_id),
        ],
    )?;
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
fn send(conn: &Connection, request: SendRequest) -> StoreResult<SendOutcome> {
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
fn edit(
    conn: &Connection,
    id: MessageOid,
    text: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Message>> {
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
fn delete(
    conn: &Connection,
    id: MessageOid,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Message, bool)>> {
    let Some(before) = load(conn, &id.to_hex())? else {
        return Ok(None);
    };
    if before.deleted {
        return Ok(Some((before, false)));
    }
    execute(
        conn,
        "UPDATE messages SET message = '', attachment = NULL, deleted_at = ?, updated_at = ? \
         WHERE id = ?",
        params![to_iso(&now), to_iso(&now), id.to_hex()],
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

/// The search of `search_messages` (public for the query-plan test and benchmark): `?1` the FTS5
/// match expression (words and conversations, see `match_expression`), `?2` the limit.
pub fn search_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM messages_fts f JOIN messages m ON m.rowid = f.rowid \
         WHERE messages_fts MATCH ?1 AND m.deleted_at IS NULL \
         ORDER BY m.created_at DESC, m.id DESC LIMIT ?2"
    )
}

fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// Every term as a prefix of a word of the text, and the conversation among `conversations`
/// (each a list of participant tokens that must all be there).
fn match_expression(terms: &[String], conversations: &[Vec<String>]) -> String {
    let words = terms
        .iter()
        .map(|term| format!("{}*", quoted(term)))
        .collect::<Vec<_>>()
        .join(" ");
    let within = conversations
        .iter()
        .map(|tokens| {
            let all: Vec<String> = tokens.iter().map(|token| quoted(token)).collect();
            format!("({})", all.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    format!("message : ({words}) AND participants : ({within})")
}

/// The conversations a search covers, as participant tokens: one room, or the user's private
/// chats (their own id is in every one of them) and active groups.
fn search_scope(conn: &Connection, search: &MessageSearch) -> StoreResult<Vec<Vec<String>>> {
    Ok(match search.room {
        Some(Room::Private(pair)) => {
            let [a, b] = pair.users();
            vec![vec![a.to_hex(), b.to_hex()]]
        }
        Some(Room::Group(group)) => vec![vec![group.to_hex()]],
        Some(_) => Vec::new(),
        None => {
            let mut scope = vec![vec![search.user.to_hex()]];
            let groups = all(
                conn,
                "SELECT gm.group_id FROM group_members gm JOIN groups g ON g.id = gm.group_id \
                 WHERE gm.user_id = ? AND g.is_active = 1",
                [search.user.to_hex()],
                |row| row.get::<_, String>(0),
            )?;
            scope.extend(groups.into_iter().map(|group| vec![group]));
            scope
        }
    })
}

/// Indexes every message already in the file (a file from before the search index).
pub(crate) fn index_for_search(conn: &Connection) -> StoreResult<()> {
    execute(
        conn,
        "INSERT INTO messages_fts (rowid, message, participants) \
         SELECT rowid, message, COALESCE(group_id, sender || ' ' || receiver) FROM messages",
        [],
    )?;
    Ok(())
}

/// `mark_group_read` as one operation of the writer.
fn mark_group_read(
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
fn react(conn: &Connection, change: &ReactionChange) -> StoreResult<ReactOutcome> {
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

#[async_trait]
impl MessageStore for SqliteStore {
    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.engine()
            .write(move |conn| edit(conn, id, &text, now))
            .await
    }

    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(Message, bool)>> {
        self.engine().write(move |conn| delete(conn, id, now)).await
    }

    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| mark_group_read(conn, group, reader, now))
            .await
    }

    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>> {
        self.engine()
            .read(move |conn| {
                let scope = search_scope(conn, &search)?;
                if scope.is_empty() {
                    return Ok(Vec::new());
                }
                let expression = match_expression(&search.terms, &scope);
                messages(all(
                    conn,
                    &search_sql(),
                    params![expression, i64::from(search.limit)],
                    MessageRow::read,
                )?)
            })
            .await
    }

    async fn react(&self, change: ReactionChange) -> StoreResult<ReactOutcome> {
        self.engine().write(move |conn| react(conn, &change)).await
    }

    async fn insert_message(&self, message: Message) -> StoreResult<()> {
        self.engine()
            .write(move |conn| insert(conn, &message))
            .await
    }

    async fn send_message(&self, request: SendRequest) -> StoreResult<SendOutcome> {
        self.engine().write(move |conn| send(conn, request)).await
    }

    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>> {
        let message_id = message_id.to_owned();
        self.engine()
            .read(move |conn| {
                let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.message_id = ?");
                optional(conn, &sql, [message_id], MessageRow::read)?
                    .map(MessageRow::into_message)
                    .transpose()
            })
            .await
    }

    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        let client_message_id = client_message_id.to_owned();
        self.engine()
            .read(move |conn| find_by_client_id(conn, sender, &client_message_id))
            .await
    }

    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.engine()
            .write(move |conn| {
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
            })
            .await
    }

    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| {
                // `status <> 'READ'` lets the planner use `messages_unread`.
                let sql = format!(
                    "UPDATE messages SET status = ?, updated_at = ? WHERE chat_room_id = ? \
                     AND sender = ? AND status <> 'READ' AND {STATUS_RANK} < ? \
                     RETURNING id, deleted_at IS NULL"
                );
                let ids = all(
                    conn,
                    &sql,
                    params![
                        status.as_str(),
                        to_iso(&now),
                        Room::private(sender, receiver).to_string(),
                        sender.to_hex(),
                        rank(status)
                    ],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
                )?;
                // Deleted messages were not counted as unread.
                let counted = ids.iter().filter(|(_, live)| *live).count();
                if status == MessageStatus::Read && counted > 0 {
                    let room = Room::private(sender, receiver);
                    read_in_conversation(conn, receiver, &room, counted)?;
                }
                for (id, _) in &ids {
                    if let Some(message) = load(conn, id)? {
                        record(conn, &Change::MessageUpdated(message), now)?;
                    }
                }
                Ok(ids.len() as u64)
            })
            .await
    }

    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let chat_room_id = room.to_string();
        self.engine()
            .read(move |conn| {
                let base = format!("SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ?");
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
                        // Strictly older, newest first; or strictly newer, oldest first.
                        let (beyond, order) = match window {
                            HistoryWindow::After(_) => (">", "ASC"),
                            _ => ("<", "DESC"),
                        };
                        let sql = format!(
                            "{base} AND (m.created_at {beyond} ? OR (m.created_at = ? \
                             AND m.id {beyond} ?)) ORDER BY m.created_at {order}, m.id {order} \
                             LIMIT ?"
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
            })
            .await
    }

    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64> {
        let chat_room_id = room.to_string();
        self.engine()
            .read(move |conn| {
                one(
                    conn,
                    "SELECT COUNT(*) FROM messages WHERE chat_room_id = ?",
                    [chat_room_id],
                    |row| row.get::<_, i64>(0),
                )
                .map(count)
            })
            .await
    }

    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>> {
        self.engine()
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM messages m WHERE m.chat_room_id = ? AND m.sender = ? \
                     AND m.status <> 'READ' AND m.status = 'SENT' \
                     ORDER BY m.created_at ASC, m.id ASC"
                );
                messages(all(
                    conn,
                    &sql,
                    params![Room::private(sender, receiver).to_string(), sender.to_hex()],
                    MessageRow::read,
                )?)
            })
            .await
    }

    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        self.engine()
            .read(move |conn| {
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
            })
            .await
    }

    async fn private_rooms(&self, user: UserId) -> StoreResult<Vec<RoomSummary>> {
        self.engine()
            .read(move |conn| {
                summaries(all(
                    conn,
                    &private_rooms_sql(),
                    [user.to_hex()],
                    read_summary,
                )?)
            })
            .await
    }

    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let mut values: Vec<Value> = groups.iter().map(|g| Value::Text(g.to_hex())).collect();
        values.push(Value::Text(user.to_hex()));
        values.push(Value::Text(user.to_hex()));
        let group_count = groups.len();
        self.engine()
            .read(move |conn| {
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
                    groups = placeholders(group_count)
                );
                summaries(all(conn, &sql, params_from_iter(values), read_summary)?)
            })
            .await
    }
}

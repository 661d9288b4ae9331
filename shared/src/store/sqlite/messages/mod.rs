//! Messages on SQLite: the row mapping every query shares (`COLUMNS`, `MessageRow`) and the port's
//! `MessageStore` methods, each one read or one writer operation from the module of its job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};

use super::{optional, parse_column, parse_id_list, parse_time, SqliteStore};
use crate::{
    model::{
        preview_text, ChatType, GroupId, HistoryWindow, Message, MessageAttachment, MessageOid,
        MessageStatus, Reaction, ReplyPreview, Room, UserId,
    },
    store::{
        MessageSearch, MessageStore, ReactOutcome, ReactionChange, RoomSummary, RoomsPage,
        SendOutcome, SendRequest, StoreError, StoreResult,
    },
};

mod conversations;
mod erasure;
mod history;
mod search;
mod writes;

pub(crate) use conversations::{conversations_missing, private_rooms_sql, rebuild_conversations};
pub(crate) use history::room_page_sql;
pub use search::{index_for_search, search_sql};

/// Every column of a message, `readBy` included (as a JSON array in reading order). Only group
/// messages have read receipts: a private message skips the subquery (and its sort).
pub(super) const COLUMNS: &str =
    "m.id, m.message_id, m.chat_room_id, m.chat_type, m.sender, m.receiver, \
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
    FROM messages q WHERE q.message_id = m.reply_to) END AS reply_to, m.removed_by";

/// `messages.removed_by` of a tombstone a moderator made.
pub(super) const REMOVED_BY_MODERATOR: &str = "moderator";

/// The number of columns in `COLUMNS` (a room summary's unread count follows them).
pub(super) const COLUMN_COUNT: usize = 19;

/// The `attachment` column: the seed's URL as it is, a stored file as its JSON object (a URL never
/// starts with `{`, so old rows need no migration).
pub(super) fn attachment_column(attachment: Option<&MessageAttachment>) -> Option<String> {
    match attachment? {
        MessageAttachment::Link(url) => Some(url.clone()),
        file @ MessageAttachment::File(_) => serde_json::to_string(file).ok(),
    }
}

fn attachment_from_column(text: String) -> StoreResult<MessageAttachment> {
    if text.starts_with('{') {
        serde_json::from_str(&text)
            .map_err(|_| StoreError::Backend("corrupt messages.attachment".into()))
    } else {
        Ok(MessageAttachment::Link(text))
    }
}

pub(super) struct MessageRow {
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
    removed_by: Option<String>,
}

impl MessageRow {
    /// Reads the columns of `COLUMNS`, in order.
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
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
            removed_by: row.get(18)?,
        })
    }

    pub(super) fn into_message(self) -> StoreResult<Message> {
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
            attachment: self.attachment.map(attachment_from_column).transpose()?,
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
            removed_by_moderator: self.removed_by.as_deref() == Some(REMOVED_BY_MODERATOR),
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

pub(super) fn load(conn: &Connection, id: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM messages m WHERE m.id = ?");
    optional(conn, &sql, [id], MessageRow::read)?
        .map(MessageRow::into_message)
        .transpose()
}

pub(super) fn messages(rows: Vec<MessageRow>) -> StoreResult<Vec<Message>> {
    rows.into_iter().map(MessageRow::into_message).collect()
}

pub(super) fn find_by_client_id(
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

#[async_trait]
impl MessageStore for SqliteStore {
    async fn send_message(&self, request: SendRequest) -> StoreResult<SendOutcome> {
        self.engine()
            .write(move |conn| writes::send(conn, request))
            .await
    }

    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.engine()
            .write(move |conn| writes::edit(conn, id, &text, now))
            .await
    }

    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
        by_moderator: bool,
    ) -> StoreResult<Option<(Message, bool)>> {
        self.engine()
            .write(move |conn| writes::delete(conn, id, now, by_moderator))
            .await
    }

    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| writes::mark_group_read(conn, group, reader, now))
            .await
    }

    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>> {
        self.engine()
            .read(move |conn| search::search(conn, &search))
            .await
    }

    async fn react(&self, change: ReactionChange) -> StoreResult<ReactOutcome> {
        self.engine()
            .write(move |conn| writes::react(conn, &change))
            .await
    }

    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>> {
        let message_id = message_id.to_owned();
        self.engine()
            .read(move |conn| history::find(conn, &message_id))
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
            .write(move |conn| writes::advance_message(conn, id, status, reader, now))
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
            .write(move |conn| writes::advance_conversation(conn, sender, receiver, status, now))
            .await
    }

    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let room = *room;
        self.engine()
            .read(move |conn| history::room_messages(conn, &room, window, limit))
            .await
    }

    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64> {
        let room = *room;
        self.engine()
            .read(move |conn| history::count_room_messages(conn, &room))
            .await
    }

    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>> {
        self.engine()
            .read(move |conn| history::undelivered(conn, sender, receiver))
            .await
    }

    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        self.engine()
            .read(move |conn| conversations::contacts_of(conn, user))
            .await
    }

    async fn private_rooms(&self, user: UserId, page: RoomsPage) -> StoreResult<Vec<RoomSummary>> {
        self.engine()
            .read(move |conn| conversations::private_rooms(conn, user, &page))
            .await
    }

    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>> {
        let groups = groups.to_vec();
        self.engine()
            .read(move |conn| conversations::group_rooms(conn, user, &groups))
            .await
    }

    async fn erase_messages_of(
        &self,
        user: UserId,
        keep_tombstones: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.engine()
            .write(move |conn| erasure::erase(conn, user, keep_tombstones, now))
            .await
    }

    async fn messages_sent_by(
        &self,
        sender: UserId,
        after: Option<MessageOid>,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.engine()
            .read(move |conn| erasure::sent_by(conn, sender, after, limit))
            .await
    }
}

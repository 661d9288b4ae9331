//! The messages port: sends, edits, deletes, reactions, receipts, search, history and the
//! conversation lists built from them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{RateLimitHit, StoreResult};
use crate::model::{GroupId, HistoryWindow, Message, MessageOid, MessageStatus, Room, UserId};

/// The latest message of one conversation and how many of its messages the reader has not read.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSummary {
    pub chat_room_id: Room,
    pub latest: Message,
    pub unread: u64,
}

/// A page of a rooms list: conversations whose latest activity is older than `before` (or at
/// `before` with a `chatRoomId` below `before_room`), at most `limit` of them; ordered by latest
/// activity, then `chatRoomId`, both descending. The default: every conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomsPage {
    pub before: Option<DateTime<Utc>>,
    pub before_room: Option<String>,
    pub limit: Option<u32>,
}

impl RoomsPage {
    /// This page of a list built in memory (the group rooms; the adapters read the private rooms'
    /// page with the same rule in their query): `rooms` ordered by latest activity, then by
    /// `chatRoomId`, both descending, from the cursor on, at most `limit`.
    pub fn of<T>(
        &self,
        mut rooms: Vec<T>,
        activity: impl Fn(&T) -> DateTime<Utc>,
        id: impl Fn(&T) -> String,
    ) -> Vec<T> {
        rooms.sort_by(|a, b| {
            activity(b)
                .cmp(&activity(a))
                .then_with(|| id(b).cmp(&id(a)))
        });
        let limit = self.limit.map_or(usize::MAX, |limit| limit as usize);
        let after_cursor = |room: &T| match (self.before, &self.before_room) {
            (None, _) => true,
            (Some(before), None) => activity(room) < before,
            (Some(before), Some(last)) => {
                let at = activity(room);
                at < before || (at == before && id(room) < *last)
            }
        };
        rooms
            .into_iter()
            .filter(|room| after_cursor(room))
            .take(limit)
            .collect()
    }
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// One send, checked and written together (one transaction on SQLite): a message the sender
    /// already sent under the same `clientMessageId` is answered instead; then the rate-limit
    /// hit, the receiver (or the sender's group membership), the message and its feed event.
    async fn send_message(&self, send: SendRequest) -> StoreResult<SendOutcome>;
    async fn find_message(&self, message_id: &str) -> StoreResult<Option<Message>>;
    /// Replaces the text of a message that is not deleted (and sets `editedAt`); `None` when the
    /// message is gone or deleted.
    async fn edit_message(
        &self,
        id: MessageOid,
        text: String,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// Turns a message into a tombstone (text, attachment and reactions removed, `deletedAt`
    /// set, `removedByModerator` when `by_moderator`); the message after it, and whether this
    /// call deleted it (false: it already was).
    async fn delete_message(
        &self,
        id: MessageOid,
        now: DateTime<Utc>,
        by_moderator: bool,
    ) -> StoreResult<Option<(Message, bool)>>;
    /// Marks every message of `group` from someone else that `reader` has not read (and that is
    /// not deleted) as read by them; how many changed. Each is a `MessageUpdated` on the feed.
    async fn mark_group_read(
        &self,
        group: GroupId,
        reader: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Full-text search (SPEC §7): messages that contain every term (SQLite: as a word or a word's
    /// start; MongoDB: as a word), in the conversations `search.user` takes part in (or only
    /// `search.room`), never deleted ones, newest first, at most `search.limit`. The restriction to
    /// the user's conversations is part of the query, served by the full-text index.
    async fn search_messages(&self, search: MessageSearch) -> StoreResult<Vec<Message>>;
    /// Adds or removes `user`'s `emoji` on a message that is not deleted. Idempotent; a new
    /// emoji beyond `max_distinct` is refused.
    async fn react(&self, reaction: ReactionChange) -> StoreResult<ReactOutcome>;
    async fn find_message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: &str,
    ) -> StoreResult<Option<Message>>;
    /// Moves one message forward to `status` and, for a group READ, adds `reader` to `readBy`.
    /// Atomic and forward-only: returns the updated message, or `None` when nothing changed.
    async fn advance_message(
        &self,
        id: MessageOid,
        status: MessageStatus,
        reader: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;
    /// Moves every private message from `sender` to `receiver` that is behind `status` up to it;
    /// returns how many changed.
    async fn advance_conversation(
        &self,
        sender: UserId,
        receiver: UserId,
        status: MessageStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// A room's messages in the window (newest first, or oldest first for `After`), at most `limit`.
    async fn room_messages(
        &self,
        room: &Room,
        window: HistoryWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    async fn count_room_messages(&self, room: &Room) -> StoreResult<u64>;
    /// Private messages from `sender` to `receiver` still in status SENT, oldest first.
    async fn undelivered_messages(
        &self,
        sender: UserId,
        receiver: UserId,
    ) -> StoreResult<Vec<Message>>;
    /// The user's private conversations: latest message and unread count (messages to the user
    /// not yet READ), most recent first. Computed by the database.
    async fn private_rooms(&self, user: UserId, page: RoomsPage) -> StoreResult<Vec<RoomSummary>>;
    /// The user's contacts: everyone they have a private conversation with (a message either way)
    /// or an active group in common, without the user and without anyone the user blocks.
    /// Presence goes to these only.
    async fn contacts_of(&self, user: UserId) -> StoreResult<Vec<UserId>>;
    /// For each of `groups`: the latest message and how many messages from others the user has not
    /// read (not in `readBy`). Groups without messages are left out.
    async fn group_rooms(&self, user: UserId, groups: &[GroupId]) -> StoreResult<Vec<RoomSummary>>;
    /// Removes what an account being deleted left in messages: the messages it sent (erased, or
    /// kept as tombstones when `keep_tombstones`), its reactions and read receipts, and, on the
    /// embedded adapter, the feed events that carried its messages. Conversation lists follow.
    /// How many of its messages were erased or emptied.
    async fn erase_messages_of(
        &self,
        user: UserId,
        keep_tombstones: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Messages `sender` sent, oldest first (by `_id`), after `after` when given, at most `limit`
    /// (the data export pages through them).
    async fn messages_sent_by(
        &self,
        sender: UserId,
        after: Option<MessageOid>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
}

/// What `search_messages` looks for.
#[derive(Debug, Clone)]
pub struct MessageSearch {
    pub user: UserId,
    /// Words (letters and digits only), all of which must match.
    pub terms: Vec<String>,
    /// Only this conversation (the caller's own, checked by the service).
    pub room: Option<Room>,
    pub limit: u32,
}

/// One reaction added or removed.
#[derive(Debug, Clone)]
pub struct ReactionChange {
    pub message: MessageOid,
    pub emoji: String,
    pub user: UserId,
    pub add: bool,
    pub max_distinct: usize,
    pub now: DateTime<Utc>,
}

/// What `react` did.
#[derive(Debug, Clone, PartialEq)]
pub enum ReactOutcome {
    /// The message after the call (for a repeat: as it was).
    Done(Box<Message>),
    /// A new emoji on a message that already has `max_distinct`.
    TooMany,
    /// No such message, or it is deleted.
    Gone,
}

/// What `send_message` is asked to do; the service has validated it and made the message.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub message: Message,
    pub rate_limit: RateLimitHit,
}

/// What `send_message` did. Only `Created` stored a message.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Created(Message),
    /// The sender already sent a message with this `clientMessageId`: that message.
    Repeated(Message),
    RateLimited,
    ReceiverMissing,
    /// The receiver blocks the sender.
    Blocked,
    /// No active group with that id.
    GroupMissing,
    NotAMember,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_at_the_same_millisecond_are_neither_skipped_nor_repeated_across_pages() {
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).expect("time");
        // Five rooms, three of them at the same instant.
        let rooms = vec![("a", 10), ("b", 20), ("c", 20), ("d", 20), ("e", 5)];
        let mut page = RoomsPage {
            limit: Some(2),
            ..RoomsPage::default()
        };
        let mut seen = Vec::new();
        loop {
            let rooms = page.of(rooms.clone(), |room| at(room.1), |room| room.0.to_owned());
            let Some(last) = rooms.last() else { break };
            page.before = Some(at(last.1));
            page.before_room = Some(last.0.to_owned());
            seen.extend(rooms.iter().map(|room| room.0));
        }
        assert_eq!(seen, ["d", "c", "b", "a", "e"]);
    }
}

//! Which client events a feed change becomes, with their payloads and recipients: the one mapping
//! both transports deliver (socket.io rooms on every node, API Gateway connections through
//! PostToConnection), so an event added here reaches both.

use std::borrow::Cow;

use serde_json::{json, Value};

use super::event;
use crate::{
    dto::chat::{MessageDeleted, MessageReactions},
    model::{ChatType, Message, Room, UserId},
    store::{Change, PresenceChange},
};

/// Who an outbound event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// The user's contacts (`contacts_of`): presence is for them only.
    ContactsOf(UserId),
    /// The connections in `room` (a user's own, a group, or a private chat some joined), minus
    /// those in `except`.
    Room { room: Room, except: Option<Room> },
}

/// One event for clients: its name, its payload and who gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub event: Cow<'static, str>,
    pub payload: Value,
    pub to: Recipients,
}

impl Outbound {
    fn to_room(event: &'static str, payload: Value, room: Room, except: Option<Room>) -> Self {
        Self {
            event: Cow::Borrowed(event),
            payload,
            to: Recipients::Room { room, except },
        }
    }
}

/// The client events of one change (none for a change clients do not hear about, such as a group
/// edit, which only moves sockets between rooms).
pub fn client_events(change: &Change) -> Vec<Outbound> {
    match change {
        Change::MessageCreated(message) => new_message(message).into_iter().collect(),
        Change::MessageUpdated(message) => vec![Outbound::to_room(
            event::MESSAGE_STATUS,
            to_payload(message),
            Room::User(message.sender),
            None,
        )],
        Change::MessageEdited(message) => {
            to_conversation(event::MESSAGE_EDITED, to_payload(message), message)
        }
        Change::MessageDeleted(message) => to_conversation(
            event::MESSAGE_DELETED,
            to_payload(MessageDeleted::from(message)),
            message,
        ),
        Change::ReactionsChanged(message) => to_conversation(
            event::MESSAGE_REACTIONS,
            to_payload(MessageReactions::from(message)),
            message,
        ),
        Change::GroupChanged(_) => Vec::new(),
        // The session's sockets hear why before the transport closes them.
        Change::SessionEnded(session) => vec![Outbound::to_room(
            event::SESSION_ENDED,
            json!({ "message": "Your session has ended; log in again" }),
            Room::Session(*session),
            None,
        )],
        Change::Presence(presence) => vec![Outbound {
            event: Cow::Borrowed(if presence.is_online {
                event::USER_ONLINE
            } else {
                event::USER_OFFLINE
            }),
            payload: presence_payload(presence),
            to: Recipients::ContactsOf(presence.user_id),
        }],
        Change::Signal(signal) => vec![Outbound {
            event: Cow::Owned(signal.event.clone()),
            payload: signal.data.clone(),
            to: Recipients::Room {
                room: signal.room,
                except: signal.except,
            },
        }],
    }
}

/// A private message goes to the receiver's sockets; a group message to the group room, minus the
/// sender's own sockets.
fn new_message(message: &Message) -> Option<Outbound> {
    match (message.chat_type, message.receiver, message.group_id) {
        (ChatType::Private, Some(receiver), _) => Some(Outbound::to_room(
            event::MESSAGE_RECEIVED,
            to_payload(message),
            Room::User(receiver),
            None,
        )),
        (ChatType::Group, _, Some(group)) => Some(Outbound::to_room(
            event::GROUP_MESSAGE_RECEIVED,
            to_payload(message),
            Room::Group(group),
            Some(Room::User(message.sender)),
        )),
        _ => None,
    }
}

/// `event` for everyone in the message's conversation, the author's other devices included.
fn to_conversation(event: &'static str, payload: Value, message: &Message) -> Vec<Outbound> {
    message
        .conversation_rooms()
        .into_iter()
        .map(|room| Outbound::to_room(event, payload.clone(), room, None))
        .collect()
}

fn to_payload(body: impl serde::Serialize) -> Value {
    serde_json::to_value(body).unwrap_or(Value::Null)
}

/// `userOnline {userId}` / `userOffline {userId, lastSeen}`.
fn presence_payload(presence: &PresenceChange) -> Value {
    if presence.is_online {
        json!({ "userId": presence.user_id })
    } else {
        json!({ "userId": presence.user_id, "lastSeen": crate::time::to_iso(&presence.last_seen) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, MessageOid, MessageStatus};

    fn message(chat_type: ChatType, receiver: Option<UserId>, group: Option<GroupId>) -> Message {
        let sender = UserId::new();
        let now = crate::time::now();
        Message {
            id: MessageOid::new(),
            chat_room_id: match (receiver, group) {
                (Some(receiver), _) => Room::private(sender, receiver),
                (_, Some(group)) => Room::Group(group),
                _ => Room::User(sender),
            },
            message_id: "m".into(),
            chat_type,
            sender,
            receiver,
            group_id: group,
            message: "hi".into(),
            attachment: None,
            status: MessageStatus::Sent,
            read_by: Vec::new(),
            client_message_id: None,
            created_at: now,
            updated_at: now,
            edited_at: None,
            deleted: false,
            deleted_at: None,
            removed_by_moderator: false,
            reactions: Vec::new(),
            reply_to: None,
        }
    }

    #[test]
    fn edits_deletions_and_reactions_reach_both_sides_of_a_private_chat() {
        let receiver = UserId::new();
        let mut changed = message(ChatType::Private, Some(receiver), None);
        changed.deleted = true;
        changed.deleted_at = Some(crate::time::now());
        for (change, name) in [
            (
                Change::MessageEdited(changed.clone()),
                event::MESSAGE_EDITED,
            ),
            (
                Change::MessageDeleted(changed.clone()),
                event::MESSAGE_DELETED,
            ),
            (
                Change::ReactionsChanged(changed.clone()),
                event::MESSAGE_REACTIONS,
            ),
        ] {
            let events = client_events(&change);
            let rooms: Vec<_> = events.iter().map(|e| e.to.clone()).collect();
            assert_eq!(
                rooms,
                vec![
                    Recipients::Room {
                        room: Room::User(changed.sender),
                        except: None
                    },
                    Recipients::Room {
                        room: Room::User(receiver),
                        except: None
                    },
                ]
            );
            assert!(events.iter().all(|e| e.event == name));
            assert_eq!(events[0].payload["messageId"], "m");
        }
        let deleted = client_events(&Change::MessageDeleted(changed.clone()));
        assert!(deleted[0].payload["deletedAt"].is_string());
        assert!(
            deleted[0].payload.get("message").is_none(),
            "no text in a deletion"
        );
    }

    #[test]
    fn a_group_message_skips_the_senders_own_sockets() {
        let group = GroupId::new();
        let sent = message(ChatType::Group, None, Some(group));
        let events = client_events(&Change::MessageCreated(sent.clone()));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, event::GROUP_MESSAGE_RECEIVED);
        assert_eq!(
            events[0].to,
            Recipients::Room {
                room: Room::Group(group),
                except: Some(Room::User(sent.sender))
            }
        );
        assert_eq!(events[0].payload["messageId"], "m");
    }

    #[test]
    fn a_status_change_goes_back_to_the_sender() {
        let receiver = UserId::new();
        let updated = message(ChatType::Private, Some(receiver), None);
        let events = client_events(&Change::MessageUpdated(updated.clone()));
        assert_eq!(events[0].event, event::MESSAGE_STATUS);
        assert_eq!(
            events[0].to,
            Recipients::Room {
                room: Room::User(updated.sender),
                except: None
            }
        );
    }

    #[test]
    fn going_offline_tells_everyone_when() {
        let user = UserId::new();
        let at = crate::time::now();
        let events = client_events(&Change::Presence(PresenceChange {
            user_id: user,
            is_online: false,
            last_seen: at,
        }));
        assert_eq!(events[0].event, event::USER_OFFLINE);
        assert_eq!(events[0].to, Recipients::ContactsOf(user));
        assert_eq!(events[0].payload["lastSeen"], crate::time::to_iso(&at));
    }
}

//! What a realtime client may ask, on either channel: socket.io events on `/chat`, and API Gateway
//! WebSocket frames `{"action": <event>, ...payload}`. Each action reads its payload like a request
//! body, calls the shared service and says what to answer. A new client event is added here once
//! and both transports serve it.

use serde::Serialize;
use serde_json::{json, Value};

use super::{audience::about, event};
use crate::{
    auth::CurrentUser,
    dto::{
        chat::{CreateMessageRequest, EditMessageRequest, FetchMessagesRequest},
        decode,
        realtime::{GroupCallIncoming, GroupCallRequest},
    },
    error::AppError,
    model::{parse_id, GroupId, MessageStatus, Room, UserId},
    service::{access, message_changes, messages, presence, rate_limit},
    AppContext,
};

/// Whether an action only signals other users (no stored data): those share
/// `SIGNAL_RATE_LIMIT`, since each is a feed write and a fan-out to every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Signal,
}

/// The one table of client → server events: each row is a variant, its wire name and its kind.
/// `Action::run` matches every variant, so an action without a handler does not compile.
macro_rules! actions {
    ($($variant:ident = $name:literal, $kind:ident;)*) => {
        /// A client → server event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action {
            $($variant),*
        }

        impl Action {
            /// Every action, in the seed's order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The event's name on the wire.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name),*
                }
            }

            pub fn kind(self) -> Kind {
                match self {
                    $(Action::$variant => Kind::$kind),*
                }
            }
        }

        /// Every client → server event name, in the seed's order.
        pub const ACTIONS: &[&str] = &[$($name),*];
    };
}

actions! {
    SendMessage = "sendMessage", Request;
    MessageDelivered = "messageDelivered", Request;
    MessageRead = "messageRead", Request;
    FetchMessages = "fetchMessages", Request;
    GetGroupMessages = "getGroupMessages", Request;
    UserTyping = "userTyping", Signal;
    UserStoppedTyping = "userStoppedTyping", Signal;
    GetUserStatus = "getUserStatus", Request;
    UpdateLastSeen = "updateLastSeen", Request;
    JoinPrivateChat = "joinPrivateChat", Signal;
    LeavePrivateChat = "leavePrivateChat", Signal;
    JoinGroup = "joinGroup", Signal;
    LeaveGroup = "leaveGroup", Signal;
    GroupCall = "groupCall", Signal;
    EditMessage = "editMessage", Request;
    DeleteMessage = "deleteMessage", Request;
    AddReaction = "addReaction", Request;
    RemoveReaction = "removeReaction", Request;
}

impl Action {
    /// The action a client named, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|action| action.name() == name)
    }

    /// Runs this action for `caller` with its payload.
    async fn run(
        self,
        ctx: &AppContext,
        caller: CurrentUser,
        payload: Value,
    ) -> Result<Answer, AppError> {
        match self {
            Action::SendMessage => send_message(ctx, caller, payload).await,
            Action::MessageDelivered => mark(ctx, caller, &payload, MessageStatus::Delivered).await,
            Action::MessageRead => mark(ctx, caller, &payload, MessageStatus::Read).await,
            Action::FetchMessages => fetch(ctx, caller, payload, event::MESSAGES_FETCHED).await,
            Action::GetGroupMessages => {
                id::<GroupId>(&payload, "groupId")?;
                fetch(ctx, caller, payload, event::GROUP_MESSAGES_FETCHED).await
            }
            Action::UserTyping => typing(ctx, caller, &payload, event::USER_TYPING).await,
            Action::UserStoppedTyping => {
                typing(ctx, caller, &payload, event::USER_STOPPED_TYPING).await
            }
            Action::GetUserStatus => {
                let user: UserId = id(&payload, "userId")?;
                Answer::emit(
                    event::USER_STATUS,
                    presence::online_status(ctx, caller, user).await?,
                )
            }
            Action::UpdateLastSeen => {
                Answer::ack(presence::touch_last_seen(ctx, caller, caller.id).await?)
            }
            Action::JoinPrivateChat => private_chat(ctx, caller, &payload, true).await,
            Action::LeavePrivateChat => private_chat(ctx, caller, &payload, false).await,
            Action::JoinGroup => group_room(ctx, caller, &payload, true).await,
            Action::LeaveGroup => group_room(ctx, caller, &payload, false).await,
            Action::GroupCall => group_call(ctx, caller, payload).await,
            Action::EditMessage => {
                let message_id = field(&payload, "messageId")?.to_owned();
                let mut body = payload;
                if let Some(fields) = body.as_object_mut() {
                    fields.remove("messageId");
                }
                let input: EditMessageRequest = decode::payload(body)?;
                Answer::ack(message_changes::edit(ctx, caller, &message_id, input).await?)
            }
            Action::DeleteMessage => {
                let message_id = field(&payload, "messageId")?;
                Answer::ack(message_changes::delete(ctx, caller, message_id).await?)
            }
            Action::AddReaction | Action::RemoveReaction => {
                let (message_id, emoji) =
                    (field(&payload, "messageId")?, field(&payload, "emoji")?);
                let add = self == Action::AddReaction;
                Answer::ack(message_changes::react(ctx, caller, message_id, emoji, add).await?)
            }
        }
    }
}

/// A room the caller's connection enters or leaves (socket.io rooms; an API Gateway connection
/// has none, so its transport ignores this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomMove {
    Join(Room),
    Leave(Room),
}

/// What to answer the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// An event for the caller's connection, carrying `body`.
    pub emit: Option<&'static str>,
    /// The acknowledgement (socket.io acks; the emitted event's payload when there is one).
    pub body: Value,
    pub rooms: Option<RoomMove>,
}

impl Answer {
    fn emit(event: &'static str, body: impl Serialize) -> Result<Self, AppError> {
        Ok(Self {
            emit: Some(event),
            body: to_json(body)?,
            rooms: None,
        })
    }

    fn ack(body: impl Serialize) -> Result<Self, AppError> {
        Ok(Self {
            emit: None,
            body: to_json(body)?,
            rooms: None,
        })
    }

    fn moving(self, rooms: RoomMove) -> Self {
        Self {
            rooms: Some(rooms),
            ..self
        }
    }
}

fn to_json(body: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(body).map_err(AppError::internal)
}

/// The `error` event's payload for a failed action: `{event, message}`.
pub fn error_payload(action: &str, err: &AppError) -> Value {
    json!({ "event": action, "message": err.public_message().into_text() })
}

/// Runs one client action for `caller`.
pub async fn dispatch(
    ctx: &AppContext,
    caller: CurrentUser,
    action: &str,
    payload: Value,
) -> Result<Answer, AppError> {
    let Some(action) = Action::from_name(action) else {
        return Err(AppError::bad_request(format!(
            "unknown action {action:?}: use one of {}",
            ACTIONS.join(", ")
        )));
    };
    if action.kind() == Kind::Signal {
        let key = rate_limit::user_key(caller.id);
        rate_limit::check(ctx, "signal", &key, ctx.config.signal_rate_limit).await?;
    }
    action.run(ctx, caller, payload).await
}

/// A string field of the payload that must be present.
fn field<'a>(payload: &'a Value, name: &str) -> Result<&'a str, AppError> {
    payload
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| AppError::Validation(vec![format!("{name} is required")]))
}

fn id<T: std::str::FromStr>(payload: &Value, name: &str) -> Result<T, AppError> {
    parse_id(name, field(payload, name)?)
}

/// `sendMessage {messageData}` (or the message fields themselves): the same service as
/// `POST /chat/message`. The receiver learns of it from the change feed, like a REST send.
async fn send_message(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: Value,
) -> Result<Answer, AppError> {
    let body = match payload.get("messageData") {
        Some(inner) => inner.clone(),
        None => payload,
    };
    let input: CreateMessageRequest = decode::payload(body)?;
    let sent = messages::send(ctx, caller, input).await?;
    Answer::emit(event::MESSAGE_SENT, sent.message)
}

/// `messageDelivered` / `messageRead {messageId}`: the sender hears `messageStatus` via the feed.
async fn mark(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
    status: MessageStatus,
) -> Result<Answer, AppError> {
    let message_id = field(payload, "messageId")?;
    Answer::ack(messages::update_status(ctx, caller, message_id, status).await?)
}

/// `fetchMessages` / `getGroupMessages {…, page?, limit?, before?, after?}`.
async fn fetch(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: Value,
    answer: &'static str,
) -> Result<Answer, AppError> {
    let input: FetchMessagesRequest = decode::payload(payload)?;
    Answer::emit(answer, messages::fetch(ctx, caller, input).await?)
}

/// Typing indicators go to the other party only (the partner, or the group minus the typist).
async fn typing(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
    event: &'static str,
) -> Result<Answer, AppError> {
    super::typing(ctx, caller, payload, event).await?;
    Answer::ack(json!({ "ok": true }))
}

/// `joinPrivateChat` / `leavePrivateChat {receiverId | chatRoomId}`: only for the caller's own
/// conversations; the partner's sockets in that chat hear `userJoinedChat` / `userLeftChat`.
async fn private_chat(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
    join: bool,
) -> Result<Answer, AppError> {
    let audience = super::audience(ctx, caller, payload).await?;
    let room = audience.chat_room_id;
    if !matches!(room, Room::Private(_)) {
        return Err(AppError::bad_request("use joinGroup for groups"));
    }
    let (notice, rooms) = if join {
        (event::USER_JOINED_CHAT, RoomMove::Join(room))
    } else {
        (event::USER_LEFT_CHAT, RoomMove::Leave(room))
    };
    let except = Some(Room::User(caller.id));
    super::signal(ctx, room, notice, about(caller, &room), except).await?;
    Ok(Answer::ack(json!({ "chatRoomId": room }))?.moving(rooms))
}

/// `joinGroup` / `leaveGroup {groupId}`: members only; the room hears `userJoinedGroup` /
/// `userLeftGroup`. Leaving the room is not leaving the group.
async fn group_room(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: &Value,
    join: bool,
) -> Result<Answer, AppError> {
    let group: GroupId = id(payload, "groupId")?;
    access::member_group(ctx, caller, group).await?;
    let room = Room::Group(group);
    let (notice, rooms) = if join {
        (event::USER_JOINED_GROUP, RoomMove::Join(room))
    } else {
        (event::USER_LEFT_GROUP, RoomMove::Leave(room))
    };
    let data = json!({ "userId": caller.id, "groupId": group });
    super::signal(ctx, room, notice, data, Some(Room::User(caller.id))).await?;
    Ok(Answer::ack(json!({ "groupId": group }))?.moving(rooms))
}

/// `groupCall {groupId, callType?, callId?}` → `groupCallIncoming {groupId, callerId, callType?,
/// callId?}` to the other members. Any other field is refused: the payload goes to other users.
async fn group_call(
    ctx: &AppContext,
    caller: CurrentUser,
    payload: Value,
) -> Result<Answer, AppError> {
    let input: GroupCallRequest = decode::payload(payload)?;
    access::member_group(ctx, caller, input.group_id).await?;
    let incoming = GroupCallIncoming {
        group_id: input.group_id,
        caller_id: caller.id,
        call_type: input.call_type,
        call_id: input.call_id,
    };
    let room = Room::Group(input.group_id);
    let except = Some(Room::User(caller.id));
    let data = to_json(incoming)?;
    super::signal(ctx, room, event::GROUP_CALL_INCOMING, data, except).await?;
    Answer::ack(json!({ "ok": true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_found_by_its_name_and_names_are_unique() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
        }
        let mut names: Vec<&str> = ACTIONS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::from_name("noSuchEvent"), None);
    }

    #[test]
    fn the_signals_are_the_actions_that_store_nothing() {
        let signals: Vec<&str> = Action::ALL
            .iter()
            .filter(|action| action.kind() == Kind::Signal)
            .map(|action| action.name())
            .collect();
        assert_eq!(
            signals,
            [
                "userTyping",
                "userStoppedTyping",
                "joinPrivateChat",
                "leavePrivateChat",
                "joinGroup",
                "leaveGroup",
                "groupCall",
            ]
        );
    }
}

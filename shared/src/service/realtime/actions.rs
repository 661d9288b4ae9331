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

/// Every client → server event, in the seed's order.
pub const ACTIONS: &[&str] = &[
    "sendMessage",
    "messageDelivered",
    "messageRead",
    "fetchMessages",
    "getGroupMessages",
    "userTyping",
    "userStoppedTyping",
    "getUserStatus",
    "updateLastSeen",
    "joinPrivateChat",
    "leavePrivateChat",
    "joinGroup",
    "leaveGroup",
    "groupCall",
    "editMessage",
    "deleteMessage",
    "addReaction",
    "removeReaction",
];

/// The actions that only signal other users (no stored data): they share `SIGNAL_RATE_LIMIT`.
const SIGNALS: &[&str] = &[
    "userTyping",
    "userStoppedTyping",
    "joinPrivateChat",
    "leavePrivateChat",
    "joinGroup",
    "leaveGroup",
    "groupCall",
];

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
    if SIGNALS.contains(&action) {
        // Each signal is a feed write and a fan-out to every node: a per-user budget.
        let key = rate_limit::user_key(caller.id);
        rate_limit::check(ctx, "signal", &key, ctx.config.signal_rate_limit).await?;
    }
    match action {
        "sendMessage" => send_message(ctx, caller, payload).await,
        "messageDelivered" => mark(ctx, caller, &payload, MessageStatus::Delivered).await,
        "messageRead" => mark(ctx, caller, &payload, MessageStatus::Read).await,
        "fetchMessages" => fetch(ctx, caller, payload, event::MESSAGES_FETCHED).await,
        "getGroupMessages" => {
            id::<GroupId>(&payload, "groupId")?;
            fetch(ctx, caller, payload, event::GROUP_MESSAGES_FETCHED).await
        }
        "userTyping" => typing(ctx, caller, &payload, event::USER_TYPING).await,
        "userStoppedTyping" => typing(ctx, caller, &payload, event::USER_STOPPED_TYPING).await,
        "getUserStatus" => {
            let user: UserId = id(&payload, "userId")?;
            Answer::emit(
                event::USER_STATUS,
                presence::online_status(ctx, caller, user).await?,
            )
        }
        "updateLastSeen" => Answer::ack(presence::touch_last_seen(ctx, caller, caller.id).await?),
        "joinPrivateChat" => private_chat(ctx, caller, &payload, true).await,
        "leavePrivateChat" => private_chat(ctx, caller, &payload, false).await,
        "joinGroup" => group_room(ctx, caller, &payload, true).await,
        "leaveGroup" => group_room(ctx, caller, &payload, false).await,
        "groupCall" => group_call(ctx, caller, payload).await,
        "editMessage" => {
            let message_id = field(&payload, "messageId")?.to_owned();
            let mut body = payload;
            if let Some(fields) = body.as_object_mut() {
                fields.remove("messageId");
            }
            let input: EditMessageRequest = decode::payload(body)?;
            Answer::ack(message_changes::edit(ctx, caller, &message_id, input).await?)
        }
        "deleteMessage" => {
            let message_id = field(&payload, "messageId")?;
            Answer::ack(message_changes::delete(ctx, caller, message_id).await?)
        }
        "addReaction" | "removeReaction" => {
            let (message_id, emoji) = (field(&payload, "messageId")?, field(&payload, "emoji")?);
            let add = action == "addReaction";
            Answer::ack(message_changes::react(ctx, caller, message_id, emoji, add).await?)
        }
        other => Err(AppError::bad_request(format!(
            "unknown action {other:?}: use one of {}",
            ACTIONS.join(", ")
        ))),
    }
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

//! Client → server events (the seed's table). Each handler is thin: read the payload like a
//! request body, call the shared service, answer. Failures reach the client as
//! `error {event, message}` (and as `{error}` in the ack when one was asked for); a bad payload
//! never disconnects the socket. A socket's events run one at a time in the order they arrived
//! (`turns`), so a client's messages are stored in the order it sent them.

use std::future::Future;

use serde::Serialize;
use serde_json::{json, Value};
use shared::{
    auth::CurrentUser,
    dto::chat::{CreateMessageRequest, FetchMessagesRequest},
    http::json::from_value,
    model::{group_room_id, GroupId, MessageStatus, UserId},
    service::{access, messages, presence, realtime},
    AppContext, AppError,
};
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use crate::turns::EventTurn;

/// One event's context: who sent it, on which socket, with what payload.
pub struct Call {
    pub ctx: AppContext,
    pub user: CurrentUser,
    pub socket: SocketRef,
    pub data: Value,
}

/// What to answer: an event for this socket (if any) and the ack payload.
pub struct Reply {
    emit: Option<&'static str>,
    body: Value,
}

impl Reply {
    fn emit(event: &'static str, body: impl Serialize) -> Result<Self, AppError> {
        Ok(Self {
            emit: Some(event),
            body: to_json(body)?,
        })
    }

    fn ack(body: impl Serialize) -> Result<Self, AppError> {
        Ok(Self {
            emit: None,
            body: to_json(body)?,
        })
    }
}

fn to_json(body: impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(body).map_err(AppError::internal)
}

pub fn register(socket: &SocketRef) {
    on(socket, "sendMessage", send_message);
    on(socket, "messageDelivered", |call| {
        mark(call, MessageStatus::Delivered)
    });
    on(socket, "messageRead", |call| {
        mark(call, MessageStatus::Read)
    });
    on(socket, "fetchMessages", fetch_messages);
    on(socket, "getGroupMessages", get_group_messages);
    on(socket, "userTyping", |call| typing(call, "userTyping"));
    on(socket, "userStoppedTyping", |call| {
        typing(call, "userStoppedTyping")
    });
    on(socket, "getUserStatus", get_user_status);
    on(socket, "updateLastSeen", update_last_seen);
    on(socket, "joinPrivateChat", |call| private_chat(call, true));
    on(socket, "leavePrivateChat", |call| private_chat(call, false));
    on(socket, "joinGroup", |call| group_room(call, true));
    on(socket, "leaveGroup", |call| group_room(call, false));
    on(socket, "groupCall", group_call);
}

fn on<F, Fut>(socket: &SocketRef, event: &'static str, handler: F)
where
    F: Fn(Call) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Reply, AppError>> + Send + 'static,
{
    socket.on(
        event,
        move |socket: SocketRef,
              State(ctx): State<AppContext>,
              EventTurn(turn): EventTurn,
              TryData(data): TryData<Value>,
              ack: AckSender| {
            let handler = handler.clone();
            async move {
                let Some(user) = socket.extensions.get::<CurrentUser>() else {
                    return;
                };
                let call = Call {
                    ctx,
                    user,
                    socket: socket.clone(),
                    data: data.unwrap_or(Value::Null),
                };
                let outcome = match &turn {
                    Some(turn) => {
                        turn.wait().await;
                        handler(call).await
                    }
                    None => Err(AppError::TooManyRequests {
                        retry_after_secs: 1,
                    }),
                };
                drop(turn);
                match outcome {
                    Ok(reply) => {
                        if let Some(name) = reply.emit {
                            let _ = socket.emit(name, &reply.body);
                        }
                        let _ = ack.send(&reply.body);
                    }
                    Err(err) => {
                        if err.status().is_server_error() {
                            tracing::error!(event, error = %err, "socket event failed");
                        }
                        let body =
                            json!({ "event": event, "message": err.public_message().into_text() });
                        let _ = socket.emit("error", &body);
                        let _ = ack.send(&json!({ "error": body }));
                    }
                }
            }
        },
    );
}

/// A string field of the payload that must be present.
fn field(data: &Value, name: &str) -> Result<String, AppError> {
    data.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| AppError::Validation(vec![format!("{name} is required")]))
}

fn id<T: std::str::FromStr>(data: &Value, name: &str) -> Result<T, AppError> {
    shared::http::parse_id_str(name, &field(data, name)?)
}

/// `sendMessage {messageData}`: the same service as `POST /chat/message`. The receiver learns of
/// it from the change feed, like a REST send.
async fn send_message(call: Call) -> Result<Reply, AppError> {
    let body = match call.data.get("messageData") {
        Some(inner) => inner.clone(),
        None => call.data,
    };
    let input: CreateMessageRequest = from_value(body)?;
    let sent = messages::send(&call.ctx, call.user, input).await?;
    Reply::emit("messageSent", sent.message)
}

/// `messageDelivered` / `messageRead {messageId}`: the sender hears `messageStatus` via the feed.
async fn mark(call: Call, status: MessageStatus) -> Result<Reply, AppError> {
    let message_id = field(&call.data, "messageId")?;
    let message = messages::update_status(&call.ctx, call.user, &message_id, status).await?;
    Reply::ack(message)
}

async fn fetch_messages(call: Call) -> Result<Reply, AppError> {
    let input: FetchMessagesRequest = from_value(call.data)?;
    Reply::emit(
        "messagesFetched",
        messages::fetch(&call.ctx, call.user, input).await?,
    )
}

/// `getGroupMessages {groupId, page?, limit?, before?, after?}`.
async fn get_group_messages(call: Call) -> Result<Reply, AppError> {
    id::<GroupId>(&call.data, "groupId")?;
    let input: FetchMessagesRequest = from_value(call.data)?;
    Reply::emit(
        "groupMessagesFetched",
        messages::fetch(&call.ctx, call.user, input).await?,
    )
}

/// Typing indicators go to the other party only (the partner, or the group minus the typist).
async fn typing(call: Call, event: &'static str) -> Result<Reply, AppError> {
    realtime::typing(&call.ctx, call.user, &call.data, event).await?;
    Reply::ack(json!({ "ok": true }))
}

async fn get_user_status(call: Call) -> Result<Reply, AppError> {
    let user: UserId = id(&call.data, "userId")?;
    Reply::emit(
        "userStatus",
        presence::online_status(&call.ctx, user).await?,
    )
}

async fn update_last_seen(call: Call) -> Result<Reply, AppError> {
    Reply::ack(presence::touch_last_seen(&call.ctx, call.user, call.user.id).await?)
}

/// `joinPrivateChat` / `leavePrivateChat {receiverId | chatRoomId}`: only for the caller's own
/// conversations; the partner's sockets in that chat hear `userJoinedChat` / `userLeftChat`.
async fn private_chat(call: Call, join: bool) -> Result<Reply, AppError> {
    let audience = realtime::audience(&call.ctx, call.user, &call.data).await?;
    if audience.chat_room_id.starts_with("group_") {
        return Err(AppError::bad_request("use joinGroup for groups"));
    }
    let room = audience.chat_room_id.clone();
    let event = if join {
        call.socket.join(room.clone());
        "userJoinedChat"
    } else {
        call.socket.leave(room.clone());
        "userLeftChat"
    };
    let data = realtime::about(call.user, &room);
    let except = Some(realtime::user_room(call.user.id));
    realtime::signal(&call.ctx, room.clone(), event, data, except).await?;
    Reply::ack(json!({ "chatRoomId": room }))
}

/// `joinGroup` / `leaveGroup {groupId}`: members only; the room hears `userJoinedGroup` /
/// `userLeftGroup`. Leaving the room is not leaving the group.
async fn group_room(call: Call, join: bool) -> Result<Reply, AppError> {
    let group: GroupId = id(&call.data, "groupId")?;
    access::member_group(&call.ctx, call.user, group).await?;
    let room = group_room_id(group);
    let event = if join {
        call.socket.join(room.clone());
        "userJoinedGroup"
    } else {
        call.socket.leave(room.clone());
        "userLeftGroup"
    };
    let data = json!({ "userId": call.user.id, "groupId": group });
    let except = Some(realtime::user_room(call.user.id));
    realtime::signal(&call.ctx, room.clone(), event, data, except).await?;
    Reply::ack(json!({ "groupId": group }))
}

/// `groupCall {groupId, ...}` → `groupCallIncoming {groupId, callerId, ...}` to the other members.
async fn group_call(call: Call) -> Result<Reply, AppError> {
    let group: GroupId = id(&call.data, "groupId")?;
    access::member_group(&call.ctx, call.user, group).await?;
    let mut data = match call.data {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    data.insert("groupId".into(), json!(group));
    data.insert("callerId".into(), json!(call.user.id));
    let except = Some(realtime::user_room(call.user.id));
    realtime::signal(
        &call.ctx,
        group_room_id(group),
        "groupCallIncoming",
        Value::Object(data),
        except,
    )
    .await?;
    Reply::ack(json!({ "ok": true }))
}

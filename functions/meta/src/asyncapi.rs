//! The realtime contract as an AsyncAPI 3 document: every client → server action of the
//! dispatcher and every server → client event, on the socket.io namespace `/chat`. Payloads that
//! are REST bodies too refer to the OpenAPI document's schemas, copied into this document's
//! components under the same names, so one Rust type describes both.

use serde_json::{json, Map, Value};
use shared::{
    dto::realtime::{CallType, GroupCallIncoming, GroupCallRequest},
    service::realtime::event,
};
use utoipa::OpenApi;

pub const ASYNCAPI_JSON: &str = "/api/docs/asyncapi.json";

/// One event of the contract.
struct Event {
    name: &'static str,
    summary: &'static str,
    payload: Value,
    /// Client events: the event the server answers with on the caller's socket.
    reply: Option<&'static str>,
    /// Client events: the socket.io acknowledgement's payload.
    ack: Option<Value>,
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn id_field() -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]{24}$" })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

fn message_ref() -> Value {
    object(&["messageId"], json!({ "messageId": { "type": "string" } }))
}

/// Whom a typing indicator or a private-chat join is about: one of these.
fn conversation_target(with_group: bool) -> Value {
    let mut choices = vec![
        object(&["receiverId"], json!({ "receiverId": id_field() })),
        object(
            &["chatRoomId"],
            json!({ "chatRoomId": { "type": "string" } }),
        ),
    ];
    if with_group {
        choices.push(object(&["groupId"], json!({ "groupId": id_field() })));
    }
    json!({ "oneOf": choices })
}

fn user_in_room() -> Value {
    object(
        &["userId", "chatRoomId"],
        json!({ "userId": id_field(), "chatRoomId": { "type": "string" } }),
    )
}

fn user_in_group() -> Value {
    object(
        &["userId", "groupId"],
        json!({ "userId": id_field(), "groupId": id_field() }),
    )
}

fn notice() -> Value {
    object(&["message"], json!({ "message": { "type": "string" } }))
}

fn draining() -> Value {
    object(
        &["message", "reconnectWithinMs"],
        json!({
            "message": { "type": "string" },
            "reconnectWithinMs": { "type": "integer", "minimum": 0 },
        }),
    )
}

fn ok() -> Value {
    object(&["ok"], json!({ "ok": { "const": true } }))
}

fn client(
    name: &'static str,
    summary: &'static str,
    payload: Value,
    reply: Option<&'static str>,
    ack: Value,
) -> Event {
    Event {
        name,
        summary,
        payload,
        reply,
        ack: Some(ack),
    }
}

fn server(name: &'static str, summary: &'static str, payload: Value) -> Event {
    Event {
        name,
        summary,
        payload,
        reply: None,
        ack: None,
    }
}

/// Client → server: the dispatcher's actions (`shared::service::realtime::actions::ACTIONS`).
fn client_events() -> Vec<Event> {
    let send = json!({ "oneOf": [
        object(&["messageData"], json!({ "messageData": schema("CreateMessageRequest") })),
        schema("CreateMessageRequest"),
    ]});
    let group_fetch = json!({ "allOf": [
        schema("FetchMessagesRequest"),
        object(&["groupId"], json!({ "groupId": id_field() })),
    ]});
    let reaction = object(
        &["messageId", "emoji"],
        json!({ "messageId": { "type": "string" }, "emoji": { "type": "string", "minLength": 1, "maxLength": 32 } }),
    );
    let edit = object(
        &["messageId", "message"],
        json!({ "messageId": { "type": "string" }, "message": { "type": "string", "minLength": 1, "maxLength": 5000 } }),
    );
    let group = object(&["groupId"], json!({ "groupId": id_field() }));
    let room = object(
        &["chatRoomId"],
        json!({ "chatRoomId": { "type": "string" } }),
    );
    vec![
        client("sendMessage", "Send a message (the same body as POST /chat/message): text, a file uploaded with POST /chat/attachments (attachmentId), or both.", send,
            Some(event::MESSAGE_SENT), schema("Message")),
        client("messageDelivered", "Mark a message you received as delivered; its sender hears messageStatus.",
            message_ref(), None, schema("Message")),
        client("messageRead", "Mark a message you received as read; its sender hears messageStatus.",
            message_ref(), None, schema("Message")),
        client("fetchMessages", "A page of a conversation's history (the body of POST /chat/messages/fetch).",
            schema("FetchMessagesRequest"), Some(event::MESSAGES_FETCHED), schema("MessagePage")),
        client("getGroupMessages", "A page of a group's history.", group_fetch,
            Some(event::GROUP_MESSAGES_FETCHED), schema("MessagePage")),
        client("userTyping", "You are typing: the partner or the group's other members hear userTyping.",
            conversation_target(true), None, ok()),
        client("userStoppedTyping", "You stopped typing.", conversation_target(true), None, ok()),
        client("getUserStatus", "Whether a contact is online (yourself and contacts only).",
            object(&["userId"], json!({ "userId": id_field() })), Some(event::USER_STATUS), schema("OnlineStatus")),
        client("updateLastSeen", "Set your last-seen time to now.", json!({ "type": "object" }), None,
            schema("LastSeen")),
        client("joinPrivateChat", "Open one of your private conversations: the partner's sockets in it hear userJoinedChat.",
            conversation_target(false), None, room.clone()),
        client("leavePrivateChat", "Leave a private conversation's room.", conversation_target(false), None, room),
        client("joinGroup", "Join a group's room (members only).", group.clone(), None, group.clone()),
        client("leaveGroup", "Leave a group's room (not the group).", group.clone(), None, group),
        client("groupCall", "Ring the group's other members (other fields are refused).",
            schema("GroupCallRequest"), None, ok()),
        client("editMessage", "Change your message's text; the conversation hears messageEdited.", edit, None,
            schema("Message")),
        client("deleteMessage", "Delete a message (yours, or any as a group admin); the conversation hears messageDeleted.",
            message_ref(), None, schema("MessageDeleted")),
        client("addReaction", "React to a message; the conversation hears messageReactions.", reaction.clone(), None,
            schema("MessageReactions")),
        client("removeReaction", "Take your reaction back.", reaction, None, schema("MessageReactions")),
    ]
}

/// Server → client: `shared::service::realtime::event::ALL`.
fn server_events() -> Vec<Event> {
    let presence = |required: &[&str]| {
        object(
            required,
            json!({ "userId": id_field(), "lastSeen": { "type": "string", "format": "date-time" } }),
        )
    };
    let failure = object(
        &["event", "message"],
        json!({ "event": { "type": "string" }, "message": {
            "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] } }),
    );
    vec![
        server(
            event::MESSAGE_SENT,
            "Your sendMessage was stored: the message.",
            schema("Message"),
        ),
        server(
            event::MESSAGE_RECEIVED,
            "A private message to you (a file it carries is in attachment: {attachmentId, fileName, contentType, size, width?, height?}).",
            schema("Message"),
        ),
        server(
            event::GROUP_MESSAGE_RECEIVED,
            "A message in one of your groups, from another member (with its attachment, as messageReceived).",
            schema("Message"),
        ),
        server(
            event::MESSAGE_STATUS,
            "A message you sent was delivered or read: the message.",
            schema("Message"),
        ),
        server(
            event::MESSAGE_EDITED,
            "A message of the conversation was edited: the message.",
            schema("Message"),
        ),
        server(
            event::MESSAGE_DELETED,
            "A message of the conversation became a tombstone.",
            schema("MessageDeleted"),
        ),
        server(
            event::MESSAGE_REACTIONS,
            "A message's reactions changed.",
            schema("MessageReactions"),
        ),
        server(
            event::MESSAGES_FETCHED,
            "The answer to fetchMessages.",
            schema("MessagePage"),
        ),
        server(
            event::GROUP_MESSAGES_FETCHED,
            "The answer to getGroupMessages.",
            schema("MessagePage"),
        ),
        server(
            event::USER_STATUS,
            "The answer to getUserStatus.",
            schema("OnlineStatus"),
        ),
        server(
            event::USER_ONLINE,
            "A contact's first connection opened.",
            presence(&["userId"]),
        ),
        server(
            event::USER_OFFLINE,
            "A contact's last connection closed.",
            presence(&["userId", "lastSeen"]),
        ),
        server(
            event::USER_TYPING,
            "The partner or a group member is typing.",
            user_in_room(),
        ),
        server(
            event::USER_STOPPED_TYPING,
            "They stopped typing.",
            user_in_room(),
        ),
        server(
            event::USER_JOINED_CHAT,
            "The partner opened your private conversation.",
            user_in_room(),
        ),
        server(
            event::USER_LEFT_CHAT,
            "The partner left your private conversation.",
            user_in_room(),
        ),
        server(
            event::USER_JOINED_GROUP,
            "A member joined the group's room.",
            user_in_group(),
        ),
        server(
            event::USER_LEFT_GROUP,
            "A member left the group's room.",
            user_in_group(),
        ),
        server(
            event::GROUP_CALL_INCOMING,
            "A member rings the group.",
            schema("GroupCallIncoming"),
        ),
        server(
            event::SESSION_ENDED,
            "Your login session ended; the socket closes next.",
            notice(),
        ),
        server(
            event::TOKEN_EXPIRED,
            "Your access token expired; the socket closes next (reconnect with a fresh one).",
            notice(),
        ),
        server(
            event::SERVER_DRAINING,
            "The node is shutting down (a deploy): the socket closes within reconnectWithinMs; \
             reconnect (another node takes it) and catch up with the after cursor.",
            draining(),
        ),
        server(
            event::ERROR,
            "A client event failed: which one and why (a validation failure lists every field).",
            failure,
        ),
    ]
}

#[derive(OpenApi)]
#[openapi(components(schemas(GroupCallRequest, GroupCallIncoming, CallType)))]
struct RealtimeSchemas;

/// The OpenAPI document's schemas and the realtime-only ones.
fn schemas() -> Value {
    let mut rest = crate::openapi();
    rest.merge(RealtimeSchemas::openapi());
    let components = serde_json::to_value(rest.components).unwrap_or(Value::Null);
    components
        .get("schemas")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn key(direction: &str, name: &str) -> String {
    format!("{direction}.{name}")
}

/// The whole document.
pub fn document() -> Value {
    let mut channel_messages = Map::new();
    let mut messages = Map::new();
    let mut operations = Map::new();
    let directions = [
        ("client", "receive", client_events()),
        ("server", "send", server_events()),
    ];
    for (direction, action, events) in directions {
        for event in events {
            let id = key(direction, event.name);
            messages.insert(
                id.clone(),
                json!({ "name": event.name, "title": event.name, "summary": event.summary, "payload": event.payload }),
            );
            channel_messages.insert(
                id.clone(),
                json!({ "$ref": format!("#/components/messages/{id}") }),
            );
            let mut operation = json!({
                "action": action,
                "channel": { "$ref": "#/channels/chat" },
                "summary": event.summary,
                "messages": [{ "$ref": format!("#/channels/chat/messages/{id}") }],
            });
            if let Some(reply) = event.reply {
                operation["reply"] = json!({
                    "channel": { "$ref": "#/channels/chat" },
                    "messages": [{ "$ref": format!("#/channels/chat/messages/{}", key("server", reply)) }],
                });
            }
            if let Some(ack) = event.ack {
                operation["x-ack"] = json!({
                    "description": "The socket.io acknowledgement, when the client asks for one; a failure acknowledges {error: {event, message}} and emits error.",
                    "schema": ack,
                });
            }
            operations.insert(id, operation);
        }
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chat backend realtime API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "socket.io v4, namespace /chat. Operations are described from the server's side: it receives the client.* events and sends the server.* events. The same actions arrive as API Gateway WebSocket frames {\"action\": <event>, ...payload}, and the same events leave as {\"event\", \"data\"} frames.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:3002",
                "protocol": "ws",
                "description": "The realtime node of the local stack (socket.io over WebSocket, or HTTP long-polling).",
                "security": [{ "$ref": "#/components/securitySchemes/accessToken" }],
            }
        },
        "channels": {
            "chat": {
                "address": "/chat",
                "title": "The /chat namespace",
                "description": "On connect a socket joins its user's room and the rooms of the user's active groups.",
                "messages": channel_messages,
            }
        },
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas(),
            "securitySchemes": {
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token in the handshake: auth: {token} (or an Authorization: Bearer header). Missing, invalid or expired: connect_error says why.",
                }
            },
        },
    })
}

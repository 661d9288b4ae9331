//! Every server → client event name of the `/chat` namespace (socket.io) and of API Gateway
//! WebSocket frames (`{"event", "data"}`): the one place they are spelled.

pub const MESSAGE_SENT: &str = "messageSent";
pub const MESSAGE_RECEIVED: &str = "messageReceived";
pub const GROUP_MESSAGE_RECEIVED: &str = "groupMessageReceived";
pub const MESSAGE_STATUS: &str = "messageStatus";
/// The sender changed a message's text: the message.
pub const MESSAGE_EDITED: &str = "messageEdited";
/// A message became a tombstone: `{messageId, chatRoomId, deletedAt}`.
pub const MESSAGE_DELETED: &str = "messageDeleted";
/// A message's reactions changed: `{messageId, chatRoomId, reactions}`.
pub const MESSAGE_REACTIONS: &str = "messageReactions";
pub const MESSAGES_FETCHED: &str = "messagesFetched";
pub const GROUP_MESSAGES_FETCHED: &str = "groupMessagesFetched";
pub const USER_STATUS: &str = "userStatus";
pub const USER_ONLINE: &str = "userOnline";
pub const USER_OFFLINE: &str = "userOffline";
pub const USER_TYPING: &str = "userTyping";
pub const USER_STOPPED_TYPING: &str = "userStoppedTyping";
pub const USER_JOINED_CHAT: &str = "userJoinedChat";
pub const USER_LEFT_CHAT: &str = "userLeftChat";
pub const USER_JOINED_GROUP: &str = "userJoinedGroup";
pub const USER_LEFT_GROUP: &str = "userLeftGroup";
pub const GROUP_CALL_INCOMING: &str = "groupCallIncoming";
/// The socket's login session ended (the socket closes next): `{message}`.
pub const SESSION_ENDED: &str = "sessionEnded";
/// The socket's access token expired (the socket closes next): `{message}`.
pub const TOKEN_EXPIRED: &str = "tokenExpired";
/// The node is shutting down (a deploy): `{message, reconnectWithinMs}`; the socket is closed
/// within that time, and the client reconnects (the load balancer sends it to another node).
pub const SERVER_DRAINING: &str = "serverDraining";
/// A failed client event: `{event, message}`.
pub const ERROR: &str = "error";

/// Every server → client event above, for the realtime contract document and its test.
pub const ALL: &[&str] = &[
    MESSAGE_SENT,
    MESSAGE_RECEIVED,
    GROUP_MESSAGE_RECEIVED,
    MESSAGE_STATUS,
    MESSAGE_EDITED,
    MESSAGE_DELETED,
    MESSAGE_REACTIONS,
    MESSAGES_FETCHED,
    GROUP_MESSAGES_FETCHED,
    USER_STATUS,
    USER_ONLINE,
    USER_OFFLINE,
    USER_TYPING,
    USER_STOPPED_TYPING,
    USER_JOINED_CHAT,
    USER_LEFT_CHAT,
    USER_JOINED_GROUP,
    USER_LEFT_GROUP,
    GROUP_CALL_INCOMING,
    SESSION_ENDED,
    TOKEN_EXPIRED,
    SERVER_DRAINING,
    ERROR,
];

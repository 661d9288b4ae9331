//! Plain serde types: what the storage port stores and the JSON the API speaks.

pub mod attachment;
pub mod group;
pub mod ids;
pub mod message;
pub mod moderation;
pub mod notifications;
pub mod room;
pub mod session;
pub mod user;

pub use attachment::{Attachment, AttachmentId, FileAttachment, MessageAttachment};
pub use group::{Group, GroupPatch};
pub use ids::{
    parse_id, AuditId, GroupId, MessageOid, ObjectIdError, PushSubscriptionId, ReportId, SessionId,
    UserId,
};
pub use message::{
    preview_text, ChatType, Cursor, HistoryWindow, Message, MessageStatus, Reaction, ReplyPreview,
    MAX_DISTINCT_REACTIONS, MAX_REACTION_USERS_LISTED, REPLY_PREVIEW_CHARS,
};
pub use moderation::{
    roles_from_text, roles_to_text, AuditEntry, Report, ReportReason, ReportStatus, ReportTarget,
    Role, Standing,
};
pub use notifications::{Mute, PushSubscription, PushTarget, WebPushKeys};
pub use room::{Pair, Room, RoomError};
pub use session::{ClientInfo, NewSession, Session};
pub use user::{
    search_key, NewUser, ProfilePatch, PublicUser, User, UserRecord, DELETED_USER_NAME,
};

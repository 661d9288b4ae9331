//! Plain serde types: what the storage port stores and the JSON the API speaks.

pub mod group;
pub mod ids;
pub mod message;
pub mod session;
pub mod user;

pub use group::{Group, GroupPatch};
pub use ids::{GroupId, MessageOid, ObjectIdError, SessionId, UserId};
pub use message::{
    group_room_id, private_room_id, ChatType, Cursor, HistoryWindow, Message, MessageStatus,
};
pub use session::{NewSession, Session};
pub use user::{search_key, NewUser, ProfilePatch, PublicUser, User, UserRecord};

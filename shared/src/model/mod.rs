//! Plain serde types: what the storage port stores and the JSON the API speaks.

pub mod ids;
pub mod session;
pub mod user;

pub use ids::{ObjectIdError, SessionId, UserId};
pub use session::{NewSession, Session};
pub use user::{search_key, NewUser, ProfilePatch, PublicUser, User, UserRecord};

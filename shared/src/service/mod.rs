//! The rules. Handlers (HTTP and socket) call these; these call the storage port, and nothing else
//! does (`clippy.toml` refuses `AppContext::store` outside this crate).

pub mod access;
pub mod account;
pub mod attachments;
pub mod auth;
pub mod groups;
pub mod health;
pub mod jobs;
pub mod message_changes;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod presence;
pub mod push;
pub mod rate_limit;
pub mod realtime;
pub mod rooms;
pub mod users;

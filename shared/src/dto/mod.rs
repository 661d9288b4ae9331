//! Request and response bodies: validated at the edge (`http::ValidJson` for
//! HTTP bodies, `decode::payload` for socket payloads), so services receive
//! values that already follow the rules.

pub mod attachments;
pub mod auth;
pub mod chat;
pub mod decode;
pub mod groups;
pub mod moderation;
pub mod notifications;
pub mod presence;
pub mod realtime;
pub mod rules;
pub mod users;

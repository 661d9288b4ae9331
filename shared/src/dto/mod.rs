//! Request and response bodies: validated at the edge (`http::ValidJson`), so services receive
//! values that already follow the rules.

pub mod auth;
pub mod chat;
pub mod groups;
pub mod presence;
pub mod rules;
pub mod users;

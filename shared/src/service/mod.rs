//! The rules. Handlers (HTTP and socket) call these; these call the storage port.

pub mod auth;
pub mod health;
pub mod rate_limit;
pub mod users;

//! One test binary, a module per feature. Every test talks HTTP to a real listening server backed by
//! a real database: SQLite and MongoDB (a real one when TEST_MONGO_URI is set, else the stand-in).

// Tests and benchmarks set up and inspect data through the storage port (clippy.toml fences it
// for handlers and transports).
#![allow(clippy::disallowed_methods)]

mod account;
mod apigw;
mod attachments;
mod auth;
mod blocking;
mod builds;
mod change_feed;
mod docs;
mod drills;
mod errors;
mod feed_recovery;
mod fuzz;
mod groups;
mod handshake_origin;
mod health;
mod message_changes;
mod messages;
mod migration;
mod moderation;
mod mongo_plans;
mod notifications;
mod operations;
mod origin_verify;
mod presence;
mod push;
mod realtime;
mod routes;
mod search;
mod secrets;
mod smoke;
mod store_contract;
mod template;
mod users;
mod web_client;

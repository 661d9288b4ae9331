//! One test binary, a module per feature. Every test talks HTTP to a real listening server backed by
//! a real database (SQLite always; MongoDB too when TEST_MONGO_URI is set).

mod apigw;
mod auth;
mod builds;
mod change_feed;
mod docs;
mod drills;
mod errors;
mod fuzz;
mod groups;
mod health;
mod messages;
mod presence;
mod realtime;
mod routes;
mod smoke;
mod store_contract;
mod template;
mod users;

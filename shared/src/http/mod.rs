//! Everything HTTP that every function shares: the JSON extractor, the client address, the error
//! body writer, the request log and the common layers around each router.

pub mod app;
pub mod client;
pub mod docs;
pub mod emf;
pub mod error_shape;
pub mod handshake_origin;
pub mod health;
pub mod json;
pub mod lambda;
pub mod origin_verify;
pub mod query;
pub mod request_log;
pub mod routes;
pub mod security_headers;

pub use app::{cors_layer, finish, MAX_BODY_BYTES};
pub use client::ClientInfo;
pub use json::{OptionalJson, ValidJson};
pub use lambda::run_function;
pub use query::ValidQuery;
pub use routes::{Api, Route};

/// 201 for a resource this request created, 200 for one it found already there (an idempotent
/// repeat).
pub fn created_or_ok(created: bool) -> axum::http::StatusCode {
    if created {
        axum::http::StatusCode::CREATED
    } else {
        axum::http::StatusCode::OK
    }
}

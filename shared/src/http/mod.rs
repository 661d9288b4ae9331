//! Everything HTTP that every function shares: the JSON extractor, the client address, the error
//! body writer, the request log and the common layers around each router.

pub mod app;
pub mod client;
pub mod docs;
pub mod error_shape;
pub mod json;
pub mod lambda;
pub mod path;
pub mod query;
pub mod request_log;
pub mod routes;
pub mod security_headers;

pub use app::{finish, MAX_BODY_BYTES};
pub use client::ClientInfo;
pub use json::{OptionalJson, ValidJson};
pub use lambda::run_function;
pub use path::{parse_id, parse_id_str};
pub use query::ValidQuery;
pub use routes::{Api, Route};

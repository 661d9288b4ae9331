//! The library every function and the realtime node share: configuration, the storage port with its
//! MongoDB and embedded SQLite adapters, authentication, the one error type, the HTTP layers and the
//! domain services that hold every rule.

pub mod apigw;
pub mod auth;
pub mod config;
pub mod context;
pub mod dto;
pub mod error;
pub mod http;
pub mod metrics;
pub mod model;
pub mod objects;
pub mod push;
pub mod secrets;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod time;

pub use context::AppContext;
pub use error::AppError;

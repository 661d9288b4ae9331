//! `ValidJson<T>`: the JSON body extractor every handler uses. Its failures are `AppError`s:
//! wrong content type → 415, too large → 413, malformed or mistyped → 400 naming the field,
//! failed rules → 400 listing every failing field.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
};
use http::{header::CONTENT_TYPE, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::AppError;

pub struct ValidJson<T>(pub T);

/// Like `ValidJson`, but an empty body is `None` (for endpoints whose body is optional).
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(request.headers());
        let bytes = read_body(request, state).await?;
        if bytes.is_empty() {
            return Err(AppError::bad_request("Request body must be a JSON object"));
        }
        if !is_json {
            return Err(unsupported());
        }
        parse(&bytes).map(Self)
    }
}

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(request.headers());
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        if !is_json {
            return Err(unsupported());
        }
        parse(&bytes).map(|value| Self(Some(value)))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn unsupported() -> AppError {
    AppError::UnsupportedMediaType("Content-Type must be application/json".into())
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            _ => AppError::bad_request("Request body could not be read"),
        })
}

fn parse<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, AppError> {
    crate::dto::decode::from_slice(bytes)
}

//! The one error type. Every failure a client can see is an `AppError`, and `status()` is the only
//! place that maps errors to HTTP. The JSON body (`statusCode`, `error`, `message`, `path`,
//! `timestamp`, `requestId`) is written by `http::error_shape`, which knows the request.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};

use crate::{auth::TokenError, store::StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// Every failing field, one message each.
    #[error("validation failed: {0:?}")]
    Validation(Vec<String>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The cause is logged with the request id and never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a client is told: one sentence, or the list of validation failures.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ErrorMessage {
    One(String),
    Many(Vec<String>),
}

/// The one error body, for every failure of every route.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    #[schema(example = 400)]
    pub status_code: u16,
    /// The status's reason phrase.
    #[schema(example = "Bad Request")]
    pub error: String,
    pub message: ErrorMessage,
    #[schema(example = "/api/v1/auth/register")]
    pub path: String,
    #[schema(example = "2026-11-25T12:00:00.000Z")]
    pub timestamp: String,
    /// The `X-Request-Id` sent or generated; also in the request log.
    pub request_id: String,
}

/// Carried on an error response so the shaping layer can write the body.
#[derive(Debug, Clone)]
pub struct ErrorDetails(pub ErrorMessage);

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(message.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The client-facing message: never a database text or an internal name.
    pub fn public_message(&self) -> ErrorMessage {
        match self {
            Self::Validation(messages) => ErrorMessage::Many(messages.clone()),
            Self::Internal(_) => ErrorMessage::One("Internal server error".into()),
            Self::Unavailable(_) => {
                ErrorMessage::One("Service temporarily unavailable, try again shortly".into())
            }
            Self::TooManyRequests { retry_after_secs } => ErrorMessage::One(format!(
                "Too many requests, try again in {retry_after_secs} seconds"
            )),
            Self::MethodNotAllowed => ErrorMessage::One("Method not allowed on this route".into()),
            Self::PayloadTooLarge => ErrorMessage::One("Request body is too large".into()),
            other => ErrorMessage::One(other.to_string()),
        }
    }
}

impl ErrorMessage {
    /// One line of text (validation failures joined), for channels without the JSON error shape.
    pub fn into_text(self) -> String {
        match self {
            Self::One(text) => text,
            Self::Many(texts) => texts.join("; "),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = status.into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
            .extensions_mut()
            .insert(ErrorDetails(self.public_message()));
        response
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate { field } => Self::Conflict(format!("{field} is already taken")),
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            StoreError::Backend(cause) | StoreError::PositionLost(cause) => Self::Internal(cause),
        }
    }
}

impl From<crate::objects::ObjectError> for AppError {
    fn from(err: crate::objects::ObjectError) -> Self {
        match err {
            crate::objects::ObjectError::Unavailable(cause) => Self::Unavailable(cause),
        }
    }
}

/// Verification failures are mapped where tokens are checked (they are the caller's 401s); a
/// `TokenError` that reaches here came from signing, which is our fault.
impl From<TokenError> for AppError {
    fn from(err: TokenError) -> Self {
        Self::Internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_causes_are_not_shown() {
        let err = AppError::internal("E11000 duplicate key error collection: chat.users");
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let ErrorMessage::One(text) = err.public_message() else {
            panic!("one message")
        };
        assert!(!text.contains("E11000"));
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let response = AppError::TooManyRequests {
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
    }
}

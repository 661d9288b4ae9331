//! Writes the one error body for every 4xx/5xx leaving a router, whoever produced it (a handler's
//! `AppError`, an extractor, the 404/405 fallbacks, a layer):
//! `{statusCode, error, message, path, timestamp, requestId}`.

use crate::error::{ErrorBody, ErrorDetails, ErrorMessage};
use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use http::{header, HeaderValue};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

pub async fn error_shape(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let reason = status.canonical_reason().unwrap_or("Error");
    let message = parts
        .extensions
        .remove::<ErrorDetails>()
        .map(|ErrorDetails(message)| message)
        .unwrap_or_else(|| ErrorMessage::One(reason.to_owned()));
    let body = ErrorBody {
        status_code: status.as_u16(),
        error: reason.to_owned(),
        message,
        path,
        timestamp: crate::time::to_iso(&crate::time::now()),
        request_id,
    };
    let body = serde_json::to_string(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

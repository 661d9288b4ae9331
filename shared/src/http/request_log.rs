//! One log line per request: method, path, status, latency, client IP, user agent, request id.
//! Level by outcome: error for 5xx, warn for 4xx, info otherwise.

use std::time::Instant;

use axum::{extract::Request, middleware::Next, response::Response};

use super::{client::ClientInfo, error_shape::REQUEST_ID_HEADER};

macro_rules! log_at {
    ($level:ident, $($field:tt)*) => {
        tracing::$level!($($field)*, "request")
    };
}

pub async fn request_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let client = ClientInfo::from_request(request.extensions(), request.headers());
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let ip = client.ip.as_deref().unwrap_or("-");
    let user_agent = client.user_agent.as_deref().unwrap_or("-");
    match status {
        500.. => log_at!(error, %method, path, status, latency_ms, ip, user_agent, request_id),
        400..=499 => log_at!(warn, %method, path, status, latency_ms, ip, user_agent, request_id),
        _ => log_at!(info, %method, path, status, latency_ms, ip, user_agent, request_id),
    }
    response
}

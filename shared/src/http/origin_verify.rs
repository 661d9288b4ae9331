//! On AWS the REST API is reached through a CDN whose web ACL limits each client address; the CDN
//! adds a secret header to every request it forwards. A request without it went around the CDN
//! (straight to the API's own endpoint) and is refused, so the per-address limit cannot be skipped.

use axum::{extract::Request, middleware::Next, response::Response};

use crate::error::AppError;

/// The header the CDN adds (template.yaml, `RestDistribution`).
pub const HEADER: &str = "x-origin-verify";

/// The expected header value, shared by every request of a function.
#[derive(Clone)]
pub struct OriginSecret(pub std::sync::Arc<str>);

pub async fn require_origin_secret(
    axum::extract::State(expected): axum::extract::State<OriginSecret>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let presented = request
        .headers()
        .get(HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if same_bytes(presented, expected.0.as_bytes()) {
        Ok(next.run(request).await)
    } else {
        Err(AppError::forbidden(
            "Requests must come through the API's public address",
        ))
    }
}

/// Equality whose time does not depend on where the inputs differ.
pub fn same_bytes(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::same_bytes;

    #[test]
    fn equal_only_when_every_byte_matches() {
        assert!(same_bytes(b"secret", b"secret"));
        assert!(!same_bytes(b"secret", b"secreT"));
        assert!(!same_bytes(b"secret", b"secret!"));
        assert!(!same_bytes(b"", b"secret"));
    }
}

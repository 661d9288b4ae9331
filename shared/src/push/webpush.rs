//! One Web Push (RFC 8030): the notice encrypted for the browser's key and auth secret (RFC 8291
//! `aes128gcm`, by `web-push-native`), signed for the push service with VAPID (RFC 8292), with a
//! lifetime (`TTL`), `Urgency: high` and a `Topic` per conversation, so a push service holding
//! several undelivered pushes of one conversation keeps only the newest.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{base64url, outcome_of_sending, Notice, Outcome, VapidKey};
use crate::model::WebPushKeys;

pub struct WebPush<'a> {
    pub endpoint: &'a str,
    pub keys: &'a WebPushKeys,
    pub topic: &'a str,
    pub ttl: Duration,
    pub vapid: &'a VapidKey,
    pub subject: &'a str,
}

/// A conversation's `Topic`: at most 32 base64url characters (RFC 8030 §5.4), the same for every
/// push of the conversation and telling nothing of it.
pub fn topic_of(chat_room_id: &str) -> String {
    let digest = Sha256::digest(chat_room_id.as_bytes());
    let mut topic = base64url::encode(&digest);
    topic.truncate(32);
    topic
}

impl WebPush<'_> {
    /// The notice as the browser's service worker gets it, encrypted for it alone.
    fn encrypted(&self, notice: &Notice) -> Result<Vec<u8>, String> {
        let public = base64url::decode(&self.keys.p256dh)
            .and_then(|bytes| web_push_native::p256::PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or("the subscription's p256dh is not a P-256 public key")?;
        let auth = base64url::decode(&self.keys.auth)
            .filter(|bytes| bytes.len() == 16)
            .ok_or("the subscription's auth secret is not 16 bytes")?;
        let plain = serde_json::to_vec(notice).map_err(|err| err.to_string())?;
        web_push_native::encrypt(plain, &public, web_push_native::Auth::from_slice(&auth))
            .map_err(|err| err.to_string())
    }

    pub async fn send(&self, client: &reqwest::Client, notice: &Notice) -> Outcome {
        let body = match self.encrypted(notice) {
            Ok(body) => body,
            Err(reason) => return Outcome::Refused(reason),
        };
        let authorization = match self.vapid.authorization(self.endpoint, self.subject) {
            Ok(authorization) => authorization,
            Err(err) => return Outcome::Refused(err.to_string()),
        };
        let request = client
            .post(self.endpoint)
            .header("TTL", self.ttl.as_secs().to_string())
            .header("Urgency", "high")
            .header("Topic", self.topic)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body);
        outcome_of_sending(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_is_short_url_safe_and_stable() {
        let topic = topic_of("65f0c0ffee0000000000000a_65f0c0ffee0000000000000b");
        assert_eq!(topic.len(), 32);
        assert!(topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(
            topic,
            topic_of("65f0c0ffee0000000000000a_65f0c0ffee0000000000000b")
        );
        assert_ne!(topic, topic_of("group_65f0c0ffee0000000000000c"));
    }
}

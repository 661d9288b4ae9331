//! What decides whether someone is told of a message while their app is closed: conversations
//! they muted, and the devices (push subscriptions) they registered, each tied to a session.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ids::PushSubscriptionId, Room, SessionId, UserId};

/// A conversation the user muted: no push for it until `until` (forever when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mute {
    pub chat_room_id: Room,
    pub until: Option<DateTime<Utc>>,
}

/// The browser's `PushSubscription.keys`: the receiver's P-256 public key and auth secret
/// (base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPushKeys {
    /// 65 bytes: an uncompressed P-256 point.
    pub p256dh: String,
    /// 16 bytes.
    pub auth: String,
}

/// Where a device is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PushTarget {
    /// A browser's Web Push subscription (RFC 8030): its push service endpoint and keys.
    #[serde(rename = "webpush")]
    WebPush { endpoint: String, keys: WebPushKeys },
    /// A native app's device token, handed to `PUSH_WEBHOOK_URL` with its platform.
    WebhookToken { token: String, platform: String },
}

impl PushTarget {
    /// One key per device: registering it again replaces the old registration.
    pub fn key(&self) -> String {
        match self {
            PushTarget::WebPush { endpoint, .. } => format!("webpush:{endpoint}"),
            PushTarget::WebhookToken { token, platform } => format!("token:{platform}:{token}"),
        }
    }
}

/// One registered device of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    pub subscription_id: PushSubscriptionId,
    pub user_id: UserId,
    pub session_id: SessionId,
    pub target: PushTarget,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
}

//! Request and response bodies of mutes (`/chat/rooms/{chatRoomId}/mute`) and push devices
//! (`/users/me/push-subscriptions`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::model::{PushSubscription, PushSubscriptionId, PushTarget, Room, SessionId};

/// `PUT /chat/rooms/{chatRoomId}/mute`: until a time, or (no body, or no `until`) for good.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MuteRequest {
    #[serde(default, with = "crate::time::iso_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<DateTime<Utc>>,
}

/// The answer to muting or unmuting.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MuteState {
    pub chat_room_id: Room,
    pub muted: bool,
    #[serde(
        with = "crate::time::iso_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub muted_until: Option<DateTime<Utc>>,
}

/// `POST /users/me/push-subscriptions`: a browser's `PushSubscription` JSON with
/// `kind: "webpush"`, or a native device token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct SubscribeRequest(pub PushTarget);

impl Validate for SubscribeRequest {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// `GET /users/me/push-subscriptions/vapid-public-key`: what a browser subscribes with
/// (`pushManager.subscribe({applicationServerKey})`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VapidPublicKey {
    /// The uncompressed P-256 point, base64url.
    pub public_key: String,
}

/// A registered device as its owner sees it (keys and tokens are not echoed).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscriptionView {
    pub subscription_id: PushSubscriptionId,
    /// `webpush` or `webhook-token`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub session_id: SessionId,
    /// Registered by the session of this request.
    pub current: bool,
    #[serde(with = "crate::time::iso")]
    pub created_at: DateTime<Utc>,
}

impl PushSubscriptionView {
    pub fn new(subscription: &PushSubscription, current: SessionId) -> Self {
        let (kind, endpoint, platform) = match &subscription.target {
            PushTarget::WebPush { endpoint, .. } => ("webpush", Some(endpoint.clone()), None),
            PushTarget::WebhookToken { platform, .. } => {
                ("webhook-token", None, Some(platform.clone()))
            }
        };
        Self {
            subscription_id: subscription.subscription_id,
            kind,
            endpoint,
            platform,
            session_id: subscription.session_id,
            current: subscription.session_id == current,
            created_at: subscription.created_at,
        }
    }
}

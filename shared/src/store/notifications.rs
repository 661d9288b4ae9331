//! The notifications port: muted conversations and registered push devices.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::{Mute, PushSubscription, PushSubscriptionId, Room, UserId};

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Mutes `room` for `user` until `until` (forever: `None`), replacing an earlier mute.
    async fn set_mute(
        &self,
        user: UserId,
        room: Room,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// False when it was not muted.
    async fn clear_mute(&self, user: UserId, room: Room) -> StoreResult<bool>;
    /// The user's mutes still in force at `now`.
    async fn mutes_of(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<Vec<Mute>>;
    /// Registers a device; the same device (`target.key`) registered again by the same user
    /// replaces the old registration (its session and keys). The registration as stored.
    async fn save_push_subscription(
        &self,
        subscription: PushSubscription,
    ) -> StoreResult<PushSubscription>;
    /// Every device the users registered, oldest first (those of ended sessions included: the
    /// service filters them); one read for a whole group.
    async fn push_subscriptions_of(&self, users: &[UserId]) -> StoreResult<Vec<PushSubscription>>;
    /// False when the user has no such subscription.
    async fn delete_push_subscription(
        &self,
        id: PushSubscriptionId,
        user: UserId,
    ) -> StoreResult<bool>;
    /// Forgets the user's mutes and devices (their account is being deleted).
    async fn forget_notifications_of(&self, user: UserId) -> StoreResult<()>;
    /// Records that `subscription` is sent the push of message `message_id`, kept until
    /// `expires_at`: true the first time, false when it was recorded before (a retry, a replay
    /// after a restart, another node), so no device is pushed one message twice.
    async fn claim_push_delivery(
        &self,
        subscription: PushSubscriptionId,
        message_id: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Forgets the delivery records that expired before `now`.
    async fn forget_push_deliveries(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}

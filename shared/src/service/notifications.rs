//! Who is told of a message while their app is closed: the conversations a user muted (shown as
//! `muted` in both rooms lists) and the devices they registered, each tied to the session that
//! registered it (ending the session removes them; listing shows only live sessions' devices).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    auth::CurrentUser,
    dto::notifications::{MuteState, PushSubscriptionView, VapidPublicKey},
    error::AppError,
    model::{PushSubscription, PushSubscriptionId, PushTarget, Room, UserId},
    service::access,
    AppContext,
};

/// The conversation `chat_room_id` names, if the caller takes part in it.
async fn conversation_of(
    ctx: &AppContext,
    caller: CurrentUser,
    chat_room_id: &str,
) -> Result<Room, AppError> {
    let room: Room = chat_room_id
        .parse()
        .ok()
        .filter(Room::is_conversation)
        .ok_or_else(|| {
            AppError::Validation(vec![
                "chatRoomId must be a conversation: <userId>_<userId> or group_<groupId>".into(),
            ])
        })?;
    match room {
        Room::Private(pair) if pair.partner_of(caller.id).is_none() => {
            Err(AppError::forbidden("You are not part of this conversation"))
        }
        Room::Group(group) => {
            access::member_group(ctx, caller, group).await?;
            Ok(room)
        }
        _ => Ok(room),
    }
}

/// `PUT /chat/rooms/{chatRoomId}/mute`: participants; until a time in the future, or for good.
pub async fn mute(
    ctx: &AppContext,
    caller: CurrentUser,
    chat_room_id: &str,
    until: Option<DateTime<Utc>>,
) -> Result<MuteState, AppError> {
    let room = conversation_of(ctx, caller, chat_room_id).await?;
    let now = crate::time::now();
    if until.is_some_and(|until| until <= now) {
        return Err(AppError::Validation(vec![
            "until must be in the future".into()
        ]));
    }
    ctx.store.set_mute(caller.id, room, until, now).await?;
    Ok(MuteState {
        chat_room_id: room,
        muted: true,
        muted_until: until,
    })
}

/// `DELETE /chat/rooms/{chatRoomId}/mute`: idempotent.
pub async fn unmute(
    ctx: &AppContext,
    caller: CurrentUser,
    chat_room_id: &str,
) -> Result<MuteState, AppError> {
    let room = conversation_of(ctx, caller, chat_room_id).await?;
    ctx.store.clear_mute(caller.id, room).await?;
    Ok(MuteState {
        chat_room_id: room,
        muted: false,
        muted_until: None,
    })
}

/// The conversations `user` has muted now, with when each mute ends (`None`: never).
pub async fn muted_rooms(
    ctx: &AppContext,
    user: UserId,
) -> Result<HashMap<Room, Option<DateTime<Utc>>>, AppError> {
    let mutes = ctx.store.mutes_of(user, crate::time::now()).await?;
    Ok(mutes
        .into_iter()
        .map(|mute| (mute.chat_room_id, mute.until))
        .collect())
}

/// Is `host` (of a URL) this machine?
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` names this machine or a private network by address (`10.0.0.5`, `[fd00::1]`,
/// `169.254.169.254`): a push service is on the public internet, and the sender must not be
/// pointed at the operator's own network.
fn is_internal(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if is_loopback(host) {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// The host of an absolute `scheme://host[:port]/…` URL.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    }
}

/// Base64url (padded or not) of exactly `bytes` bytes.
fn base64url_of_len(text: &str, bytes: usize) -> bool {
    crate::push::base64url::decode(text).is_some_and(|decoded| decoded.len() == bytes)
}

/// A device registration as the rules allow it: a Web Push endpoint is `https://` (in
/// development also `http://` on a loopback address), at most 2,048 characters, with a 65-byte
/// P-256 key and a 16-byte auth secret; a token is 1–4,096 characters on a platform named by
/// 1–32 lower-case letters, digits, `-` or `_`.
fn checked(production: bool, target: PushTarget) -> Result<PushTarget, AppError> {
    let mut problems = Vec::new();
    match &target {
        PushTarget::WebPush { endpoint, keys } => {
            let loopback_http = endpoint
                .strip_prefix("http://")
                .is_some_and(|rest| is_loopback(host_of(rest)));
            let https = endpoint.strip_prefix("https://").is_some_and(|rest| {
                let host = host_of(rest);
                let refused = production && is_internal(host);
                !host.is_empty() && !refused
            });
            let allowed = https || (loopback_http && !production);
            if !allowed || endpoint.len() > 2048 || endpoint.chars().any(char::is_whitespace) {
                problems.push(if production {
                    "endpoint must be a public https:// URL of at most 2048 characters".to_owned()
                } else {
                    "endpoint must be an https:// URL (or http:// on a loopback address in \
                     development) of at most 2048 characters"
                        .to_owned()
                });
            }
            if !base64url_of_len(&keys.p256dh, 65) {
                problems.push("keys.p256dh must be a base64url P-256 public key (65 bytes)".into());
            }
            if !base64url_of_len(&keys.auth, 16) {
                problems.push("keys.auth must be a base64url 16-byte secret".into());
            }
        }
        PushTarget::WebhookToken { token, platform } => {
            if token.is_empty() || token.len() > 4096 || token.chars().any(char::is_control) {
                problems.push("token must be 1 to 4096 characters".into());
            }
            let platform_ok = (1..=32).contains(&platform.len())
                && platform.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !platform_ok {
                problems.push(
                    "platform must be 1 to 32 lower-case letters, digits, '-' or '_' (fcm, apns, …)"
                        .into(),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(target)
    } else {
        Err(AppError::Validation(problems))
    }
}

/// Of `user`'s `devices`, those whose session is still live: a device counts (is listed, is
/// pushed) only while the session that registered it does.
pub(crate) async fn on_live_sessions(
    ctx: &AppContext,
    user: UserId,
    mut devices: Vec<PushSubscription>,
) -> Result<Vec<PushSubscription>, AppError> {
    let sessions = ctx.store.list_sessions(user, crate::time::now()).await?;
    devices.retain(|device| {
        device.user_id == user
            && sessions
                .iter()
                .any(|session| session.id == device.session_id)
    });
    Ok(devices)
}

/// The caller's devices of sessions that are still live.
async fn live_subscriptions(
    ctx: &AppContext,
    user: UserId,
) -> Result<Vec<PushSubscription>, AppError> {
    let devices = ctx.store.push_subscriptions_of(&[user]).await?;
    on_live_sessions(ctx, user, devices).await
}

/// `POST /users/me/push-subscriptions`: registers a device for the caller's current session
/// (the same device again replaces its registration). The view, and whether it is new.
pub async fn subscribe(
    ctx: &AppContext,
    caller: CurrentUser,
    target: PushTarget,
) -> Result<(PushSubscriptionView, bool), AppError> {
    let target = checked(ctx.config.is_production(), target)?;
    let existing = live_subscriptions(ctx, caller.id).await?;
    let again = existing
        .iter()
        .any(|subscription| subscription.target.key() == target.key());
    if !again && existing.len() >= ctx.config.push_subscriptions_per_user_max {
        return Err(AppError::conflict(format!(
            "At most {} push devices per user: remove one first",
            ctx.config.push_subscriptions_per_user_max
        )));
    }
    let stored = ctx
        .store
        .save_push_subscription(PushSubscription {
            subscription_id: PushSubscriptionId::new(),
            user_id: caller.id,
            session_id: caller.session_id,
            target,
            created_at: crate::time::now(),
        })
        .await?;
    Ok((
        PushSubscriptionView::new(&stored, caller.session_id),
        !again,
    ))
}

/// `GET /users/me/push-subscriptions`: the caller's devices, oldest first.
pub async fn subscriptions(
    ctx: &AppContext,
    caller: CurrentUser,
) -> Result<Vec<PushSubscriptionView>, AppError> {
    Ok(live_subscriptions(ctx, caller.id)
        .await?
        .iter()
        .map(|subscription| PushSubscriptionView::new(subscription, caller.session_id))
        .collect())
}

/// `GET /users/me/push-subscriptions/vapid-public-key`: 503 when this server has no VAPID key
/// (production without `VAPID_PRIVATE_KEY`/`VAPID_PUBLIC_KEY`).
pub fn vapid_public_key(ctx: &AppContext) -> Result<VapidPublicKey, AppError> {
    match crate::push::vapid::public_key(&ctx.config.push) {
        Ok(public_key) => Ok(VapidPublicKey { public_key }),
        Err(crate::push::PushError::NoKey) => Err(AppError::Unavailable(
            "Web Push is not configured on this server".into(),
        )),
        Err(err) => Err(AppError::internal(err)),
    }
}

/// `DELETE /users/me/push-subscriptions/{id}`: someone else's id is "not found".
pub async fn unsubscribe(
    ctx: &AppContext,
    caller: CurrentUser,
    id: PushSubscriptionId,
) -> Result<(), AppError> {
    if ctx.store.delete_push_subscription(id, caller.id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("Push subscription not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised_in_urls() {
        assert!(is_loopback(host_of("127.0.0.1:8080/push/1")));
        assert!(is_loopback(host_of("localhost/x")));
        assert!(is_loopback(host_of("[::1]:9/x")));
        assert!(!is_loopback(host_of("127.0.0.1.evil.example/x")));
        assert!(!is_loopback(host_of("push.example.com/x")));
    }

    #[test]
    fn production_takes_only_https_endpoints() {
        let target = |endpoint: &str| PushTarget::WebPush {
            endpoint: endpoint.to_owned(),
            keys: crate::model::WebPushKeys {
                p256dh: format!("BA{}", "A".repeat(85)),
                auth: "A".repeat(22),
            },
        };
        assert!(checked(false, target("http://127.0.0.1:9/p")).is_ok());
        assert!(checked(true, target("http://127.0.0.1:9/p")).is_err());
        assert!(checked(true, target("https://fcm.googleapis.com/wp/x")).is_ok());
        assert!(checked(false, target("http://push.example.com/p")).is_err());
        for internal in [
            "https://10.0.0.5/p",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/p",
            "https://localhost/p",
        ] {
            assert!(checked(true, target(internal)).is_err(), "{internal}");
        }
    }

    #[test]
    fn keys_are_checked_for_their_length() {
        assert!(base64url_of_len("AAAAAAAAAAAAAAAAAAAAAA", 16));
        assert!(base64url_of_len("AAAAAAAAAAAAAAAAAAAAAA==", 16));
        assert!(!base64url_of_len("AAAA", 16));
        assert!(!base64url_of_len("not base64!", 16));
    }
}

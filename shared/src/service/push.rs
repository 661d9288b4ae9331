//! Who is pushed for a new message, with what, and how a push is delivered. A recipient (the
//! receiver of a private message; every other member of an active group) is pushed when, as the
//! change is processed, they have no live connection anywhere, have not muted the conversation
//! and do not block the sender; each device of their live sessions gets one push per message at
//! most (a delivery record claimed before sending, so retries, replays after a restart and a
//! second node never repeat one). A push the receiver answers 429/5xx (or not at all) is tried
//! again with a doubling wait, `PUSH_ATTEMPTS` times in all; 404/410 forgets the device.

use std::{collections::HashSet, time::Duration};

use crate::{
    error::AppError,
    model::{ChatType, Message, PushSubscription, PushTarget, Room, UserId},
    push::{webhook::WebhookPush, webpush::topic_of, Notice, Outcome, Sender},
    service::{access, notifications, realtime},
    AppContext,
};

/// How long a delivery record is kept: longer than any replay of the feed after a restart.
const DELIVERY_RECORD_DAYS: i64 = 7;
/// The longest wait between two attempts, whatever `Retry-After` says.
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60);
/// A preview's length in characters (a push payload is at most 4 KiB, encrypted).
const PREVIEW_CHARS: usize = 500;
/// A push without the text.
const NO_PREVIEW: &str = "New message";

/// One push to one device.
#[derive(Debug, Clone)]
pub struct Push {
    pub subscription: PushSubscription,
    pub notice: Notice,
    /// The conversation's Web Push `Topic`.
    pub topic: String,
}

/// The text a push shows: the message's (cut to `PREVIEW_CHARS`), a file's name, or "New
/// message" when previews are off.
fn preview(ctx: &AppContext, message: &Message) -> String {
    if !ctx.config.push.preview {
        return NO_PREVIEW.to_owned();
    }
    let text = message.message.trim();
    if text.is_empty() {
        return match &message.attachment {
            Some(crate::model::MessageAttachment::File(file)) => format!("📎 {}", file.file_name),
            Some(crate::model::MessageAttachment::Link(_)) => "📎 Attachment".to_owned(),
            None => NO_PREVIEW.to_owned(),
        };
    }
    let mut cut: String = text.chars().take(PREVIEW_CHARS).collect();
    if text.chars().nth(PREVIEW_CHARS).is_some() {
        cut.push('…');
    }
    cut
}

/// Who may be pushed for a message: a private message's receiver, or the other members of an
/// active group.
async fn recipients_of(ctx: &AppContext, message: &Message) -> Result<Vec<UserId>, AppError> {
    let recipients = match (message.chat_type, message.chat_room_id) {
        (ChatType::Group, Room::Group(group)) => {
            realtime::reach::active_group_members(ctx, group).await?
        }
        _ => message.receiver.into_iter().collect(),
    };
    Ok(recipients
        .into_iter()
        .filter(|user| *user != message.sender)
        .collect())
}

/// What the message's pushes show: a private message under the sender's name; a group's under
/// the group's name, "sender: text".
async fn notice_of(ctx: &AppContext, message: &Message) -> Result<Notice, AppError> {
    let sender = ctx.store.find_user_by_id(message.sender).await?;
    let sender_name = sender.map_or_else(|| "Someone".to_owned(), |user| user.username);
    let text = preview(ctx, message);
    let (title, body) = match message.chat_room_id {
        Room::Group(group) => {
            let name = ctx
                .store
                .find_group(group)
                .await?
                .map_or_else(|| "Group".to_owned(), |group| group.group_name);
            let body = if ctx.config.push.preview {
                format!("{sender_name}: {text}")
            } else {
                text
            };
            (name, body)
        }
        _ => (sender_name, text),
    };
    Ok(Notice {
        title,
        body,
        chat_room_id: message.chat_room_id.to_string(),
        message_id: message.message_id.clone(),
    })
}

/// Whether `recipient` is to be pushed for `message`: no live connection anywhere, the
/// conversation not muted, the sender not blocked, the account live.
async fn wants_a_push(
    ctx: &AppContext,
    recipient: UserId,
    message: &Message,
) -> Result<bool, AppError> {
    if realtime::is_connected(ctx, recipient).await? {
        return Ok(false);
    }
    if notifications::muted_rooms(ctx, recipient)
        .await?
        .contains_key(&message.chat_room_id)
    {
        return Ok(false);
    }
    if ctx.store.blocks(recipient, message.sender).await? {
        return Ok(false);
    }
    Ok(access::live_user(ctx, recipient, "Recipient").await.is_ok())
}

/// The pushes new messages cause (native devices only when the webhook is set). Every recipient's
/// devices are read first, in one read for all the messages: most recipients have none, and cost
/// nothing more.
pub async fn pushes_for(
    ctx: &AppContext,
    messages: &[&Message],
    with_webhook: bool,
) -> Result<Vec<Push>, AppError> {
    let mut audiences = Vec::with_capacity(messages.len());
    for message in messages.iter().filter(|message| !message.deleted) {
        audiences.push((*message, recipients_of(ctx, message).await?));
    }
    let everyone: Vec<UserId> = audiences
        .iter()
        .flat_map(|(_, recipients)| recipients.iter().copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut devices = ctx.store.push_subscriptions_of(&everyone).await?;
    devices.retain(|device| with_webhook || matches!(device.target, PushTarget::WebPush { .. }));
    let mut pushes = Vec::new();
    if devices.is_empty() {
        return Ok(pushes);
    }
    for (message, recipients) in audiences {
        let recipients: HashSet<UserId> = recipients.into_iter().collect();
        let theirs: Vec<PushSubscription> = devices
            .iter()
            .filter(|device| recipients.contains(&device.user_id))
            .cloned()
            .collect();
        if !theirs.is_empty() {
            pushes.extend(pushes_of(ctx, message, theirs).await?);
        }
    }
    Ok(pushes)
}

/// The pushes of one message to the recipients' `devices` that are to be pushed: those of
/// recipients who want one, on their live sessions.
async fn pushes_of(
    ctx: &AppContext,
    message: &Message,
    devices: Vec<PushSubscription>,
) -> Result<Vec<Push>, AppError> {
    let owners: HashSet<UserId> = devices.iter().map(|device| device.user_id).collect();
    let mut reached = Vec::new();
    for owner in owners {
        if wants_a_push(ctx, owner, message).await? {
            let theirs = devices
                .iter()
                .filter(|device| device.user_id == owner)
                .cloned()
                .collect();
            reached.extend(notifications::on_live_sessions(ctx, owner, theirs).await?);
        }
    }
    let devices = reached;
    if devices.is_empty() {
        return Ok(Vec::new());
    }
    let notice = notice_of(ctx, message).await?;
    let topic = topic_of(&notice.chat_room_id);
    Ok(devices
        .into_iter()
        .map(|subscription| Push {
            subscription,
            notice: notice.clone(),
            topic: topic.clone(),
        })
        .collect())
}

/// Takes the push for this node to send: false when it was sent (or is being sent) already.
pub async fn claim(ctx: &AppContext, push: &Push) -> Result<bool, AppError> {
    let keep_until = crate::time::now() + chrono::Duration::days(DELIVERY_RECORD_DAYS);
    Ok(ctx
        .store
        .claim_push_delivery(
            push.subscription.subscription_id,
            &push.notice.message_id,
            keep_until,
        )
        .await?)
}

/// The result of delivering one push, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// The device is gone (404/410) and was forgotten.
    Gone,
    /// Refused for good (another 4xx, a broken registration).
    Refused,
    /// Every attempt failed.
    GaveUp,
}

impl Delivered {
    pub fn label(self) -> &'static str {
        match self {
            Delivered::Sent => "sent",
            Delivered::Gone => "gone",
            Delivered::Refused => "refused",
            Delivered::GaveUp => "gave_up",
        }
    }
}

/// Delivers one claimed push, retrying as configured.
pub async fn deliver(ctx: &AppContext, sender: &Sender, push: &Push) -> Delivered {
    let attempts = ctx.config.push.attempts.max(1);
    let mut wait = ctx.config.push.retry_base;
    let webhook_id = format!(
        "{}.{}",
        push.subscription.subscription_id, push.notice.message_id
    );
    for attempt in 1..=attempts {
        let outcome = match &push.subscription.target {
            PushTarget::WebPush { endpoint, keys } => {
                sender
                    .web_push(endpoint, keys, &push.topic, &push.notice)
                    .await
            }
            PushTarget::WebhookToken { token, platform } => {
                let delivery = WebhookPush {
                    webhook_id: &webhook_id,
                    device_token: token,
                    platform,
                    payload: &push.notice,
                };
                sender.to_webhook(&delivery).await
            }
        };
        match outcome {
            Outcome::Delivered => return Delivered::Sent,
            Outcome::Gone => {
                let subscription = &push.subscription;
                if let Err(err) = ctx
                    .store
                    .delete_push_subscription(subscription.subscription_id, subscription.user_id)
                    .await
                {
                    tracing::warn!(error = %err, "cannot forget a gone push device");
                }
                return Delivered::Gone;
            }
            Outcome::Refused(reason) => {
                tracing::warn!(reason, subscription = %push.subscription.subscription_id, "push refused");
                return Delivered::Refused;
            }
            Outcome::Retry { after, reason } => {
                if attempt == attempts {
                    tracing::warn!(reason, attempts, subscription = %push.subscription.subscription_id, "push given up");
                    return Delivered::GaveUp;
                }
                tokio::time::sleep(after.unwrap_or(wait).min(LONGEST_RETRY_WAIT)).await;
                wait = wait.saturating_mul(2);
            }
        }
    }
    Delivered::GaveUp
}

/// Forgets delivery records past their keeping time (the node's sweep).
pub async fn forget_old_deliveries(ctx: &AppContext) -> Result<u64, AppError> {
    Ok(ctx.store.forget_push_deliveries(crate::time::now()).await?)
}

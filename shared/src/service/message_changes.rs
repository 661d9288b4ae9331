//! What happens to a message after it is sent: the sender edits it, the sender (or a group admin)
//! deletes it, participants react to it. One rule for REST, socket.io and API Gateway clients;
//! each change is a feed event that reaches the whole conversation.

use crate::{
    auth::CurrentUser,
    dto::chat::{EditMessageRequest, MessageDeleted, MessageReactions},
    error::AppError,
    model::{ChatType, Message, MAX_DISTINCT_REACTIONS},
    service::{access, moderation, rate_limit},
    store::{ReactOutcome, ReactionChange},
    AppContext,
};

/// Longest emoji accepted, in characters (a flag or a family sequence is several).
pub const MAX_EMOJI_CHARS: usize = 32;

/// Who the caller is to a message's conversation.
pub(crate) struct Participation {
    pub(crate) message: Message,
    pub(crate) is_admin: bool,
}

/// The message, if the caller takes part in its conversation: 404 for no such message, 403 for
/// someone outside it.
pub(crate) async fn participation(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
) -> Result<Participation, AppError> {
    let message = ctx
        .store
        .find_message(message_id)
        .await?
        .ok_or_else(|| AppError::not_found("Message not found"))?;
    let is_admin = match message.chat_type {
        ChatType::Private => {
            if caller.id != message.sender && message.receiver != Some(caller.id) {
                return Err(AppError::forbidden("You are not part of this conversation"));
            }
            false
        }
        ChatType::Group => {
            let group_id = message
                .group_id
                .ok_or_else(|| AppError::internal("group message without groupId"))?;
            access::member_group(ctx, caller, group_id)
                .await?
                .is_admin(caller.id)
        }
    };
    Ok(Participation { message, is_admin })
}

/// Edits, deletions and reactions are stored changes fanned out to the conversation: they share
/// the sender's message budget.
async fn count_change(ctx: &AppContext, caller: CurrentUser) -> Result<(), AppError> {
    let key = rate_limit::user_key(caller.id);
    rate_limit::check(ctx, "message", &key, ctx.config.message_rate_limit).await
}

fn deleted_conflict(what: &str) -> AppError {
    AppError::conflict(format!("A deleted message cannot {what}"))
}

/// The sender replaces the text; the message with `editedAt`.
pub async fn edit(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
    input: EditMessageRequest,
) -> Result<Message, AppError> {
    let Participation { message, .. } = participation(ctx, caller, message_id).await?;
    if message.sender != caller.id {
        return Err(AppError::forbidden("Only the sender can edit this message"));
    }
    if message.deleted {
        return Err(deleted_conflict("be edited"));
    }
    let text = moderation::filter::screen(&ctx.config.moderation, input.message)?;
    count_change(ctx, caller).await?;
    ctx.store
        .edit_message(message.id, text, crate::time::now())
        .await?
        // Deleted between the read and the write.
        .ok_or_else(|| deleted_conflict("be edited"))
}

/// The sender, or an admin of the group, turns the message into a tombstone. Deleting again
/// answers the same.
pub async fn delete(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
) -> Result<MessageDeleted, AppError> {
    let Participation { message, is_admin } = participation(ctx, caller, message_id).await?;
    let may = message.sender == caller.id || (message.chat_type == ChatType::Group && is_admin);
    if !may {
        return Err(AppError::forbidden(match message.chat_type {
            ChatType::Private => "Only the sender can delete this message",
            ChatType::Group => "Only the sender or a group admin can delete this message",
        }));
    }
    if message.deleted {
        return Ok(MessageDeleted::from(&message));
    }
    count_change(ctx, caller).await?;
    let (deleted, _) = ctx
        .store
        .delete_message(message.id, crate::time::now(), false)
        .await?
        .ok_or_else(|| AppError::not_found("Message not found"))?;
    super::attachments::remove_for(ctx, &message).await;
    Ok(MessageDeleted::from(&deleted))
}

/// 1–32 characters, none of them a control character or whitespace only.
fn checked_emoji(emoji: &str) -> Result<String, AppError> {
    let length = emoji.chars().count();
    if length == 0
        || length > MAX_EMOJI_CHARS
        || emoji.trim().is_empty()
        || emoji.chars().any(char::is_control)
    {
        return Err(AppError::Validation(vec![format!(
            "emoji must be 1 to {MAX_EMOJI_CHARS} characters, not blank, without control characters"
        )]));
    }
    Ok(emoji.to_owned())
}

/// Adds (or removes) the caller's `emoji`; idempotent either way. Participants only.
pub async fn react(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
    emoji: &str,
    add: bool,
) -> Result<MessageReactions, AppError> {
    let emoji = checked_emoji(emoji)?;
    let Participation { message, .. } = participation(ctx, caller, message_id).await?;
    if message.deleted {
        return Err(deleted_conflict("get reactions"));
    }
    count_change(ctx, caller).await?;
    let outcome = ctx
        .store
        .react(ReactionChange {
            message: message.id,
            emoji,
            user: caller.id,
            add,
            max_distinct: MAX_DISTINCT_REACTIONS,
            now: crate::time::now(),
        })
        .await?;
    match outcome {
        ReactOutcome::Done(message) => Ok(MessageReactions::from(message.as_ref())),
        ReactOutcome::TooMany => Err(AppError::conflict(format!(
            "A message can carry at most {MAX_DISTINCT_REACTIONS} different reactions"
        ))),
        ReactOutcome::Gone => Err(deleted_conflict("get reactions")),
    }
}

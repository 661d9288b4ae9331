//! Messages: one path in for REST and socket sends, history, status.

use crate::{
    auth::CurrentUser,
    dto::chat::{
        CreateMessageRequest, FetchMessagesRequest, MessagePage, MessageSearchPage,
        SearchMessagesQuery, MAX_SEARCH_RESULTS,
    },
    error::AppError,
    model::{
        ChatType, Cursor, HistoryWindow, Message, MessageAttachment, MessageOid, MessageStatus,
        ReplyPreview, Room, UserId,
    },
    service::{access, attachments, moderation, rate_limit},
    store::{MessageSearch, SendOutcome, SendRequest, StoreError},
    AppContext,
};

const DEFAULT_LIMIT: u32 = 20;

/// A stored message and whether this call created it (false: an idempotent repeat).
pub struct Sent {
    pub message: Message,
    pub created: bool,
}

/// Validates who may send what, derives the room, ids and sender, and stores the message. The
/// realtime node learns of it from the change feed, whichever entry point (REST or socket) sent it.
pub async fn send(
    ctx: &AppContext,
    caller: CurrentUser,
    mut input: CreateMessageRequest,
) -> Result<Sent, AppError> {
    if input.sender.is_some_and(|sender| sender != caller.id) {
        return Err(AppError::forbidden("sender must be the authenticated user"));
    }
    let (chat_room_id, receiver, group_id) = match input.chat_type() {
        ChatType::Private => {
            if input.group_id.is_some() {
                return Err(AppError::bad_request("a PRIVATE message has no groupId"));
            }
            let receiver = input.receiver.ok_or_else(|| {
                AppError::bad_request("receiver is required for a PRIVATE message")
            })?;
            if receiver == caller.id {
                return Err(AppError::bad_request("receiver must be another user"));
            }
            (Room::private(caller.id, receiver), Some(receiver), None)
        }
        ChatType::Group => {
            if input.receiver.is_some() {
                return Err(AppError::bad_request("a GROUP message has no receiver"));
            }
            let group_id = input
                .group_id
                .ok_or_else(|| AppError::bad_request("groupId is required for a GROUP message"))?;
            (Room::Group(group_id), None, Some(group_id))
        }
    };

    let text =
        moderation::filter::screen(&ctx.config.moderation, std::mem::take(&mut input.message))?;
    let reply_to = match &input.reply_to {
        Some(quoted) => Some(quoted_in(ctx, quoted, &chat_room_id).await?),
        None => None,
    };
    let now = crate::time::now();
    let (rate_limit, retry_after_secs) = rate_limit::window(
        "message",
        &rate_limit::user_key(caller.id),
        ctx.config.message_rate_limit,
        now,
    )?;
    // Time-ordered (UUID v7): new ids append to the end of the unique index instead of landing on
    // a random page of it (one page written per batch of sends, not one per send).
    let message_id = uuid::Uuid::now_v7().to_string();
    let attachment = match (&input.attachment_id, input.attachment.take()) {
        (Some(attachment_id), _) => {
            // A repeat of a send that already carries the file answers with that message.
            if let Some(client_id) = &input.client_message_id {
                if let Some(message) = ctx
                    .store
                    .find_message_by_client_id(caller.id, client_id)
                    .await?
                {
                    return Ok(Sent {
                        message,
                        created: false,
                    });
                }
            }
            let file =
                attachments::claim(ctx, caller, attachment_id, &chat_room_id, &message_id).await?;
            Some(MessageAttachment::File(file))
        }
        (None, Some(url)) => Some(MessageAttachment::Link(url)),
        (None, None) => None,
    };
    let claimed = attachment
        .as_ref()
        .and_then(MessageAttachment::attachment_id);
    let message = Message {
        id: MessageOid::new(),
        chat_room_id,
        message_id: message_id.clone(),
        chat_type: input.chat_type(),
        sender: caller.id,
        receiver,
        group_id,
        message: text,
        attachment,
        status: MessageStatus::Sent,
        read_by: Vec::new(),
        client_message_id: input.client_message_id.clone(),
        created_at: now,
        updated_at: now,
        edited_at: None,
        deleted: false,
        deleted_at: None,
        removed_by_moderator: false,
        reactions: Vec::new(),
        reply_to,
    };
    // The idempotency lookup, the rate limit, who may receive it and the write: one store
    // operation (one transaction on SQLite).
    let outcome = ctx
        .store
        .send_message(SendRequest {
            message,
            rate_limit,
        })
        .await;
    if let Some(id) = &claimed {
        if !matches!(outcome, Ok(SendOutcome::Created(_))) {
            attachments::release(ctx, id, &message_id).await;
        }
    }
    match outcome {
        Ok(SendOutcome::Created(message)) => Ok(Sent {
            message,
            created: true,
        }),
        Ok(SendOutcome::Repeated(message)) => Ok(Sent {
            message,
            created: false,
        }),
        Ok(SendOutcome::RateLimited) => {
            crate::metrics::rate_limited("message");
            Err(AppError::TooManyRequests { retry_after_secs })
        }
        Ok(SendOutcome::ReceiverMissing) => Err(AppError::not_found("Receiver not found")),
        Ok(SendOutcome::Blocked) => Err(access::blocked_by_receiver()),
        Ok(SendOutcome::GroupMissing) => Err(AppError::not_found("Group not found")),
        Ok(SendOutcome::NotAMember) => Err(access::not_a_member()),
        // Two sends with one clientMessageId raced (possibly from two processes): the first won.
        Err(StoreError::Duplicate {
            field: "clientMessageId",
        }) => {
            let client_id = input.client_message_id.unwrap_or_default();
            let message = ctx
                .store
                .find_message_by_client_id(caller.id, &client_id)
                .await?
                .ok_or_else(|| AppError::internal("duplicate clientMessageId without a message"))?;
            Ok(Sent {
                message,
                created: false,
            })
        }
        Err(err) => Err(err.into()),
    }
}

/// The message a reply quotes: one of the same conversation (a message elsewhere, or none, is
/// refused alike, so a reply cannot probe other conversations).
async fn quoted_in(
    ctx: &AppContext,
    message_id: &str,
    room: &Room,
) -> Result<ReplyPreview, AppError> {
    match ctx.store.find_message(message_id).await? {
        Some(quoted) if quoted.chat_room_id == *room => Ok(ReplyPreview::of(&quoted)),
        _ => Err(AppError::bad_request(
            "replyTo must be a message of this conversation",
        )),
    }
}

/// The conversation a fetch names: a group the caller belongs to, or the caller and one partner.
async fn conversation(
    ctx: &AppContext,
    caller: CurrentUser,
    input: &FetchMessagesRequest,
) -> Result<Room, AppError> {
    if let Some(current) = input.current_user_id {
        access::ensure_self(caller, current)?;
    }
    if let Some(group_id) = input.group_id {
        access::member_group(ctx, caller, group_id).await?;
        return Ok(Room::Group(group_id));
    }
    let participants: Vec<UserId> = [input.sender_id, input.receiver_id]
        .into_iter()
        .flatten()
        .collect();
    if participants.is_empty() {
        return Err(AppError::bad_request(
            "name the conversation: groupId, or senderId/receiverId",
        ));
    }
    if participants.len() == 2 && !participants.contains(&caller.id) {
        return Err(AppError::forbidden(
            "You can only read your own conversations",
        ));
    }
    let partner = participants
        .into_iter()
        .find(|id| *id != caller.id)
        .ok_or_else(|| AppError::bad_request("the conversation needs a partner other than you"))?;
    Ok(Room::private(caller.id, partner))
}

async fn cursor(
    ctx: &AppContext,
    room: &Room,
    message_id: &str,
    name: &str,
) -> Result<Cursor, AppError> {
    ctx.store
        .find_message(message_id)
        .await?
        .filter(|message| message.chat_room_id == *room)
        .map(|message| Cursor {
            created_at: message.created_at,
            id: message.id,
        })
        .ok_or_else(|| {
            AppError::bad_request(format!("{name} must be a messageId in this conversation"))
        })
}

/// History: a page (newest first), or from a cursor. Fetches one extra row to know `hasMore`.
pub async fn fetch(
    ctx: &AppContext,
    caller: CurrentUser,
    input: FetchMessagesRequest,
) -> Result<MessagePage, AppError> {
    let room = conversation(ctx, caller, &input).await?;
    let limit = input.limit.unwrap_or(DEFAULT_LIMIT);
    let page = input.page.unwrap_or(1);
    let window = match (&input.before, &input.after) {
        (Some(_), Some(_)) => return Err(AppError::bad_request("use before or after, not both")),
        (Some(before), None) => HistoryWindow::Before(cursor(ctx, &room, before, "before").await?),
        (None, Some(after)) => HistoryWindow::After(cursor(ctx, &room, after, "after").await?),
        (None, None) => HistoryWindow::Page {
            offset: u64::from(page - 1) * u64::from(limit),
        },
    };
    let mut messages = ctx.store.room_messages(&room, window, limit + 1).await?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    let total = ctx.store.count_room_messages(&room).await?;
    Ok(MessagePage {
        messages,
        page,
        limit,
        total,
        has_more,
    })
}

/// Moves one message forward. Only its receiver (private) or a member other than its sender
/// (group) may; a group READ records the reader in `readBy`. Backwards is a 409; repeating the
/// current status changes nothing.
pub async fn update_status(
    ctx: &AppContext,
    caller: CurrentUser,
    message_id: &str,
    status: MessageStatus,
) -> Result<Message, AppError> {
    if status == MessageStatus::Sent {
        return Err(AppError::Validation(vec![
            "status must be DELIVERED or READ".into(),
        ]));
    }
    let message = ctx
        .store
        .find_message(message_id)
        .await?
        .ok_or_else(|| AppError::not_found("Message not found"))?;
    let reader = match message.chat_type {
        ChatType::Private => {
            if message.receiver != Some(caller.id) {
                return Err(AppError::forbidden(
                    "Only the receiver can update this message",
                ));
            }
            None
        }
        ChatType::Group => {
            let group_id = message
                .group_id
                .ok_or_else(|| AppError::internal("group message without groupId"))?;
            access::member_group(ctx, caller, group_id).await?;
            if message.sender == caller.id {
                return Err(AppError::forbidden(
                    "The sender cannot mark their own message",
                ));
            }
            // Another member's READ moved the message past DELIVERED: this member's client
            // reporting delivery is normal, not a conflict.
            if status == MessageStatus::Delivered && message.status == MessageStatus::Read {
                return Ok(message);
            }
            (status == MessageStatus::Read).then_some(caller.id)
        }
    };
    if status < message.status {
        return Err(AppError::conflict(format!(
            "status cannot move back from {} to {}",
            message.status.as_str(),
            status.as_str()
        )));
    }
    let updated = ctx
        .store
        .advance_message(message.id, status, reader, crate::time::now())
        .await?;
    Ok(updated.unwrap_or(message))
}

/// Private messages from `partner` to the caller still undelivered.
pub async fn undelivered(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    partner: UserId,
) -> Result<Vec<Message>, AppError> {
    access::ensure_self(caller, user_id)?;
    Ok(ctx.store.undelivered_messages(partner, caller.id).await?)
}

/// Marks every message from `partner` to the caller as `status` (forward only); how many moved.
pub async fn mark_conversation(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    partner: UserId,
    status: MessageStatus,
) -> Result<u64, AppError> {
    access::ensure_self(caller, user_id)?;
    Ok(ctx
        .store
        .advance_conversation(partner, caller.id, status, crate::time::now())
        .await?)
}

/// Most words one search looks for.
const MAX_SEARCH_TERMS: usize = 10;

/// Full-text search over the caller's conversations (or one of them), newest first.
pub async fn search(
    ctx: &AppContext,
    caller: CurrentUser,
    query: SearchMessagesQuery,
) -> Result<MessageSearchPage, AppError> {
    let terms: Vec<String> = query
        .q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_SEARCH_TERMS)
        .map(str::to_owned)
        .collect();
    if terms.is_empty() {
        return Err(AppError::Validation(vec![
            "q must contain at least one word".into(),
        ]));
    }
    let room = match &query.chat_room_id {
        Some(raw) => Some(own_room(ctx, caller, raw).await?),
        None => None,
    };
    let key = rate_limit::user_key(caller.id);
    rate_limit::check(
        ctx,
        "message-search",
        &key,
        ctx.config.message_search_rate_limit,
    )
    .await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_SEARCH_RESULTS);
    let mut messages = ctx
        .store
        .search_messages(MessageSearch {
            user: caller.id,
            terms,
            room,
            limit: limit + 1,
        })
        .await?;
    let has_more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    Ok(MessageSearchPage { messages, has_more })
}

/// A conversation the caller takes part in, named by its `chatRoomId`: 403 otherwise.
async fn own_room(ctx: &AppContext, caller: CurrentUser, raw: &str) -> Result<Room, AppError> {
    let room: Room = raw
        .parse()
        .map_err(|err| AppError::Validation(vec![format!("chatRoomId {err}")]))?;
    match room {
        Room::Private(pair) if pair.partner_of(caller.id).is_some() => Ok(room),
        Room::Group(group) => {
            access::member_group(ctx, caller, group).await?;
            Ok(room)
        }
        _ => Err(AppError::forbidden(
            "You can only search your own conversations",
        )),
    }
}

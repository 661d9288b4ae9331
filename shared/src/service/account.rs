//! The caller's own account as a whole: deleting it (Apple 5.1.1(v), GDPR Art. 17) and exporting
//! a copy of their data (GDPR Art. 20).

use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::json;

use crate::{
    auth::{password, CurrentUser},
    dto::{moderation::DeleteAccountRequest, users::SessionView},
    error::AppError,
    model::{Group, GroupId, MessageOid, UserId, UserRecord},
    service::{attachments, rate_limit},
    store::MemberRemoval,
    AppContext,
};

/// Messages per page of the export (one query each).
const EXPORT_PAGE: u32 = 500;
/// Per user: deletion is asked with the password; guessing it here is as slow as at login.
const DELETE_RATE: crate::config::RateLimit = crate::config::RateLimit {
    max: 5,
    window: std::time::Duration::from_secs(15 * 60),
};

async fn live_user(ctx: &AppContext, caller: CurrentUser) -> Result<UserRecord, AppError> {
    ctx.store
        .find_user_by_id(caller.id)
        .await?
        .filter(|user| !user.is_deleted())
        .ok_or_else(|| AppError::unauthorized("The account of this token no longer exists"))
}

/// `DELETE /users/me`: with the password. Every session ends first (sockets close on every node),
/// then the groups are left (handing admin over to the longest-standing member when the caller
/// was the last admin; a group with nobody else is deactivated), the files, messages (erased, or
/// tombstones per `ACCOUNT_DELETION_MESSAGES`), reactions, receipts, reports filed and blocks
/// go, and the profile becomes a tombstone ("Deleted user"). Each step can be retried: asking
/// again after a failure finishes the job (after logging in again, the account still being
/// there).
pub async fn delete(
    ctx: &AppContext,
    caller: CurrentUser,
    input: DeleteAccountRequest,
) -> Result<(), AppError> {
    rate_limit::check(
        ctx,
        "account-delete",
        &rate_limit::user_key(caller.id),
        DELETE_RATE,
    )
    .await?;
    let user = live_user(ctx, caller).await?;
    if !password::verify(input.password, user.password_hash.clone()).await? {
        return Err(AppError::forbidden("Password is incorrect"));
    }
    let now = crate::time::now();
    ctx.store.delete_user_sessions(user.id).await?;
    for group in ctx.store.groups_of_user(user.id).await? {
        leave_group(ctx, &group, user.id).await?;
    }
    attachments::remove_all_of(ctx, user.id).await?;
    let keep = ctx.config.moderation.keep_deleted_accounts_messages;
    ctx.store.erase_messages_of(user.id, keep, now).await?;
    ctx.store.delete_reports_by(user.id).await?;
    ctx.store.forget_notifications_of(user.id).await?;
    ctx.store.tombstone_user(user.id, now).await?;
    tracing::info!(user = %user.id, "account deleted");
    Ok(())
}

/// Leaves one group, handing admin over first when `user` is its last admin.
async fn leave_group(ctx: &AppContext, group: &Group, user: UserId) -> Result<(), AppError> {
    let now = crate::time::now();
    let successor = group
        .members
        .iter()
        .find(|member| **member != user)
        .copied();
    if group.admins == [user] {
        match successor {
            Some(successor) => {
                ctx.store
                    .set_group_admins(group.id, &[successor], now)
                    .await?;
            }
            None => {
                ctx.store.deactivate_group(group.id, now).await?;
                return Ok(());
            }
        }
    }
    match ctx.store.remove_group_member(group.id, user, now).await? {
        MemberRemoval::Removed(_) | MemberRemoval::NotMember | MemberRemoval::NoGroup => Ok(()),
        MemberRemoval::LastAdmin => Err(AppError::conflict(format!(
            "Cannot leave group {}: try again",
            group.id
        ))),
    }
}

/// The export's pieces after its head: pages of messages, then the closing bracket.
enum Next {
    Messages {
        after: Option<MessageOid>,
        first: bool,
    },
    Close,
    Done,
}

/// `GET /users/me/export`: one JSON document, `{exportedAt, profile, sessions, blocks, groups,
/// attachments, messages}`, written as it is read (the messages a page at a time), never whole in
/// memory. Only the caller's own data: their profile, their sessions, whom they block, the groups
/// they are in (names and members' ids), the files they uploaded and every message they sent
/// with its conversation.
pub async fn export(
    ctx: &AppContext,
    caller: CurrentUser,
) -> Result<BoxStream<'static, Result<String, AppError>>, AppError> {
    let limit = ctx.config.moderation.export_rate_limit;
    rate_limit::check(ctx, "export", &rate_limit::user_key(caller.id), limit).await?;
    let user = live_user(ctx, caller).await?;
    let now = crate::time::now();
    let sessions: Vec<SessionView> = ctx
        .store
        .list_sessions(user.id, now)
        .await?
        .iter()
        .map(|session| SessionView::new(session, caller.session_id))
        .collect();
    let blocks = ctx.store.blocked_users(user.id).await?;
    let groups = ctx.store.groups_of_user(user.id).await?;
    let uploads: Vec<_> = ctx
        .store
        .attachments_of(user.id)
        .await?
        .into_iter()
        .map(|upload| {
            json!({
                "attachmentId": upload.id.as_str(),
                "chatRoomId": upload.chat_room_id,
                "fileName": upload.file_name,
                "contentType": upload.content_type,
                "size": upload.size,
                "messageId": upload.message_id,
                "createdAt": crate::time::to_iso(&upload.created_at),
            })
        })
        .collect();
    let head = json!({
        "exportedAt": crate::time::to_iso(&now),
        "profile": crate::model::User::from(&user),
        "sessions": sessions,
        "blocks": blocks,
        "groups": groups.iter().map(group_summary).collect::<Vec<_>>(),
        "attachments": uploads,
    })
    .to_string();
    // The document without its closing brace: the messages array follows.
    let head = format!("{},\"messages\":[", head.trim_end_matches('}'));
    let ctx = ctx.clone();
    let user_id = user.id;
    let pages = stream::unfold(
        Next::Messages {
            after: None,
            first: true,
        },
        move |next| {
            let ctx = ctx.clone();
            async move {
                match next {
                    Next::Done => None,
                    Next::Close => Some((Ok("]}".to_owned()), Next::Done)),
                    Next::Messages { after, first } => {
                        match ctx
                            .store
                            .messages_sent_by(user_id, after, EXPORT_PAGE)
                            .await
                        {
                            Err(err) => {
                                tracing::error!(error = %err, "data export cut short");
                                Some((Err(err.into()), Next::Done))
                            }
                            Ok(page) if page.is_empty() => Some((Ok(String::new()), Next::Close)),
                            Ok(page) => {
                                let last = page.last().map(|message| message.id);
                                let mut chunk = String::new();
                                for (index, message) in page.iter().enumerate() {
                                    if !(first && index == 0) {
                                        chunk.push(',');
                                    }
                                    chunk.push_str(
                                        &serde_json::to_string(message).unwrap_or_default(),
                                    );
                                }
                                let next = if page.len() < EXPORT_PAGE as usize {
                                    Next::Close
                                } else {
                                    Next::Messages {
                                        after: last,
                                        first: false,
                                    }
                                };
                                Some((Ok(chunk), next))
                            }
                        }
                    }
                }
            }
        },
    );
    Ok(stream::once(async move { Ok(head) }).chain(pages).boxed())
}

fn group_summary(group: &Group) -> serde_json::Value {
    let id: GroupId = group.id;
    json!({
        "groupId": id,
        "groupName": group.group_name,
        "groupDescription": group.group_description,
        "members": group.members,
        "admins": group.admins,
        "createdAt": crate::time::to_iso(&group.created_at),
    })
}

/// Frees the usernames of accounts deleted more than `DELETED_USERNAME_HOLD` ago (until then the
/// name stays taken, so nobody can pose as the deleted account at once); how many.
pub async fn release_usernames(ctx: &AppContext) -> Result<u64, AppError> {
    let hold = crate::time::span(ctx.config.moderation.deleted_username_hold);
    let deleted_before = crate::time::now()
        .checked_sub_signed(hold)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    Ok(ctx.store.release_usernames(deleted_before).await?)
}

//! Last seen, online status, and the private rooms list.

use crate::{
    auth::CurrentUser,
    dto::{
        chat::PrivateRoom,
        presence::{LastSeen, OnlineStatus},
    },
    error::AppError,
    model::{PublicUser, UserId, UserRecord},
    service::access,
    AppContext,
};

async fn user(ctx: &AppContext, id: UserId) -> Result<UserRecord, AppError> {
    ctx.store
        .find_user_by_id(id)
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))
}

pub async fn last_seen(ctx: &AppContext, id: UserId) -> Result<LastSeen, AppError> {
    let user = user(ctx, id).await?;
    Ok(LastSeen {
        user_id: user.id,
        last_seen: user.last_seen,
    })
}

/// Only for yourself.
pub async fn touch_last_seen(
    ctx: &AppContext,
    caller: CurrentUser,
    id: UserId,
) -> Result<LastSeen, AppError> {
    access::ensure_self(caller, id)?;
    let user = ctx
        .store
        .set_last_seen(caller.id, crate::time::now())
        .await?
        .ok_or_else(|| AppError::unauthorized("The account of this token no longer exists"))?;
    Ok(LastSeen {
        user_id: user.id,
        last_seen: user.last_seen,
    })
}

pub async fn online_status(ctx: &AppContext, id: UserId) -> Result<OnlineStatus, AppError> {
    let user = user(ctx, id).await?;
    Ok(OnlineStatus {
        user_id: user.id,
        is_online: user.is_online,
        last_seen: user.last_seen,
    })
}

/// The caller's private conversations: partner, latest message, unread count; newest first.
pub async fn private_rooms(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
) -> Result<Vec<PrivateRoom>, AppError> {
    access::ensure_self(caller, user_id)?;
    let summaries = ctx.store.private_rooms(caller.id).await?;
    let partner_of = |sender: UserId, receiver: Option<UserId>| {
        if sender == caller.id {
            receiver
        } else {
            Some(sender)
        }
    };
    let partner_ids: Vec<UserId> = summaries
        .iter()
        .filter_map(|room| partner_of(room.latest.sender, room.latest.receiver))
        .collect();
    let partners = ctx.store.find_users_by_ids(&partner_ids).await?;
    Ok(summaries
        .into_iter()
        .filter_map(|room| {
            let partner_id = partner_of(room.latest.sender, room.latest.receiver)?;
            let partner = partners.iter().find(|user| user.id == partner_id)?;
            Some(PrivateRoom {
                chat_room_id: room.chat_room_id,
                partner: PublicUser::from(partner),
                last_message: room.latest,
                unread_count: room.unread,
            })
        })
        .collect())
}

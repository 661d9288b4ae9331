//! Last seen and online status: for the user and their contacts only.

use crate::{
    auth::CurrentUser,
    dto::presence::{LastSeen, OnlineStatus},
    error::AppError,
    model::{UserId, UserRecord},
    service::access::{self, shares_a_conversation},
    AppContext,
};

async fn user(ctx: &AppContext, id: UserId) -> Result<UserRecord, AppError> {
    ctx.store
        .find_user_by_id(id)
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))
}

/// A user's presence is for themself and their contacts (a private conversation or an active
/// group in common); to anyone else the user does not exist (404, as for an unknown id, so
/// presence queries cannot probe who is registered).
async fn visible_user(
    ctx: &AppContext,
    caller: CurrentUser,
    id: UserId,
) -> Result<UserRecord, AppError> {
    let user = user(ctx, id).await?;
    // Someone the user blocks does not see their presence either.
    if caller.id != id
        && (!shares_a_conversation(ctx, caller.id, id).await?
            || ctx.store.blocks(id, caller.id).await?)
    {
        return Err(AppError::not_found("User not found"));
    }
    Ok(user)
}

pub async fn last_seen(
    ctx: &AppContext,
    caller: CurrentUser,
    id: UserId,
) -> Result<LastSeen, AppError> {
    let user = visible_user(ctx, caller, id).await?;
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

pub async fn online_status(
    ctx: &AppContext,
    caller: CurrentUser,
    id: UserId,
) -> Result<OnlineStatus, AppError> {
    let user = visible_user(ctx, caller, id).await?;
    Ok(OnlineStatus {
        user_id: user.id,
        is_online: user.is_online,
        last_seen: user.last_seen,
    })
}

//! Last seen and online status.

use crate::{
    auth::CurrentUser,
    dto::presence::{LastSeen, OnlineStatus},
    error::AppError,
    model::{UserId, UserRecord},
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

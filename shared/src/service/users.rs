//! Profiles, discovery and session management for the signed-in user.

use crate::{
    auth::{password, CurrentUser},
    config::RateLimit,
    dto::users::{BlockState, ChangePasswordRequest, SessionView, UpdateProfileRequest},
    error::AppError,
    model::{search_key, ProfilePatch, PublicUser, SessionId, User, UserId},
    service::rate_limit,
    AppContext,
};

pub const SEARCH_LIMIT: u32 = 20;
/// Per user: generous for type-ahead search, but no bulk enumeration of the user base.
const SEARCH_RATE: RateLimit = RateLimit {
    max: 60,
    window: std::time::Duration::from_secs(60),
};
/// Per user: password guessing through this endpoint is as slow as through login.
const PASSWORD_RATE: RateLimit = RateLimit {
    max: 5,
    window: std::time::Duration::from_secs(15 * 60),
};

fn gone() -> AppError {
    AppError::unauthorized("The account of this token no longer exists")
}

pub async fn me(ctx: &AppContext, caller: CurrentUser) -> Result<User, AppError> {
    let user = ctx
        .store
        .find_user_by_id(caller.id)
        .await?
        .ok_or_else(gone)?;
    Ok(User::from(&user))
}

pub async fn update_me(
    ctx: &AppContext,
    caller: CurrentUser,
    input: UpdateProfileRequest,
) -> Result<User, AppError> {
    let trim = |name: Option<Option<String>>| name.map(|n| n.map(|n| n.trim().to_owned()));
    let patch = ProfilePatch {
        username: input.username,
        first_name: trim(input.first_name),
        last_name: trim(input.last_name),
        avatar: input.avatar,
    };
    if patch.is_empty() {
        return me(ctx, caller).await;
    }
    let user = ctx
        .store
        .update_user_profile(caller.id, patch, crate::time::now())
        .await?
        .ok_or_else(gone)?;
    Ok(User::from(&user))
}

pub async fn profile(ctx: &AppContext, user_id: UserId) -> Result<PublicUser, AppError> {
    let user = ctx
        .store
        .find_user_by_id(user_id)
        .await?
        .ok_or_else(|| AppError::not_found("User not found"))?;
    Ok(PublicUser::from(&user))
}

pub async fn search(
    ctx: &AppContext,
    caller: CurrentUser,
    query: &str,
) -> Result<Vec<PublicUser>, AppError> {
    rate_limit::check(
        ctx,
        "user-search",
        &rate_limit::user_key(caller.id),
        SEARCH_RATE,
    )
    .await?;
    let prefix = search_key(query.trim());
    if prefix.is_empty() {
        return Err(AppError::Validation(vec![
            "q must be 1 to 50 characters".into()
        ]));
    }
    let users = ctx
        .store
        .search_users(&prefix, caller.id, SEARCH_LIMIT)
        .await?;
    Ok(users.iter().map(PublicUser::from).collect())
}

/// Changes the password after checking the current one; every other session of the user ends.
pub async fn change_password(
    ctx: &AppContext,
    caller: CurrentUser,
    input: ChangePasswordRequest,
) -> Result<u64, AppError> {
    rate_limit::check(
        ctx,
        "password-change",
        &rate_limit::user_key(caller.id),
        PASSWORD_RATE,
    )
    .await?;
    let user = ctx
        .store
        .find_user_by_id(caller.id)
        .await?
        .ok_or_else(gone)?;
    if !password::verify(input.current_password, user.password_hash).await? {
        return Err(AppError::forbidden("Current password is incorrect"));
    }
    let hash = password::hash(input.new_password, ctx.config.bcrypt_cost).await?;
    ctx.store
        .set_user_password(caller.id, &hash, crate::time::now())
        .await?;
    Ok(ctx
        .store
        .delete_other_sessions(caller.id, caller.session_id)
        .await?)
}

pub async fn sessions(ctx: &AppContext, caller: CurrentUser) -> Result<Vec<SessionView>, AppError> {
    let sessions = ctx
        .store
        .list_sessions(caller.id, crate::time::now())
        .await?;
    Ok(sessions
        .iter()
        .map(|session| SessionView::new(session, caller.session_id))
        .collect())
}

/// Ends one of the caller's sessions. Someone else's session id is "not found", never a hint.
pub async fn end_session(
    ctx: &AppContext,
    caller: CurrentUser,
    session_id: SessionId,
) -> Result<(), AppError> {
    if ctx.store.delete_session(session_id, caller.id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("Session not found"))
    }
}

/// `PUT` (`blocked: true`) or `DELETE /users/me/blocks/{userId}`: idempotent either way. The blocked
/// user can no longer send the caller private messages or typing events, nor see their presence;
/// group messages are unaffected.
pub async fn set_block(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    blocked: bool,
) -> Result<BlockState, AppError> {
    if user_id == caller.id {
        return Err(AppError::bad_request("You cannot block yourself"));
    }
    crate::service::access::existing_user(ctx, user_id, "User").await?;
    if blocked {
        ctx.store
            .block_user(caller.id, user_id, crate::time::now())
            .await?;
    } else {
        ctx.store.unblock_user(caller.id, user_id).await?;
    }
    Ok(BlockState { user_id, blocked })
}

/// The public profiles of everyone the caller blocks, most recently blocked first.
pub async fn blocked(ctx: &AppContext, caller: CurrentUser) -> Result<Vec<PublicUser>, AppError> {
    let ids = ctx.store.blocked_users(caller.id).await?;
    let users = ctx.store.find_users_by_ids(&ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| users.iter().find(|user| user.id == *id))
        .map(PublicUser::from)
        .collect())
}

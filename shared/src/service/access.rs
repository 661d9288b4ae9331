//! Who may do what: the checks every chat service shares.

use crate::{
    auth::CurrentUser,
    error::AppError,
    model::{Group, GroupId, Room, UserId, UserRecord},
    AppContext,
};

/// A path or body user id must be the caller: nobody reads or writes as someone else.
pub fn ensure_self(caller: CurrentUser, user_id: UserId) -> Result<(), AppError> {
    if caller.id == user_id {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "You can only do this for your own account",
        ))
    }
}

/// An active group, or 404 (a deleted group looks like no group).
pub async fn active_group(ctx: &AppContext, id: GroupId) -> Result<Group, AppError> {
    ctx.store
        .find_group(id)
        .await?
        .filter(|group| group.is_active)
        .ok_or_else(|| AppError::not_found("Group not found"))
}

/// An active group the caller belongs to; 403 for a non-member.
pub async fn member_group(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
) -> Result<Group, AppError> {
    let group = active_group(ctx, id).await?;
    if group.is_member(caller.id) {
        Ok(group)
    } else {
        Err(not_a_member())
    }
}

/// The answer to someone the other user blocks, sending or typing to them.
pub fn blocked_by_receiver() -> AppError {
    AppError::forbidden("This user does not accept messages from you")
}

/// The answer to a non-member acting in a group.
pub fn not_a_member() -> AppError {
    AppError::forbidden("You are not a member of this group")
}

/// An active group the caller administers; 403 otherwise.
pub async fn admin_group(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
) -> Result<Group, AppError> {
    let group = member_group(ctx, caller, id).await?;
    if group.is_admin(caller.id) {
        Ok(group)
    } else {
        Err(AppError::forbidden("Only group admins can do this"))
    }
}

/// The user must exist (a 404 names who is missing).
pub async fn existing_user(ctx: &AppContext, id: UserId, role: &str) -> Result<(), AppError> {
    live_user(ctx, id, role).await.map(|_| ())
}

/// The account `id` if it exists and was not deleted (a tombstone is "not found" alike).
pub async fn live_user(ctx: &AppContext, id: UserId, role: &str) -> Result<UserRecord, AppError> {
    ctx.store
        .find_user_by_id(id)
        .await?
        .filter(|user| !user.is_deleted())
        .ok_or_else(|| AppError::not_found(format!("{role} not found")))
}

/// Whether two users have a private conversation (a message either way) or an active group in
/// common: presence and typing indicators are for such contacts only.
pub async fn shares_a_conversation(
    ctx: &AppContext,
    a: UserId,
    b: UserId,
) -> Result<bool, AppError> {
    if ctx.store.count_room_messages(&Room::private(a, b)).await? > 0 {
        return Ok(true);
    }
    let groups = ctx.store.groups_of_user(a).await?;
    Ok(groups.iter().any(|group| group.is_member(b)))
}

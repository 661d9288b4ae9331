//! Groups: the creator is member and admin; admins manage; members may leave; the last admin may
//! not leave without handing the role over.

use std::collections::HashSet;

use crate::{
    auth::CurrentUser,
    dto::{
        chat::ModifiedCount,
        groups::{CreateGroupRequest, GroupDetails, GroupSummary, GroupView, UpdateGroupRequest},
    },
    error::AppError,
    model::{search_key, Group, GroupId, GroupPatch, PublicUser, UserId},
    service::{access, rate_limit},
    store::MemberRemoval,
    AppContext,
};

pub const SEARCH_LIMIT: u32 = 20;

/// Keeps the first occurrence of each id, in order.
fn dedup(ids: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Every id must name an existing user; a 400 lists the ones that do not.
async fn ensure_users_exist(ctx: &AppContext, ids: &[UserId], field: &str) -> Result<(), AppError> {
    let found: HashSet<UserId> = ctx
        .store
        .find_users_by_ids(ids)
        .await?
        .into_iter()
        .map(|user| user.id)
        .collect();
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains(id))
        .map(|id| format!("{field}: user {id} does not exist"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(missing))
    }
}

/// Creating groups and adding members count against one per-user budget.
async fn count_group_write(ctx: &AppContext, caller: CurrentUser) -> Result<(), AppError> {
    let key = rate_limit::user_key(caller.id);
    rate_limit::check(ctx, "group-write", &key, ctx.config.group_rate_limit).await
}

/// Nobody can be put in more than `GROUPS_PER_USER_MAX` active groups (their handshake loads them
/// all, their rooms list lists them all).
async fn ensure_room_for_another_group(ctx: &AppContext, users: &[UserId]) -> Result<(), AppError> {
    let max = ctx.config.groups_per_user_max;
    for user in users {
        if ctx.store.count_groups_of_user(*user).await? >= max {
            return Err(AppError::conflict(format!(
                "user {user} is already a member of the maximum of {max} groups"
            )));
        }
    }
    Ok(())
}

pub async fn create(
    ctx: &AppContext,
    caller: CurrentUser,
    input: CreateGroupRequest,
) -> Result<GroupView, AppError> {
    count_group_write(ctx, caller).await?;
    let members = dedup(std::iter::once(caller.id).chain(input.members));
    let max = ctx.config.group_members_max;
    if members.len() > max {
        return Err(AppError::Validation(vec![format!(
            "a group has at most {max} members, you included"
        )]));
    }
    ensure_users_exist(ctx, &members, "members").await?;
    ensure_room_for_another_group(ctx, &members).await?;
    let now = crate::time::now();
    let group = Group {
        id: GroupId::new(),
        group_name: input.group_name.trim().to_owned(),
        group_description: input.group_description,
        group_avatar: input.group_avatar,
        created_by: caller.id,
        members,
        admins: vec![caller.id],
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    ctx.store.insert_group(group.clone()).await?;
    Ok(group.into())
}

pub async fn details(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
) -> Result<GroupDetails, AppError> {
    let group = access::member_group(ctx, caller, id).await?;
    let users = ctx.store.find_users_by_ids(&group.members).await?;
    let member_profiles = group
        .members
        .iter()
        .filter_map(|member| users.iter().find(|user| user.id == *member))
        .map(PublicUser::from)
        .collect();
    Ok(GroupDetails {
        group: group.into(),
        member_profiles,
    })
}

pub async fn update(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
    input: UpdateGroupRequest,
) -> Result<GroupView, AppError> {
    let group = access::admin_group(ctx, caller, id).await?;
    let patch = GroupPatch {
        group_name: input.group_name.map(|name| name.trim().to_owned()),
        group_description: input.group_description,
        group_avatar: input.group_avatar,
    };
    let mut group = if patch == GroupPatch::default() {
        group
    } else {
        ctx.store
            .update_group(id, patch, crate::time::now())
            .await?
            .ok_or_else(|| AppError::not_found("Group not found"))?
    };
    if let Some(admins) = input.admins {
        if let Some(outsider) = admins.iter().find(|admin| !group.is_member(**admin)) {
            return Err(AppError::Validation(vec![format!(
                "admins: user {outsider} is not a member of this group"
            )]));
        }
        // Admins keep the members' joining order, whatever order they were listed in.
        let admins: Vec<UserId> = group
            .members
            .iter()
            .filter(|member| admins.contains(member))
            .copied()
            .collect();
        group = ctx
            .store
            .set_group_admins(id, &admins, crate::time::now())
            .await?
            .ok_or_else(|| AppError::not_found("Group not found"))?;
    }
    Ok(group.into())
}

pub async fn add_member(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
    user: UserId,
) -> Result<GroupView, AppError> {
    count_group_write(ctx, caller).await?;
    let group = access::admin_group(ctx, caller, id).await?;
    if group.is_member(user) {
        return Err(AppError::conflict("User is already a member of this group"));
    }
    let max = ctx.config.group_members_max;
    if group.members.len() >= max {
        return Err(AppError::conflict(format!(
            "a group has at most {max} members"
        )));
    }
    access::existing_user(ctx, user, "User").await?;
    ensure_room_for_another_group(ctx, &[user]).await?;
    let group = ctx
        .store
        .add_group_member(id, user, crate::time::now())
        .await?
        .ok_or_else(|| AppError::not_found("Group not found"))?;
    Ok(group.into())
}

/// Admins remove anyone; a member may remove themself; the last admin cannot leave.
pub async fn remove_member(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
    user: UserId,
) -> Result<GroupView, AppError> {
    if user == caller.id {
        access::member_group(ctx, caller, id).await?;
    } else {
        access::admin_group(ctx, caller, id).await?;
    }
    match ctx
        .store
        .remove_group_member(id, user, crate::time::now())
        .await?
    {
        MemberRemoval::Removed(group) => Ok(group.into()),
        MemberRemoval::NotMember => Err(AppError::not_found("User is not a member of this group")),
        MemberRemoval::LastAdmin => Err(AppError::conflict(
            "The last admin cannot leave: make another member admin first",
        )),
        MemberRemoval::NoGroup => Err(AppError::not_found("Group not found")),
    }
}

pub async fn deactivate(
    ctx: &AppContext,
    caller: CurrentUser,
    id: GroupId,
) -> Result<(), AppError> {
    access::admin_group(ctx, caller, id).await?;
    ctx.store.deactivate_group(id, crate::time::now()).await?;
    Ok(())
}

pub async fn of_user(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
) -> Result<Vec<GroupView>, AppError> {
    access::ensure_self(caller, user_id)?;
    let groups = ctx.store.groups_of_user(caller.id).await?;
    Ok(groups.into_iter().map(GroupView::from).collect())
}

pub async fn search(
    ctx: &AppContext,
    caller: CurrentUser,
    query: &str,
) -> Result<Vec<GroupSummary>, AppError> {
    let key = rate_limit::user_key(caller.id);
    rate_limit::check(
        ctx,
        "group-search",
        &key,
        ctx.config.group_search_rate_limit,
    )
    .await?;
    let needle = search_key(query.trim());
    if needle.is_empty() {
        return Err(AppError::Validation(vec![
            "q must be 1 to 100 characters".into()
        ]));
    }
    let groups = ctx.store.search_groups(&needle, SEARCH_LIMIT).await?;
    Ok(groups.iter().map(GroupSummary::from).collect())
}

/// `PUT /chat/group/{groupId}/read`: every message of the group from someone else that the caller
/// has not read becomes read by them (members only); their senders hear `messageStatus` as for a
/// single READ, and the caller's unread count for the group drops to zero.
pub async fn mark_read(
    ctx: &AppContext,
    caller: CurrentUser,
    group_id: GroupId,
) -> Result<ModifiedCount, AppError> {
    access::member_group(ctx, caller, group_id).await?;
    let modified_count = ctx
        .store
        .mark_group_read(group_id, caller.id, crate::time::now())
        .await?;
    Ok(ModifiedCount { modified_count })
}

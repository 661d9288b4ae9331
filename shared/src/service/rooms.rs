//! The rooms lists: a user's conversations with their latest message and unread count, private
//! (`GET /chat/rooms/:userId`) and group (`GET /chat/group-rooms/:userId`). Latest messages and
//! counts are computed by the database. Both take `limit`/`before` for a page at a time.

use crate::{
    auth::CurrentUser,
    dto::{
        chat::{GroupRoom, PrivateRoom, RoomsQuery},
        groups::GroupSummary,
    },
    error::AppError,
    model::{GroupId, PublicUser, Room, UserId},
    service::{access, notifications},
    AppContext,
};

/// The caller's private conversations: partner, latest message, unread count; newest first. Only
/// the page's rooms are dressed with their partner.
pub async fn private(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    page: &RoomsQuery,
) -> Result<Vec<PrivateRoom>, AppError> {
    access::ensure_self(caller, user_id)?;
    let summaries = ctx.store.private_rooms(caller.id, page.window()).await?;
    let muted = notifications::muted_rooms(ctx, caller.id).await?;
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
    let partners: std::collections::HashMap<UserId, _> = ctx
        .store
        .find_users_by_ids(&partner_ids)
        .await?
        .into_iter()
        .map(|user| (user.id, user))
        .collect();
    Ok(summaries
        .into_iter()
        .filter_map(|room| {
            let partner_id = partner_of(room.latest.sender, room.latest.receiver)?;
            let partner = partners.get(&partner_id)?;
            Some(PrivateRoom {
                chat_room_id: room.chat_room_id,
                partner: PublicUser::from(partner),
                muted: muted.contains_key(&room.chat_room_id),
                last_message: room.latest,
                unread_count: room.unread,
            })
        })
        .collect())
}

/// Every active group of the caller with its latest message and unread count, most recent
/// activity first (a group's creation counts as activity when it has no messages).
pub async fn groups(
    ctx: &AppContext,
    caller: CurrentUser,
    user_id: UserId,
    page: &RoomsQuery,
) -> Result<Vec<GroupRoom>, AppError> {
    access::ensure_self(caller, user_id)?;
    let groups = ctx.store.groups_of_user(caller.id).await?;
    let ids: Vec<GroupId> = groups.iter().map(|group| group.id).collect();
    let summaries = ctx.store.group_rooms(caller.id, &ids).await?;
    let muted = notifications::muted_rooms(ctx, caller.id).await?;
    let rooms: Vec<GroupRoom> = groups
        .iter()
        .map(|group| {
            let summary = summaries
                .iter()
                .find(|summary| summary.latest.group_id == Some(group.id));
            GroupRoom {
                chat_room_id: Room::Group(group.id),
                group: GroupSummary::from(group),
                last_message: summary.map(|summary| summary.latest.clone()),
                unread_count: summary.map_or(0, |summary| summary.unread),
                muted: muted.contains_key(&Room::Group(group.id)),
            }
        })
        .collect();
    let activity = |room: &GroupRoom| {
        room.last_message
            .as_ref()
            .map_or(room.group.created_at, |message| message.created_at)
    };
    Ok(page
        .window()
        .of(rooms, activity, |room| room.chat_room_id.to_string()))
}
